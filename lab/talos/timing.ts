/**
 * How long simulated Talos transitions take. On metal an install and reboot take minutes; the lab takes
 * fractions of a second so a 2-cluster rollout finishes in about a minute. Stages are derived from
 * `stageSince` on read (lab/talos/stages.ts), so these constants are the only clocks.
 */
export const TALOS_TIMING = {
  /** power-on (BMC) → Talos maintenance mode (or → running, for a node that already has a config) */
  bootMs: 600,
  /** apply-config in maintenance → installer done, node starts rebooting */
  installMs: 700,
  /** reboot after install → apid answers with the new PKI, stage running */
  rebootMs: 600,
  /** `talosctl upgrade` accepted → the installer has written the new image, the node starts rebooting */
  upgradeMs: 500,
  /** the last part of a reboot where nothing answers on :50000 (firmware, POST, kernel) */
  rebootDownFraction: 0.5,
  /** `talosctl health` re-checks this often while it waits */
  healthPollMs: 150,
  /** the lab's stand-in for `talosctl upgrade --timeout` (default 30m): the tracker gives up after at most this long */
  upgradeMaxWaitMs: 3_000,
  /** the lab's stand-in for `--wait-timeout` (default 20m): health gives up after at most this long */
  healthMaxWaitMs: 1_500,
} as const;
