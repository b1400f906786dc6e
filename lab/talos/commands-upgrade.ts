import { randomUUID } from 'node:crypto';
import { readLabState, withLabState, type LabNode, type LabState } from '../state.ts';
import type { ToolIO } from '../tools/io.ts';
import { parseDuration, type ParsedCommand } from './cli.ts';
import { onNode } from './commands-node.ts';
import { connect, dialError, resolveTarget, TalosctlError, type Target } from './connect.ts';
import { TALOS_VERSION } from './machine-config.ts';
import { nodeRecord } from './node-record.ts';
import { rpc } from './rpc-errors.ts';
import { effectiveStage, hasEtcdMembership, isEtcdHealthy, settleTalosState } from './stages.ts';
import { TALOS_TIMING } from './timing.ts';
import { controlPlaneVersionOf, imageTag, kubeletVersionOf, nodeVersions, setControlPlaneVersion, talosVersionOf, updateNodeVersions } from './versions.ts';

/**
 * Day-two talosctl commands: `upgrade`, `upgrade-k8s` and `etcd status` (siderolabs/talos@v1.9.5
 * cmd/talosctl/cmd/talos/{upgrade,upgrade-k8s,etcd}.go, the tracker in cmd/talosctl/pkg/talos/action/, the server
 * side in internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go Upgrade and internal/pkg/etcd/etcd.go
 * ValidateForUpgrade, pkg/cluster/kubernetes/talos_managed.go for upgrade-k8s).
 */

const semverOf = (v: string) => v.replace(/^v/, '');

/** Go's tabwriter with padding 3: every tab-terminated cell is padded to its column's width. */
function tabwrite(lines: string[][], lastCellTerminated: boolean[]): string {
  const widths: number[] = [];
  lines.forEach((cells, li) => cells.forEach((c, i) => {
    if (i < cells.length - 1 || lastCellTerminated[li]) widths[i] = Math.max(widths[i] ?? 0, c.length);
  }));
  return lines
    .map((cells, li) => cells.map((c, i) => (i < cells.length - 1 || lastCellTerminated[li] ? c.padEnd(widths[i]! + 3) : c)).join(''))
    .join('\n') + '\n';
}

