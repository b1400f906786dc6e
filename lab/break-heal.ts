// `meshpilot lab break|heal KIND …`: every fault and drift the lab can simulate, injected into a live lab on purpose
// so an operator can rehearse what meshpilot says about it — and taken out again. Scenarios (lab/scenarios.ts) set
// faults when a lab is created; these set and clear the same facts at any time. Each heal undoes exactly what its
// break did; a break of something already broken and a heal of something not broken are refused.
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  ageMeshCerts,
  agedMeshCerts,
  brokenHubbleRelays,
  breakHubbleRelay,
  clearPendingRelease,
  disableWireguardOnNode,
  disconnectedPeers,
  disconnectPeer,
  editedPolicies,
  editPolicy,
  enableWireguardOnNode,
  exhaustedPools,
  exhaustPool,
  healHubbleRelay,
  leaveReleasePending,
  makeNodeReachable,
  makeNodeUnreachable,
  pendingReleases,
  reconnectPeer,
  releasePool,
  restoreEtcdPeer,
  restoreMeshCerts,
  restorePolicy,
  slowEtcdPeer,
} from './drift.ts';
import { makeToolsFlaky, makeToolsSteady, pinCpExcludeLabel, unpinCpExcludeLabel } from './kube/faults.ts';
import { getRelease } from './kube/releases.ts';
import { getObj, listObjs } from './kube/store.ts';
import { readLabState, withLabState, type LabNode, type LabState } from './state.ts';

/** The arguments a fault kind takes, by the name the CLI shows and errors use. */
export type FaultArgName = 'CLUSTER' | 'PEER' | 'NODE' | 'POLICY';

export interface FaultOption {
  flag: '--every' | '--extra-ms' | '--days';
  default: number;
  min: number;
  help: string;
}

/** The arguments once resolved against the lab: names that exist, a node by its record. */
export interface FaultTarget {
  cluster?: string;
  peer?: string;
  node?: LabNode;
  policy?: { namespace: string; name: string };
}

export interface LabFaultKind {
  kind: string;
  args: readonly FaultArgName[];
  option?: FaultOption;
  /** what goes wrong in the simulated world, in one sentence */
  simulates: string;
  /** which meshpilot command shows it, and what it says */
  shownBy: readonly string[];
  /** what the lab must already have for the break to mean anything (checked before breaking) */
  needs?: (state: LabState, t: FaultTarget) => string | undefined;
  break(labDir: string, t: FaultTarget, option?: number): Promise<void>;
  heal(labDir: string, t: FaultTarget): Promise<void>;
  /** the argument lists broken now (nodes by name), read from the lab's state */
  active(state: LabState): string[][];
}

/** Bad input to `lab break|heal`: `argument` is what the person typed wrong (KIND, CLUSTER, NODE, --every, …). */
export class LabFaultInputError extends Error {
  override name = 'LabFaultInputError';
  constructor(
    readonly argument: string,
    readonly problem: string,
  ) {
    super(`${argument}: ${problem}`);
  }
}

/** The lab is not in a state where this break or heal applies (already broken, not broken, nothing to break yet). */
export class LabFaultStateError extends Error {
  override name = 'LabFaultStateError';
  constructor(
    message: string,
    /** what to run next, when there is something */
    readonly hint?: string,
  ) {
    super(message);
  }
}

const nodeName = (state: LabState, address: string) => state.nodes[address]?.name ?? address;
const policyText = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
const flakyEvery = (s: LabState) => s.faults.flakyEvery as number | undefined;

