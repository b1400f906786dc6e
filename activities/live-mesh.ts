// Composite reads of a live mesh before it changes (a join, a detach) and the global-service guard the change is
// held to. Read-only: nothing here changes a cluster.
import { z } from 'zod';
import { backendLosses, describeLoss } from '../blueprint/live-mesh.ts';
import { contains, overlaps, parseAddress, parseCidr, type IpInterval } from '../blueprint/net.ts';
import { blocked, transient } from '../contracts/failures.ts';
import type { BackendSnapshot, LiveCluster, ProbeRange, RangeHit } from '../contracts/live-mesh.ts';
import { globalServiceSources } from './cilium.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { withKubeconfig, type KubeAccess } from './kube/kubeconfig.ts';
import { getService } from './kube/lb-facts.ts';
import { ingressIps, listOf } from './kube/objects.ts';
import { callTool, classify, looksTransient, parseJson } from './kube/tool-call.ts';
import { helmArgv } from './helm/argv.ts';
import { pollWithin } from './poll.ts';
import { nodeStage } from './talos.ts';
import { kubectlGet } from './verify/verdicts.ts';

const configMapSchema = z.object({ data: z.record(z.string(), z.string()).optional() });
const valuesSchema = z.object({
  clustermesh: z
    .object({
      useAPIServer: z.boolean().optional(),
      config: z
        .object({ clusters: z.array(z.object({ name: z.string() }).passthrough()).optional() })
        .passthrough()
        .optional(),
    })
    .passthrough()
    .optional(),
});
const nodeSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z
    .object({ podCIDR: z.string().optional(), podCIDRs: z.array(z.string()).optional() })
    .passthrough()
    .default({}),
  status: z.object({ addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional() }).optional(),
});
const serviceSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z
    .object({ clusterIP: z.string().optional(), clusterIPs: z.array(z.string()).optional() })
    .passthrough()
    .default({}),
  status: z.object({ loadBalancer: z.object({ ingress: z.array(z.object({ ip: z.string().optional() })).optional() }).optional() }).optional(),
});

/** Talos stages of a node that was never installed (or was wiped): a stored kubeconfig for it is stale. */
const UNINSTALLED = new Set(['maintenance', 'booting', 'installing']);

/**
 * What one blueprint cluster is in the live world: absent (no kubeconfig), unbuilt (a stale kubeconfig, nodes in
 * maintenance), partial (Kubernetes, not yet a mesh member) or member (Cilium with its clustermesh-apiserver), with
 * the identity its agents run with and, for a member, which of `probe`'s ranges hold addresses it uses.
 */
