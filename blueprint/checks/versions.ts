// The version combinations meshpilot has been verified with. Anything else is a warning (an error in strict
// mode): it may work, but nobody has checked the flags, output formats and defaults meshpilot relies on.
// Older than what the plan renders is never a warning: those versions lack the resources it applies.
import type { Blueprint } from '../schema.ts';
import type { IssuePath, IssueSink } from '../issues.ts';
import { clusterVersions, kubernetesRangeOf, minorOf, parts } from '../versions.ts';

export function talosAtLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = parts(version);
  return a > major || (a === major && b >= minor);
}

const VERIFIED_TALOS_MINORS = ['1.8', '1.9'];
const VERIFIED_CILIUM_MINOR = '1.16';
/**
 * The plan renders Cilium 1.16's objects: CiliumBGPClusterConfig/CiliumBGPPeerConfig (new in 1.16),
 * CiliumLoadBalancerIPPool spec.blocks (1.15), CiliumL2AnnouncementPolicy (1.14), and the 1.16 chart's values.
 */
const MIN_CILIUM: [number, number] = [1, 16];
const VERIFIED_CILIUM_CLI_MINOR = '0.16';

export function checkVersions(bp: Blueprint, sink: IssueSink, strict: boolean): void {
  const report = (path: IssuePath, message: string) => {
    const text = `${message}${strict ? '' : ' (an error with --strict)'}`;
    if (strict) sink.error(path, text);
    else sink.warn(path, text);
  };
  const check = (where: IssuePath, v: { talos: string; kubernetes: string; cilium: string }, own: { talos?: string; kubernetes?: string; cilium?: string }) => {
    const talosMinor = minorOf(v.talos);
    const range = VERIFIED_TALOS_MINORS.includes(talosMinor) ? kubernetesRangeOf(v.talos) : undefined;
    const [kMaj, kMin] = parts(v.kubernetes);
    if (own.talos !== undefined && !range) {
      report([...where, 'talos'], `Talos ${v.talos} is not verified with meshpilot (verified: ${VERIFIED_TALOS_MINORS.map((m) => `${m}.x`).join(', ')})`);
    } else if (range && (own.talos !== undefined || own.kubernetes !== undefined) && (kMaj !== 1 || kMin < range[0] || kMin > range[1])) {
      report([...where, 'kubernetes'], `Kubernetes ${v.kubernetes} is outside what Talos ${talosMinor} supports (1.${range[0]}-1.${range[1]})`);
    }
    const [cMaj, cMin] = parts(v.cilium);
    if (own.cilium !== undefined && (cMaj < MIN_CILIUM[0] || (cMaj === MIN_CILIUM[0] && cMin < MIN_CILIUM[1]))) {
      sink.error(
        [...where, 'cilium'],
        `Cilium ${v.cilium} is older than ${MIN_CILIUM.join('.')}, whose resources and Helm values the plan renders ` +
          `(BGP v2 CiliumBGPClusterConfig is new in 1.16, LB-IPAM pool blocks in 1.15, L2 announcements in 1.14): use ${VERIFIED_CILIUM_MINOR}.x`,
      );
    } else if (own.cilium !== undefined && minorOf(v.cilium) !== VERIFIED_CILIUM_MINOR) {
      report([...where, 'cilium'], `Cilium ${v.cilium} is not verified with meshpilot (verified: ${VERIFIED_CILIUM_MINOR}.x)`);
    }
  };
  const v = bp.versions;
  check(['versions'], v, v);
  // a cluster's own versions: judged as that cluster runs them (its overrides over the mesh-wide ones)
  bp.clusters.forEach((c, ci) => {
    if (c.versions) check(['clusters', ci, 'versions'], clusterVersions(bp, c), c.versions);
  });
  if (minorOf(v.ciliumCli) !== VERIFIED_CILIUM_CLI_MINOR) {
    report(['versions', 'ciliumCli'], `cilium-cli ${v.ciliumCli} is not verified with meshpilot (verified: v${VERIFIED_CILIUM_CLI_MINOR}.x, the line that ships with Cilium ${VERIFIED_CILIUM_MINOR})`);
  }
}