export const LAB_FAULTS: readonly LabFaultKind[] = [
  {
    kind: 'peer-disconnect',
    args: ['CLUSTER', 'PEER'],
    simulates: "a `helm upgrade` with stale values drops PEER from CLUSTER's clustermesh config: the two clusters disconnect",
    shownBy: ['verify: clustermesh-status and global-canary fail on both clusters', 'rollout FILE converges it again (the remediation verify offers)'],
    break: (dir, t) => disconnectPeer(dir, t.cluster!, t.peer!),
    heal: (dir, t) => reconnectPeer(dir, t.cluster!, t.peer!),
    active: (s) => disconnectedPeers(s),
  },
  {
    kind: 'pool-exhausted',
    args: ['CLUSTER'],
    simulates: "tenants' LoadBalancer Services take every free address of CLUSTER's LB-IPAM pools",
    shownBy: ['verify: lb-pool fails and names the Services holding the addresses', 'a new LoadBalancer Service stays <pending> (out_of_ips)'],
    needs: (s, t) =>
      listObjs(s.clusters[t.cluster!]!, 'CiliumLoadBalancerIPPool').length
        ? undefined
        : `${t.cluster} has no LB pool yet (roll the mesh out first; a pool used up before the rollout is the lb-pending scenario)`,
    break: async (dir, t) => void (await exhaustPool(dir, t.cluster!)),
    heal: (dir, t) => releasePool(dir, t.cluster!),
    active: (s) => exhaustedPools(s).map((c) => [c]),
  },
  {
    kind: 'wireguard-off',
    args: ['NODE'],
    simulates: "NODE's Cilium agent runs without WireGuard (a per-node config override, a kernel without the module): its traffic leaves unencrypted",
    shownBy: ["verify: wireguard fails on the node's cluster, naming the node"],
    break: (dir, t) => disableWireguardOnNode(dir, t.node!.name),
    heal: (dir, t) => enableWireguardOnNode(dir, t.node!.name),
    active: (s) => ((s.faults.wireguardOffNodes as string[] | undefined) ?? []).map((n) => [n]),
  },
  {
    kind: 'hubble-relay-down',
    args: ['CLUSTER'],
    simulates: "CLUSTER's hubble-relay crash-loops (a bad TLS secret, OOM): the Deployment stays, no replica is ready",
    shownBy: ['verify: hubble-relay fails where strict cross-cluster policies are enforced (else warns)'],
    needs: (s, t) => (getObj(s.clusters[t.cluster!]!, 'apps/v1', 'Deployment', 'kube-system', 'hubble-relay') ? undefined : `${t.cluster} has no hubble-relay yet (roll the mesh out first)`),
    break: (dir, t) => breakHubbleRelay(dir, t.cluster!),
    heal: (dir, t) => healHubbleRelay(dir, t.cluster!),
    active: (s) => brokenHubbleRelays(s).map((c) => [c]),
  },
  {
    kind: 'certs-expiring',
    args: ['CLUSTER'],
    option: { flag: '--days', default: 10, min: 0, help: 'days until the certificates expire (0: already expired)' },
    simulates: "CLUSTER's ClusterMesh certificates were issued by the chart about three years ago and never renewed: they expire in DAYS (default 10; 0 = expired, the mesh breaks)",
    shownBy: ['verify: clustermesh-certs fails on CLUSTER, with `meshpilot rotate certs` as the hint', 'rotate certs FILE renews them (every helm upgrade re-issues them)'],
    needs: (s, t) =>
      getObj(s.clusters[t.cluster!]!, 'v1', 'Secret', 'kube-system', 'clustermesh-apiserver-server-cert') ? undefined : `${t.cluster} has no ClusterMesh certificates yet (roll the mesh out first)`,
    break: (dir, t, days) => ageMeshCerts(dir, t.cluster!, days ?? 10),
    heal: (dir, t) => restoreMeshCerts(dir, t.cluster!),
    active: (s) => agedMeshCerts(s).map((c) => [c]),
  },
  {
    kind: 'policy-edited',
    args: ['CLUSTER', 'POLICY'],
    simulates: 'the CiliumNetworkPolicy POLICY (NAMESPACE/NAME) is hot-fixed in CLUSTER only (`kubectl edit`: one more allowed source)',
    shownBy: ['verify: policy-consistency fails (the policy differs between clusters)'],
    break: (dir, t) => editPolicy(dir, t.cluster!, t.policy!),
    heal: (dir, t) => restorePolicy(dir, t.cluster!, t.policy!),
    active: (s) => editedPolicies(s),
  },
  {
    kind: 'etcd-slow',
    args: ['NODE'],
    option: { flag: '--extra-ms', default: 25, min: 1, help: 'extra round trip (ms) on the control-plane node’s etcd peer links' },
    simulates: "a degraded link to control-plane NODE: its etcd peer round trips grow (default +25 ms) past the 10 ms budget",
    shownBy: ['verify: etcd-latency fails on its cluster', 'a rollout on the lab (rollout FILE --lab) pauses at etcd-latency (a gate: override it, or heal and resume)'],
    needs: (s) => {
      const slow = s.faults.slowEtcdMember as { address: string; extraRttMs: number } | undefined;
      return slow ? `${nodeName(s, slow.address)} is already slow (+${slow.extraRttMs} ms): the lab slows one member at a time (heal it first)` : undefined;
    },
    break: (dir, t, extraMs) => slowEtcdPeer(dir, t.node!.address, extraMs ?? 25),
    heal: (dir, t) => restoreEtcdPeer(dir, t.node!.address),
    active: (s) => {
      const slow = s.faults.slowEtcdMember as { address: string } | undefined;
      return slow ? [[nodeName(s, slow.address)]] : [];
    },
  },
  {
    kind: 'node-unreachable',
    args: ['NODE'],
    simulates: 'NODE stops answering (a pulled cable, a switch port shut): the Talos API, its BMC power-on and its etcd metrics go quiet',
    shownBy: ['a rollout on the lab (rollout FILE --lab) pauses at boot naming the node (heal, then resume)', 'verify: etcd-latency fails when NODE is a control plane'],
    break: (dir, t) => makeNodeUnreachable(dir, t.node!.address),
    heal: (dir, t) => makeNodeReachable(dir, t.node!.address),
    active: (s) => ((s.faults.unreachableNodes as string[] | undefined) ?? []).map((a) => [nodeName(s, a)]),
  },
  {
    kind: 'flaky-tools',
    args: [],
    option: { flag: '--every', default: 4, min: 2, help: 'every Nth call of each tool fails' },
    simulates: "every Nth call of talosctl, helm, kubectl and cilium fails with that tool's own transient network error (default every 4th)",
    shownBy: ['lab calls: the failed calls, marked !', 'a rollout still completes: transient failures are retried'],
    break: (dir, _t, every) => withLabState(dir, (s) => makeToolsFlaky(s, every ?? 4)),
    heal: (dir) => withLabState(dir, (s) => makeToolsSteady(s)),
    active: (s) => (flakyEvery(s) ? [[]] : []),
  },
  {
    kind: 'helm-pending',
    args: ['CLUSTER'],
    simulates: "an interrupted `helm upgrade` leaves CLUSTER's cilium release pending-upgrade: the next upgrade is refused (another operation is in progress)",
    shownBy: ['verify: cilium-version fails (the release is not deployed)', 'a rollout recovers it at cilium-install (rolls the pending revision back)'],
    needs: (s, t) => (getRelease(s.clusters[t.cluster!]!, 'kube-system', 'cilium') ? undefined : `${t.cluster} has no cilium release yet (roll the mesh out first; a release left pending before the first install is the helm-stuck-pending scenario)`),
    break: (dir, t) => leaveReleasePending(dir, t.cluster!),
    heal: (dir, t) => clearPendingRelease(dir, t.cluster!),
    active: (s) => pendingReleases(s).map((c) => [c]),
  },
  {
    kind: 'lb-excluded',
    args: [],
    simulates: "control-plane nodes keep Talos' node.kubernetes.io/exclude-from-external-load-balancers label: they never announce LB IPs, and nothing errors",
    shownBy: ['a rollout of clusters whose nodes are all control planes pauses at lb-ipam naming the label (where workers exist, as in the seed, they announce and nothing shows)'],
    break: (dir) => withLabState(dir, (s) => pinCpExcludeLabel(s)),
    heal: (dir) => withLabState(dir, (s) => unpinCpExcludeLabel(s)),
    active: (s) => (s.faults.keepCpExcludeLabel ? [[]] : []),
  },
];