export async function readLiveCluster(deps: ActivityDeps, i: { mesh: string; cluster: string; firstControlPlane?: string; probe: ProbeRange[] }): Promise<LiveCluster> {
  const ref = secretRefs.kubeconfig(i.mesh, i.cluster);
  const base = { cluster: i.cluster, peers: [], podCidrs: [], rangeHits: [] };
  if (!(await deps.secrets.has(ref))) return { ...base, state: 'absent', note: 'meshpilot holds no kubeconfig for it: it is built from bare metal' };
  return withKubeconfig(deps, ref, async (access) => {
    const cm = await callTool(deps, 'kubectl', ['get', 'configmap', 'cilium-config', '-n', 'kube-system', '-o', 'json'], { env: access.env, retries: 2 });
    if (cm.exitCode !== 0) {
      if (/\(NotFound\)/.test(cm.stderr)) return { ...base, state: 'partial', kubeconfigRef: ref, note: 'Kubernetes runs without Cilium: an earlier rollout stopped before cilium-install' };
      if (!looksTransient(cm)) throw classify(cm, `kubectl get configmap cilium-config (${i.cluster})`);
      return apiDown(deps, i, ref, base, cm.stderr);
    }
    const data = configMapSchema.parse(parseJson(cm)).data ?? {};
    const identity = {
      ...(data['cluster-name'] ? { ciliumName: data['cluster-name'] } : {}),
      ...(numberOf(data['cluster-id']) !== undefined ? { clusterId: numberOf(data['cluster-id']) } : {}),
      ...(numberOf(data['max-connected-clusters']) !== undefined ? { maxConnectedClusters: numberOf(data['max-connected-clusters']) } : {}),
    };
    const vr = await callTool(deps, 'helm', helmArgv.getValues(), { env: access.env, retries: 2 });
    if (vr.exitCode !== 0 && !/release: not found/.test(vr.stderr)) throw classify(vr, `helm get values cilium (${i.cluster})`);
    const values = vr.exitCode === 0 ? valuesSchema.parse(parseJson(vr) ?? {}) : {};
    const peers = (values.clustermesh?.config?.clusters ?? []).map((c) => c.name);
    if (values.clustermesh?.useAPIServer !== true) {
      return { ...base, ...identity, peers, state: 'partial', kubeconfigRef: ref, note: 'Cilium runs without its clustermesh-apiserver: an earlier rollout stopped before clustermesh-enable' };
    }
    const [svc, used] = await Promise.all([getService(deps, access, 'kube-system', 'clustermesh-apiserver'), addressesInUse(deps, access)]);
    const address = svc ? ingressIps(svc)[0] : undefined;
    const talosconfigRef = secretRefs.talosconfig(i.mesh, i.cluster);
    const hasTalosconfig = await deps.secrets.has(talosconfigRef);
    return {
      ...base,
      ...identity,
      peers,
      state: 'member',
      kubeconfigRef: ref,
      ...(hasTalosconfig ? { talosconfigRef } : {}),
      ...(address ? { apiserverAddress: address } : {}),
      podCidrs: used.podCidrs,
      rangeHits: rangeHits(i.probe, used),
      note: `a member of the live mesh (cluster ID ${identity.clusterId ?? '?'}, ${peers.length} peer(s)${address ? `, clustermesh-apiserver ${address}` : ''}): kept as it is`,
    };
  });
}

const numberOf = (text: string | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined);

/**
 * The Kubernetes API does not answer. A kubeconfig outlives a re-installed fleet (and a re-created lab): when the
 * first control plane is back in Talos maintenance mode the cluster is to be built again. Anything else is a member
 * that is down or unreachable, and a mesh change waits for it (transient: retried, then the step pauses).
 */
async function apiDown(
  deps: ActivityDeps,
  i: { cluster: string; firstControlPlane?: string },
  ref: string,
  base: Pick<LiveCluster, 'cluster' | 'peers' | 'podCidrs' | 'rangeHits'>,
  stderr: string,
): Promise<LiveCluster> {
  const stage = i.firstControlPlane ? (await nodeStage(deps, { address: i.firstControlPlane })).stage : 'unknown';
  if (UNINSTALLED.has(stage)) {
    return { ...base, state: 'unbuilt', kubeconfigRef: ref, note: `its stored kubeconfig is stale: the first control plane (${i.firstControlPlane}) is in Talos ${stage}` };
  }
  const last = stderr.trim().split('\n').pop() ?? '';
  throw transient(`${i.cluster}: the Kubernetes API does not answer (${last}) while its first control plane is ${stage}: a mesh change waits until every member answers`);
}

interface InUse {
  podCidrs: string[];
  /** what to look for, each with the words that name it in a pause */
  ranges: Array<{ what: string; range: IpInterval }>;
}

