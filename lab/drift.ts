// Drift after a rollout, injected into a lab the way it happens in reality (someone's `helm upgrade` with stale
// values, tenants eating an LB pool, a node's agent without WireGuard, a policy hot-fixed in one region), and
// healed again. Everything goes through the lab's own state and store, so the lab's tools then report it.
import { KUBE_TIMING } from './kube/timing.ts';
import { reconcileLbIpam } from './kube/lbipam.ts';
import { beginInstallOrUpgrade, finish, getRelease, lastRevision } from './kube/releases.ts';
import { allocateClusterIp, deleteObj, getObj, k8sLab, keyOf, listObjs, objKey, putObj, type KubeObject } from './kube/store.ts';
import { getPath, setPath, type Values } from './kube/values.ts';
import { withLabState, type LabCluster, type LabState } from './state.ts';

const DRIFT_LABEL = 'meshpilot.dev/lab-drift';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clusterOf(state: LabState, name: string): LabCluster {
  const c = state.clusters[name];
  if (!c) throw new Error(`lab drift: no cluster ${name} (clusters: ${Object.keys(state.clusters).join(', ')})`);
  return c;
}

interface DriftMemory {
  removedPeers?: Record<string, unknown>;
  policies?: Record<string, unknown>;
}
const memory = (c: LabCluster) => ((c.extra as { drift?: DriftMemory }).drift ??= {});

/** A Helm upgrade of the cilium release with changed values, as `helm upgrade --reuse-values` would record it. */
function upgradeCilium(c: LabCluster, change: (v: Values) => Values, now: number): void {
  const rel = getRelease(c, 'kube-system', 'cilium');
  if (!rel) throw new Error(`lab drift: ${c.name} has no cilium release (roll the mesh out first)`);
  const last = lastRevision(rel);
  const { rev } = beginInstallOrUpgrade(c, 'kube-system', 'cilium', last.chartVersion, change(structuredClone(last.config)), now);
  finish(c, 'kube-system', 'cilium', rev.revision, true, now);
}

/** Agents roll after a values change; return once they have, like `kubectl rollout status ds/cilium`. */
const waitForAgentRoll = () => sleep(KUBE_TIMING.agentRolloutMs + 150);

type PeerEntry = { name: string };
const peersOf = (v: Values) => (getPath(v, 'clustermesh.config.clusters') as PeerEntry[] | undefined) ?? [];

/** `cluster` drops `peer` from its clustermesh.config (a helm upgrade with stale values): both sides disconnect. */
export async function disconnectPeer(labDir: string, cluster: string, peer: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    upgradeCilium(c, (v) => {
      const entry = peersOf(v).find((e) => e.name === peer);
      if (!entry) throw new Error(`lab drift: ${cluster} has no clustermesh peer ${peer}`);
      (memory(c).removedPeers ??= {})[peer] = entry;
      return setPath(v, 'clustermesh.config.clusters', peersOf(v).filter((e) => e.name !== peer));
    }, Date.now());
  });
  await waitForAgentRoll();
}

export async function reconnectPeer(labDir: string, cluster: string, peer: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const entry = memory(c).removedPeers?.[peer];
    if (!entry) throw new Error(`lab drift: ${peer} was not disconnected from ${cluster} by disconnectPeer`);
    upgradeCilium(c, (v) => setPath(v, 'clustermesh.config.clusters', [...peersOf(v), entry]), Date.now());
    delete memory(c).removedPeers![peer];
  });
  await waitForAgentRoll();
}

/** Tenants create LoadBalancer Services until every address of the cluster's pools is taken. */
export async function exhaustPool(labDir: string, cluster: string): Promise<number> {
  return withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const now = Date.now();
    reconcileLbIpam(s, c, now);
    const free = listObjs(c, 'CiliumLoadBalancerIPPool').reduce((n, p) => {
      const cond = (p.status?.conditions as { type: string; message?: string }[] | undefined)?.find((x) => x.type === 'cilium.io/IPsAvailable');
      return n + Number(cond?.message ?? 0);
    }, 0);
    for (let i = 0; i < free; i++) {
      putObj(
        c,
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: `tenant-lb-${i}`, namespace: 'default', labels: { app: `tenant-lb-${i}`, [DRIFT_LABEL]: 'pool-exhausted' } },
          spec: { type: 'LoadBalancer', selector: { app: `tenant-lb-${i}` }, ports: [{ port: 443, protocol: 'TCP', targetPort: 8443 }], clusterIP: allocateClusterIp(c) },
        },
        now + i,
      );
    }
    reconcileLbIpam(s, c, now);
    return free;
  });
}