export function faultKind(kind: string): LabFaultKind {
  const k = LAB_FAULTS.find((f) => f.kind === kind);
  if (!k) throw new LabFaultInputError('KIND', `unknown fault ${JSON.stringify(kind)}; one of: ${LAB_FAULTS.map((f) => f.kind).join(', ')}`);
  return k;
}

export const usageOf = (k: LabFaultKind) => [k.kind, ...k.args, ...(k.option ? [`[${k.option.flag} N]`] : [])].join(' ');

function resolveNode(state: LabState, arg: string, text: string): LabNode {
  const n = state.nodes[text] ?? Object.values(state.nodes).find((x) => x.name === text);
  if (!n) throw new LabFaultInputError(arg, `no node ${JSON.stringify(text)} in the lab (nodes: ${Object.values(state.nodes).map((x) => x.name).join(', ')})`);
  return n;
}

function resolveCluster(state: LabState, arg: string, text: string): string {
  if (!state.clusters[text]) throw new LabFaultInputError(arg, `no cluster ${JSON.stringify(text)} in the lab (clusters: ${Object.keys(state.clusters).join(', ')})`);
  return text;
}

/** Checks the arguments against the kind and the lab (names that exist) and resolves them. */
export function resolveTarget(state: LabState, k: LabFaultKind, argv: readonly string[]): FaultTarget {
  if (argv.length < k.args.length) throw new LabFaultInputError(k.args[argv.length]!, `missing (usage: ${usageOf(k)})`);
  if (argv.length > k.args.length) throw new LabFaultInputError(JSON.stringify(argv[k.args.length]), `${k.kind} takes ${k.args.length ? k.args.join(' ') : 'no arguments'} (usage: ${usageOf(k)})`);
  const t: FaultTarget = {};
  k.args.forEach((arg, i) => {
    const text = argv[i]!;
    if (arg === 'CLUSTER') t.cluster = resolveCluster(state, arg, text);
    else if (arg === 'PEER') {
      t.peer = resolveCluster(state, arg, text);
      if (t.peer === t.cluster) throw new LabFaultInputError(arg, `${text} is CLUSTER itself; name the other cluster of the pair`);
    } else if (arg === 'NODE') t.node = resolveNode(state, arg, text);
    else {
      const [namespace, name, extra] = text.split('/');
      if (!namespace || !name || extra !== undefined) throw new LabFaultInputError(arg, `${JSON.stringify(text)} is not NAMESPACE/NAME`);
      const have = listObjs(state.clusters[t.cluster!]!, 'CiliumNetworkPolicy').map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      if (!have.includes(text)) throw new LabFaultInputError(arg, `no CiliumNetworkPolicy ${text} in ${t.cluster} (policies: ${have.join(', ') || 'none'})`);
      t.policy = { namespace, name };
    }
  });
  if (k.kind === 'etcd-slow' && t.node!.role !== 'controlplane') throw new LabFaultInputError('NODE', `${t.node!.name} is a worker: etcd runs on control-plane nodes only`);
  return t;
}