async function addressesInUse(deps: ActivityDeps, access: KubeAccess): Promise<InUse> {
  const [nodes, services] = await Promise.all([kubectlGet(deps, access, ['nodes'], listOf(nodeSchema)), kubectlGet(deps, access, ['services', '-A'], listOf(serviceSchema))]);
  const podCidrs = (nodes?.items ?? []).flatMap((n) => n.spec.podCIDRs ?? (n.spec.podCIDR ? [n.spec.podCIDR] : []));
  const ranges: InUse['ranges'] = [];
  const add = (what: string, parsed: { value?: IpInterval }) => parsed.value && ranges.push({ what, range: parsed.value });
  for (const n of nodes?.items ?? []) {
    for (const c of n.spec.podCIDRs ?? (n.spec.podCIDR ? [n.spec.podCIDR] : [])) add(`node ${n.metadata.name} podCIDR ${c}`, parseCidr(c));
    for (const a of (n.status?.addresses ?? []).filter((x) => x.type === 'InternalIP')) add(`node ${n.metadata.name} ${a.address}`, parseAddress(a.address));
  }
  for (const s of services?.items ?? []) {
    const name = `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
    for (const ip of s.spec.clusterIPs ?? (s.spec.clusterIP ? [s.spec.clusterIP] : [])) if (ip && ip !== 'None') add(`Service ${name} ClusterIP ${ip}`, parseAddress(ip));
    for (const lb of s.status?.loadBalancer?.ingress ?? []) if (lb.ip) add(`Service ${name} LoadBalancer ${lb.ip}`, parseAddress(lb.ip));
  }
  return { podCidrs, ranges };
}

/** Each probed range that holds an address in use, with the first such address as the example. */
function rangeHits(probe: readonly ProbeRange[], used: InUse): RangeHit[] {
  const hits: RangeHit[] = [];
  for (const p of probe) {
    const r = parseCidr(p.cidr).value;
    if (!r) continue;
    const hit = used.ranges.find((u) => overlaps(r, u.range) || contains(r, u.range));
    if (hit) hits.push({ ...p, example: hit.what });
  }
  return hits;
}

/** A tenth of the budget, between 100 ms and 1 s (as the rollout's other waits). */
const pollInterval = (deps: ActivityDeps) => Math.min(1_000, Math.max(100, deps.pollBudgetMs / 10));

export interface BackendWatch {
  cluster: string;
  kubeconfigRef: string;
}

/**
 * After a peer-list change: every cluster in `keep` that served a global Service before still does, in every
 * watched cluster, and `gone` serves none. Pod churn does not trip it (counts per source cluster, not per pod);
 * a broken peer link does. Polls within the budget (agents resync remote services after they restart), then
 * pauses naming the Service, the cluster and the counts.
 */
export async function globalBackendsKept(
  deps: ActivityDeps,
  i: { clusters: BackendWatch[]; ranges: Record<string, string[]>; baseline: BackendSnapshot[]; keep: string[]; gone?: string; after: string },
): Promise<{ snapshots: BackendSnapshot[]; summary: string }> {
  let losses: ReturnType<typeof backendLosses> = [];
  let snapshots: BackendSnapshot[] = [];
  const watched = i.clusters.filter((c) => i.baseline.some((b) => b.cluster === c.cluster && b.services.length > 0));
  const ok = await pollWithin(
    deps.pollBudgetMs,
    pollInterval(deps),
    `global services after ${i.after}`,
    async () => {
      snapshots = await Promise.all(watched.map((c) => globalServiceSources(deps, { cluster: c.cluster, kubeconfigRef: c.kubeconfigRef, ranges: i.ranges })));
      losses = backendLosses(i.baseline, snapshots, { keep: i.keep, ...(i.gone ? { gone: i.gone } : {}) });
      return losses.length === 0 ? true : undefined;
    },
    () => ({ losses: losses.length }),
  );
  const services = i.baseline.reduce((n, b) => n + b.services.length, 0);
  if (ok) return { snapshots, summary: `${services} global service(s) in ${watched.length} cluster(s) kept the backends of ${i.keep.join(', ') || 'every remaining cluster'}` };
  throw blocked({
    reason: `after ${i.after}: ${losses.map(describeLoss).join('; ')}`,
    hint:
      'the peer link behind it is down: check `cilium clustermesh status` on both clusters and the agents (kubectl -n kube-system logs ds/cilium); ' +
      '`helm history cilium -n kube-system` shows the peer-list change (helm rollback restores the previous one). Resume re-checks',
    evidence: Object.fromEntries(losses.slice(0, 10).map((l) => [`${l.cluster} ${l.service} from ${l.source}`, `${l.before} → ${l.after}`])),
    // where the check is a gate (a detach's global-services), an operator may accept a loss they expect
    overridable: true,
  });
}