export async function releasePool(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    for (const svc of listObjs(c, 'Service').filter((o) => o.metadata.labels?.[DRIFT_LABEL] === 'pool-exhausted')) deleteObj(c, keyOf(svc));
    reconcileLbIpam(s, c, Date.now());
  });
}

/**
 * WireGuard off on one node (its agent came up without it: a per-node config override, a kernel without the
 * module). Recorded as the lab fault `wireguardOffNodes`; the lab's agent status must honour it through
 * `nodeEncryptionOverride` (see the hook in docs/verify.md).
 */
export async function disableWireguardOnNode(labDir: string, node: string): Promise<void> {
  await withLabState(labDir, (s) => {
    if (!Object.values(s.nodes).some((n) => n.name === node)) throw new Error(`lab drift: no node ${node}`);
    const off = new Set<string>((s.faults.wireguardOffNodes as string[] | undefined) ?? []);
    off.add(node);
    s.faults.wireguardOffNodes = [...off];
  });
}

export async function enableWireguardOnNode(labDir: string, node: string): Promise<void> {
  await withLabState(labDir, (s) => {
    s.faults.wireguardOffNodes = ((s.faults.wireguardOffNodes as string[] | undefined) ?? []).filter((n) => n !== node);
  });
}

/** The hook for lab/kube/agent-status.ts: the node's `encryption` when drift switched it off, else undefined. */
export function nodeEncryptionOverride(state: LabState, node: string): { mode: 'Disabled' } | undefined {
  return ((state.faults.wireguardOffNodes as string[] | undefined) ?? []).includes(node) ? { mode: 'Disabled' } : undefined;
}

const policyKey = (ns: string, name: string) => objKey('cilium.io/v2', 'CiliumNetworkPolicy', ns, name);

/**
 * A CiliumNetworkPolicy hot-fixed in one region (`kubectl edit`: the spec changes, the last-applied annotation
 * does not): by default one more allowed source label.
 */
export async function editPolicy(
  labDir: string,
  cluster: string,
  ref: { namespace: string; name: string },
  edit: (spec: Record<string, any>) => Record<string, any> = (spec) => ({
    ...spec,
    ingress: [...((spec.ingress as unknown[]) ?? []), { fromEndpoints: [{ matchLabels: { app: 'debug-shell' } }] }],
  }),
): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const p = getObj(c, 'cilium.io/v2', 'CiliumNetworkPolicy', ref.namespace, ref.name);
    if (!p) throw new Error(`lab drift: ${cluster} has no CiliumNetworkPolicy ${ref.namespace}/${ref.name}`);
    (memory(c).policies ??= {})[`${ref.namespace}/${ref.name}`] ??= structuredClone(p.spec);
    putObj(c, { ...p, spec: edit(structuredClone(p.spec ?? {})) }, Date.now());
  });
}

export async function restorePolicy(labDir: string, cluster: string, ref: { namespace: string; name: string }): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const saved = memory(c).policies?.[`${ref.namespace}/${ref.name}`];
    const p = c.kube[policyKey(ref.namespace, ref.name)] as KubeObject | undefined;
    if (!saved || !p) throw new Error(`lab drift: ${ref.namespace}/${ref.name} in ${cluster} was not edited by editPolicy`);
    putObj(c, { ...p, spec: saved }, Date.now());
    delete memory(c).policies![`${ref.namespace}/${ref.name}`];
  });
}

/** The Hubble relay crash-looping (bad TLS secret, OOM): its Deployment stays, no replica is ready. */
export async function breakHubbleRelay(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const key = objKey('apps/v1', 'Deployment', 'kube-system', 'hubble-relay');
    if (!c.kube[key]) throw new Error(`lab drift: ${cluster} has no hubble-relay Deployment (mesh.hubble.relay: false?)`);
    delete k8sLab(c).readyAt[key];
  });
}

export async function healHubbleRelay(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    k8sLab(clusterOf(s, cluster)).readyAt[objKey('apps/v1', 'Deployment', 'kube-system', 'hubble-relay')] = Date.now();
  });
}