/** The target as the lab lists it in `active` (nodes by name), to compare with what is broken. */
function targetKey(k: LabFaultKind, t: FaultTarget): string {
  return JSON.stringify(
    k.args.map((a) => (a === 'CLUSTER' ? t.cluster : a === 'PEER' ? t.peer : a === 'NODE' ? t.node!.name : policyText(t.policy!))),
  );
}

function checkOption(k: LabFaultKind, option: { flag: string; value: number } | undefined): number | undefined {
  if (!option) return k.option?.default;
  if (!k.option || k.option.flag !== option.flag) throw new LabFaultInputError(option.flag, `${k.kind} does not take ${option.flag}`);
  if (!Number.isInteger(option.value) || option.value < k.option.min) throw new LabFaultInputError(option.flag, `expected a whole number ≥ ${k.option.min}`);
  return option.value;
}

/** The lab the commands act on must exist (a rollout with --lab, or lab init, creates it). */
export function readExistingLab(labDir: string): LabState {
  if (!existsSync(path.join(labDir, 'state.json'))) {
    throw new LabFaultStateError(`no lab at ${labDir}: start one with \`meshpilot rollout FILE --lab happy\` or \`meshpilot lab init FILE\``);
  }
  return readLabState(labDir);
}

export interface BreakResult {
  kind: string;
  args: string[];
  option?: number;
}

export async function breakFault(labDir: string, kind: string, argv: readonly string[], option?: { flag: string; value: number }): Promise<BreakResult> {
  const k = faultKind(kind);
  const state = readExistingLab(labDir);
  const t = resolveTarget(state, k, argv);
  const value = checkOption(k, option);
  if (k.active(state).some((a) => JSON.stringify(a) === targetKey(k, t))) {
    throw new LabFaultStateError(`${[kind, ...argv].join(' ')} is already broken`, `meshpilot lab heal ${[kind, ...argv].join(' ')}`);
  }
  const missing = k.needs?.(state, t);
  if (missing) throw new LabFaultStateError(`${kind}: ${missing}`);
  await k.break(labDir, t, value);
  return { kind, args: [...argv], ...(k.option ? { option: value } : {}) };
}

export async function healFault(labDir: string, kind: string, argv: readonly string[]): Promise<BreakResult> {
  const k = faultKind(kind);
  const state = readExistingLab(labDir);
  const t = resolveTarget(state, k, argv);
  const broken = k.active(state);
  if (!broken.some((a) => JSON.stringify(a) === targetKey(k, t))) {
    const now = broken.map((a) => [kind, ...a].join(' ')).join('; ');
    throw new LabFaultStateError(`${[kind, ...argv].join(' ')} is not broken${now ? ` (broken now: ${now})` : ''}`, 'meshpilot lab faults lists what is broken now');
  }
  await k.heal(labDir, t);
  return { kind, args: [...argv] };
}

/** Everything broken in the lab now, as `KIND ARGS…` lines a heal takes back. */
export function activeFaults(state: LabState): Array<{ kind: string; args: string[] }> {
  return LAB_FAULTS.flatMap((k) => k.active(state).map((args) => ({ kind: k.kind, args })));
}