/** Go's time.Time String() as talosctl prints `time.Now()` (with the monotonic clock reading). */
function goTimeNow(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = `${p(d.getUTCMilliseconds(), 3)}${p(Math.floor(Math.random() * 1e6), 6)}`;
  const mono = (process.uptime() % 1000).toFixed(9);
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${frac} +0000 UTC m=+${mono}`;
}

const cmp = (a: string, b: string) => {
  const x = semverOf(a).split('.').map(Number);
  const y = semverOf(b).split('.').map(Number);
  return (x[0]! - y[0]!) || (x[1]! - y[1]!) || (x[2]! - y[2]!);
};

/**
 * cmd/talosctl/pkg/talos/helpers/checks.go ClientVersionCheck: a server older than the client gets a warning on
 * stderr (the call goes on).
 */
function versionWarning(state: LabState, t: Target, nodes: string[]): string | undefined {
  const now = Date.now();
  const older = nodes
    .map((a) => state.nodes[a])
    // ClientVersionCheck ignores the nodes that do not answer
    .filter((n): n is LabNode => n !== undefined && dialError(state, n.address, { ...t, node: n.address }, now) === undefined)
    .filter((n) => cmp(talosVersionOf(state, n), TALOS_VERSION) < 0)
    .map((n) => `${n.address}: server version ${semverOf(talosVersionOf(state, n))} is older than client version ${semverOf(TALOS_VERSION)}`);
  return older.length ? `WARNING: ${older.join(', ')}\n` : undefined;
}

/** etcd members of the node's cluster: every control plane that joined, running or not. */
const members = (state: LabState, cluster: string) => Object.values(state.nodes).filter((n) => n.cluster === cluster && hasEtcdMembership(state, n));

/** internal/pkg/etcd/etcd.go ValidateForUpgrade, as the Upgrade API runs it on a control plane (unless --force). */
function validateEtcdForUpgrade(state: LabState, node: LabNode, now: number): string | undefined {
  const list = members(state, node.cluster);
  if (list.length === 2) return `etcd member count(${list.length}) is insufficient to maintain quorum if upgrade commences`;
  for (const m of list) {
    if (!isEtcdHealthy(state, m, now)) {
      // validateMemberHealth's quorum read against a member that does not answer [inference: clientv3 deadline text]
      return `etcd member ${m.etcdMemberId!.padStart(16, '0')} is not healthy; all members must be healthy to perform an upgrade: context deadline exceeded`;
    }
  }
  return undefined;
}

/**
 * The Upgrade API on one node: validates the installer image, the etcd cluster (control planes, unless --force),
 * then starts the upgrade sequence: the node installs the image, reboots and comes back running its version.
 */
function acceptUpgrade(state: LabState, node: LabNode, image: string, force: boolean, now: number): void {
  const version = imageTag(image);
  if (!version) {
    // install.PullAndValidateInstallerImage: the lab knows an installer by its version tag [inference: containerd's pull error text]
    throw new TalosctlError(`error performing upgrade: ${rpc('Unknown', `error validating installer image "${image}": failed to resolve reference "${image}": not found`)}`);
  }
  if (nodeRecord(state, node.address)?.machineType !== 'worker' && !force) {
    const why = validateEtcdForUpgrade(state, node, now);
    if (why) throw new TalosctlError(`error performing upgrade: ${rpc('Unknown', `error validating etcd for upgrade: ${why}`)}`);
  }
  const { stage } = effectiveStage(state, node, now);
  updateNodeVersions(state, node.address, (v) => {
    v.upgrades += 1;
    // a second request while one runs is acknowledged, and the sequencer refuses it (runtime.ErrLocked, logged only)
    if (stage === 'upgrading' || stage === 'rebooting') return;
    v.pendingTalos = version.startsWith('v') ? version : `v${version}`;
    v.pendingImage = image;
  });
  if (stage === 'running') {
    node.stage = 'upgrading';
    node.stageSince = now;
  }
}

/** cmd/talosctl/cmd/talos/upgrade.go */
export async function upgrade(io: ToolIO, p: ParsedCommand): Promise<number> {
  const debug = p.flags.debug === true;
  const wait = p.flags.wait !== false || debug;
  const insecure = p.flags.insecure === true;
  if (wait && insecure) throw new TalosctlError('cannot use --wait and --insecure together');
  const mode = String(p.flags['reboot-mode']);
  if (!['DEFAULT', 'POWERCYCLE'].includes(mode.toUpperCase())) throw new TalosctlError(`invalid reboot mode: ${mode}`);
  if (insecure) throw new TalosctlError('meshpilot lab: "talosctl upgrade --insecure" (a node in maintenance mode) is a real talosctl command the lab does not simulate');
  if (p.flags.stage === true) throw new TalosctlError('meshpilot lab: "talosctl upgrade --stage" is a real talosctl command the lab does not simulate');
  const image = String(p.flags.image);
  const force = p.flags.force === true;
  const t = resolveTarget(p, io.env, false);
  const nodes = ((p.flags.nodes as string[] | undefined) ?? []).length ? (p.flags.nodes as string[]) : [t.node];
  const warn = versionWarning(readLabState(io.labDir), t, nodes);
  if (!wait) {
    const rows: string[][] = [['NODE', 'ACK', 'STARTED']];
    for (const n of nodes) {
      // runUpgradeNoWait: a failed call is "error performing upgrade: <err>"
      await onNode(io, { ...t, node: n }, (e) => `error performing upgrade: ${e}`, (state, node, now) => acceptUpgrade(state, node, image, force, now));
      rows.push([n, 'Upgrade request received', goTimeNow()]);
    }
    if (warn) io.err(warn);
    io.out(tabwrite(rows, rows.map((_, i) => i > 0)));
    return 0;
  }
  return track(io, t, nodes, image, force, warn, parseDuration(String(p.flags.timeout)));
}

/**
 * `--wait`: the action tracker (cmd/talosctl/pkg/talos/action/tracker.go, node.go). Without a terminal it prints
 * each node's updates on stderr as `"<node>": <message>`; a node that does not come back fails the tracker when
 * its timeout runs out (the lab caps it at TALOS_TIMING.upgradeMaxWaitMs), with the errors it retried on.
 */
async function track(io: ToolIO, t: Target, nodes: string[], image: string, force: boolean, warn: string | undefined, timeoutMs: number): Promise<number> {
  if (warn) io.err(warn);
  const say = (n: string, m: string) => io.err(`${JSON.stringify(n)}: ${m}\n`);
  let failed = false;
  for (const n of nodes) {
    say(n, 'waiting for actor ID');
    try {
      await onNode(io, { ...t, node: n }, (e) => e, (state, node, now) => acceptUpgrade(state, node, image, force, now));
    } catch (err) {
      if (!(err instanceof TalosctlError)) throw err;
      say(n, err.message.replace(/^error performing upgrade: /, ''));
      failed = true;
      continue;
    }
    say(n, `actor ID: ${randomUUID()}`);
    say(n, 'task: stopAllServices action: START');
    const deadline = Date.now() + Math.min(timeoutMs, TALOS_TIMING.upgradeMaxWaitMs);
    let down = '';
    for (;;) {
      const back = await withLabState(io.labDir, (state) => {
        const now = Date.now();
        settleTalosState(state, now);
        const why = dialError(state, n, { ...t, node: n }, now);
        if (why) return { why };
        const node = state.nodes[n]!;
        return { back: effectiveStage(state, node, now).stage === 'running' && !nodeVersions(state, n).pendingTalos };
      });
      if ('why' in back && back.why) {
        if (!down) say(n, 'unavailable, retrying...');
        down = back.why;
      } else if ('back' in back && back.back) break;
      if (Date.now() >= deadline) {
        say(n, down ? `2 error(s) occurred:\n\t${down}\n\ttimeout` : '1 error(s) occurred:\n\ttimeout');
        failed = true;
        break;
      }
      await new Promise((r) => setTimeout(r, TALOS_TIMING.healthPollMs));
    }
    if (!failed) {
      say(n, 'events check condition met');
      say(n, 'post check passed');
    }
  }
  return failed ? 1 : 0;
}

/** Go's %q of a []string: ["a" "b"] */
const quoteList = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

/** go-kubernetes kubernetes/upgrade/path.go IsSupported at v0.2.17 (talosctl v1.9.5): X->X and X->X+1, 1.19 to 1.32. */
function pathSupported(from: string, to: string): boolean {
  const [fa, fb] = semverOf(from).split('.').map(Number);
  const [ta, tb] = semverOf(to).split('.').map(Number);
  if (fa !== 1 || ta !== 1) return false;
  return fb! >= 19 && tb! <= 32 && (tb === fb || tb === fb! + 1);
}

const SEMVER = /^v?\d+\.\d+\.\d+$/;

/** cmd/talosctl/cmd/talos/upgrade-k8s.go upgradeKubernetes + pkg/cluster/kubernetes/talos_managed.go Upgrade */
export async function upgradeK8s(io: ToolIO, p: ParsedCommand): Promise<number> {
  if (((p.flags.nodes as string[] | undefined) ?? []).length > 1) throw new TalosctlError('command "upgrade-k8s" is not supported with multiple nodes');
  const t = resolveTarget(p, io.env, false);
  const to = semverOf(String(p.flags.to));
  let from = semverOf(String(p.flags.from ?? ''));
  const warn = versionWarning(readLabState(io.labDir), t, [t.node]);
  if (warn) io.err(warn);
  const log = (line: string) => io.out(`${line}\n`);
  if (!from) {
    // DetectLowestVersion reads the control-plane pods' images through the Kubernetes API
    const lowest = await onNode(io, t, (e) => `error detecting the lowest Kubernetes version error building kubernetes client: ${e}`, (state, node) => {
      const versions = [controlPlaneVersionOf(state, node.cluster), ...Object.values(state.nodes).filter((n) => n.cluster === node.cluster && n.appliedConfigSha).map((n) => kubeletVersionOf(state, n))];
      return versions.reduce((a, b) => (cmp(b, a) < 0 ? b : a));
    });
    from = semverOf(lowest);
    log(`automatically detected the lowest Kubernetes version ${from}`);
  }
  if (!SEMVER.test(from)) throw new TalosctlError(`error creating upgrade path error parsing from version: Invalid character(s) found in major number "${from}"`);
  if (!SEMVER.test(to)) throw new TalosctlError(`error creating upgrade path error parsing to version: Invalid character(s) found in major number "${to}"`);
  if (!pathSupported(from, to)) {
    const mm = (v: string) => v.split('.').slice(0, 2).join('.');
    throw new TalosctlError(`unsupported upgrade path ${mm(from)}->${mm(to)} (from "${from}" to "${to}")`);
  }
  const plan = await onNode(io, t, (e) => `error building kubernetes client: ${e}`, (state, node, now) => {
    if (!state.clusters[node.cluster]?.bootstrappedAt) throw new TalosctlError(`error building kubernetes client: ${rpc('Unknown', 'failed to get kubeconfig: etcd is not bootstrapped')}`);
    const all = Object.values(state.nodes).filter((n) => n.cluster === node.cluster && n.appliedConfigSha && effectiveStage(state, n, now).stage === 'running');
    return {
      cluster: node.cluster,
      cps: all.filter((n) => n.role === 'controlplane').map((n) => n.address),
      workers: all.filter((n) => n.role === 'worker').map((n) => n.address),
      apiserver: controlPlaneVersionOf(state, node.cluster),
    };
  });
  if (!plan.cps.length) throw new TalosctlError('no controlplane nodes discovered');
  const kubelet = p.flags['upgrade-kubelet'] !== false;
  const dryRun = p.flags['dry-run'] === true;
  log(`discovered controlplane nodes ${quoteList(plan.cps)}`);
  if (kubelet) log(`discovered worker nodes ${quoteList(plan.workers)}`);
  log('checking for removed Kubernetes component flags');
  log('checking for removed Kubernetes API resource versions');
  if (p.flags['pre-pull-images'] !== false && !dryRun) {
    for (const img of ['apiserver-image', 'controller-manager-image', 'scheduler-image']) for (const n of plan.cps) log(` > ${JSON.stringify(n)}: pre-pulling ${p.flags[img]}:v${to}`);
    if (kubelet) for (const n of [...plan.cps, ...plan.workers]) log(` > ${JSON.stringify(n)}: pre-pulling ${p.flags['kubelet-image']}:v${to}`);
  }
  // every node is patched through its own Talos API: one that does not answer stops the upgrade there
  const reach = async (n: string, what: string) =>
    withLabState(io.labDir, (state) => {
      const why = dialError(state, n, { ...t, node: n }, Date.now());
      if (why) throw new TalosctlError(`${what}: error updating node ${JSON.stringify(n)}: error patching node config: ${why}`);
    });
  for (const service of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
    log(`updating ${JSON.stringify(service)} to version ${JSON.stringify(to)}`);
    for (const n of plan.cps) {
      log(` > ${JSON.stringify(n)}: starting update`);
      await reach(n, `failed updating service ${JSON.stringify(service)}`);
      if (cmp(plan.apiserver, to) !== 0) log(` > update ${service}: v${semverOf(plan.apiserver)} -> ${to}`);
      if (dryRun) {
        log(' > skipped in dry-run');
        continue;
      }
      log(` > ${JSON.stringify(n)}: machine configuration patched`);
      log(` > ${JSON.stringify(n)}: waiting for ${service} pod update`);
      log(` < ${JSON.stringify(n)}: successfully updated`);
    }
  }
  log(`updating kube-proxy to version ${JSON.stringify(to)}`);
  for (const n of plan.cps) {
    log(` > ${JSON.stringify(n)}: starting update`);
    if (dryRun) log(' > skipped in dry-run');
  }
  if (!kubelet) log('skipped updating kubelet');
  else {
    log(`updating kubelet to version ${JSON.stringify(to)}`);
    for (const n of [...plan.cps, ...plan.workers]) {
      log(` > ${JSON.stringify(n)}: starting update`);
      await reach(n, 'failed upgrading kubelet');
      const current = kubeletVersionOf(readLabState(io.labDir), readLabState(io.labDir).nodes[n]!);
      if (cmp(current, to) !== 0) log(` > update kubelet: ${semverOf(current)} -> ${to}`);
      if (dryRun) continue;
      log(` > ${JSON.stringify(n)}: machine configuration patched`);
      if (cmp(current, to) !== 0) log(` > ${JSON.stringify(n)}: waiting for kubelet restart`);
      log(` > ${JSON.stringify(n)}: waiting for node update`);
      log(` < ${JSON.stringify(n)}: successfully updated`);
    }
  }
  log('updating manifests');
  if (dryRun) return 0;
  await withLabState(io.labDir, (state) => {
    setControlPlaneVersion(state, plan.cluster, to);
    if (kubelet) for (const n of [...plan.cps, ...plan.workers]) updateNodeVersions(state, n, (v) => (v.kubelet = to));
  });
  return 0;
}

/** humanize.Bytes (SI) for the sizes the lab reports */
const humanBytes = (n: number) => (n >= 1e9 ? `${Math.round(n / 1e9)} GB` : n >= 1e6 ? `${Math.round(n / 1e6)} MB` : `${Math.round(n / 1e3)} kB`);

/**
 * cmd/talosctl/cmd/talos/etcd.go etcdStatusCmd: one row per node that answered; a node that did not is a warning
 * (pkg/machinery/client/reply.go FilterMessages, hashicorp/go-multierror's list format, pkg/cli Warning). With a
 * single node there is no aggregation: its error fails the command.
 */
export async function etcdStatus(io: ToolIO, p: ParsedCommand): Promise<number> {
  const t = resolveTarget(p, io.env, false);
  const nodes = ((p.flags.nodes as string[] | undefined) ?? []).length ? (p.flags.nodes as string[]) : [t.node];
  const out = await withLabState(io.labDir, (state) => {
    const now = Date.now();
    settleTalosState(state, now);
    try {
      connect(state, { ...t, node: t.endpoint }, now);
    } catch (err) {
      if (err instanceof TalosctlError) return { fatal: `error getting status: ${err.message}` };
      throw err;
    }
    const rows: string[][] = [];
    const errors: string[] = [];
    for (const n of nodes) {
      const why = dialError(state, n, { ...t, node: n }, now);
      const node = state.nodes[n];
      if (why || !node) {
        errors.push(`${n}: ${why ?? rpc('Unavailable', 'node not found')}`);
        continue;
      }
      if (nodeRecord(state, n)?.machineType === 'worker') {
        errors.push(`${n}: ${rpc('Unimplemented', 'etcd status is only available on control plane nodes')}`);
        continue;
      }
      // the local etcd client's status call against a member that does not answer [inference: clientv3 deadline text]
      if (!isEtcdHealthy(state, node, now)) {
        errors.push(`${n}: ${rpc('Unknown', 'failed to query etcd status: context deadline exceeded')}`);
        continue;
      }
      const healthy = members(state, node.cluster).filter((m) => isEtcdHealthy(state, m, now));
      const leader = healthy.length > members(state, node.cluster).length / 2 ? healthy.sort((a, b) => a.name.localeCompare(b.name))[0]!.etcdMemberId!.padStart(16, '0') : '0000000000000000';
      const index = 1000 + Math.floor((now - (state.clusters[node.cluster]?.bootstrappedAt ?? now)) / 100);
      rows.push([n, node.etcdMemberId!.padStart(16, '0'), humanBytes(20_480_000), `${humanBytes(10_240_000)} (50.00%)`, leader, String(index), '2', String(index), 'false', '']);
    }
    return { rows, errors };
  });
  if ('fatal' in out) throw new TalosctlError(out.fatal!);
  const { rows, errors } = out as { rows: string[][]; errors: string[] };
  if (errors.length && nodes.length === 1) throw new TalosctlError(`error getting status: ${errors[0]!.replace(/^[^:]+: /, '')}`);
  if (errors.length) {
    io.err(errors.length === 1 ? `WARNING: 1 error occurred:\n\t* ${errors[0]}\n\n` : `WARNING: ${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n\n`);
  }
  if (rows.length) {
    const header = ['NODE', 'MEMBER', 'DB SIZE', 'IN USE', 'LEADER', 'RAFT INDEX', 'RAFT TERM', 'RAFT APPLIED INDEX', 'LEARNER', 'ERRORS'];
    io.out(tabwrite([header, ...rows], [false, ...rows.map(() => false)]));
  }
  return 0;
}
