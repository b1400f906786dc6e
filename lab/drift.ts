// Drift after a rollout, injected into a lab the way it happens in reality (someone's `helm upgrade` with stale
// values, tenants eating an LB pool, a node's agent without WireGuard, a policy hot-fixed in one region), and
// healed again. Everything goes through the lab's own state and store, so the lab's tools then report it.
import { X509Certificate } from 'node:crypto';
import { DAY_MS, issueCert } from './kube/certs.ts';
import { KUBE_TIMING } from './kube/timing.ts';
import { reconcileLbIpam } from './kube/lbipam.ts';
import { beginInstallOrUpgrade, finish, getRelease, isPending, lastRevision } from './kube/releases.ts';
import { allocateClusterIp, deleteObj, getObj, isoTime, k8sLab, keyOf, listObjs, objKey, putObj, type K8sLab, type KubeObject } from './kube/store.ts';
import { getPath, setPath, type Values } from './kube/values.ts';
import { withLabState, type LabCluster, type LabNode, type LabState } from './state.ts';

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
  /** hubble-relay's readyAt before breakHubbleRelay removed it */
  hubbleReadyAt?: number;
  /** the cilium release revision leaveReleasePending added */
  pendingRevision?: number;
  /** the server certificate ageMeshCerts issued (the break is active while the cluster still serves it) */
  agedServerCert?: string;
  /** the ClusterMesh certificate Secrets' data before ageMeshCerts, by Secret name */
  certsBeforeAging?: Record<string, Record<string, string>>;
}
const memory = (c: LabCluster) => ((c.extra as { drift?: DriftMemory }).drift ??= {});
/** Reads the memory without creating it (for the read-only views below). */
const recall = (c: LabCluster): DriftMemory => (c.extra as { drift?: DriftMemory }).drift ?? {};

/** A heal drops what it took back, and the memory once it holds nothing: the cluster's record is as before the break. */
function forget(c: LabCluster, drop: (m: DriftMemory) => void): void {
  const m = memory(c);
  drop(m);
  for (const [k, v] of Object.entries(m)) {
    if (v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)) delete m[k as keyof DriftMemory];
  }
  if (Object.keys(m).length === 0) delete (c.extra as { drift?: DriftMemory }).drift;
}

function nodeAt(state: LabState, address: string): LabNode {
  const n = state.nodes[address];
  if (!n) throw new Error(`lab drift: no node at ${address}`);
  return n;
}

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
    forget(c, (m) => delete m.removedPeers![peer]);
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
    const left = ((s.faults.wireguardOffNodes as string[] | undefined) ?? []).filter((n) => n !== node);
    if (left.length) s.faults.wireguardOffNodes = left;
    else delete s.faults.wireguardOffNodes;
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
    forget(c, (m) => delete m.policies![`${ref.namespace}/${ref.name}`]);
  });
}

const hubbleRelayKey = objKey('apps/v1', 'Deployment', 'kube-system', 'hubble-relay');

/** The Hubble relay crash-looping (bad TLS secret, OOM): its Deployment stays, no replica is ready. */
export async function breakHubbleRelay(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    if (!c.kube[hubbleRelayKey]) throw new Error(`lab drift: ${cluster} has no hubble-relay Deployment (mesh.hubble.relay: false?)`);
    const readyAt = k8sLab(c).readyAt[hubbleRelayKey];
    if (readyAt !== undefined) memory(c).hubbleReadyAt = readyAt;
    delete k8sLab(c).readyAt[hubbleRelayKey];
  });
}

export async function healHubbleRelay(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    k8sLab(c).readyAt[hubbleRelayKey] = recall(c).hubbleReadyAt ?? Date.now();
    forget(c, (m) => delete m.hubbleReadyAt);
  });
}

/**
 * A node that stops answering (a pulled cable, a switch port shut, a wrong VLAN after maintenance): the same
 * fact as the node-unreachable scenario (`faults.unreachableNodes`), so talosctl, the BMC and etcd's metrics
 * listener all go quiet for it.
 */
export async function makeNodeUnreachable(labDir: string, address: string): Promise<void> {
  await withLabState(labDir, (s) => {
    nodeAt(s, address);
    const list = (s.faults.unreachableNodes as string[] | undefined) ?? [];
    if (!list.includes(address)) s.faults.unreachableNodes = [...list, address];
  });
}

export async function makeNodeReachable(labDir: string, address: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const left = ((s.faults.unreachableNodes as string[] | undefined) ?? []).filter((a) => a !== address);
    if (left.length) s.faults.unreachableNodes = left;
    else delete s.faults.unreachableNodes;
  });
}

/**
 * A degraded link to one control-plane member (a flapping uplink, a noisy neighbour on the switch): its etcd peer
 * round trips grow by `extraRttMs`, the same fact as the etcd-slow scenario. The lab slows one member at a time.
 */
export async function slowEtcdPeer(labDir: string, address: string, extraRttMs: number): Promise<void> {
  await withLabState(labDir, (s) => {
    const n = nodeAt(s, address);
    if (n.role !== 'controlplane') throw new Error(`lab drift: ${n.name} is a worker: etcd runs on control-plane nodes only`);
    s.faults.slowEtcdMember = { address, extraRttMs };
  });
}

export async function restoreEtcdPeer(labDir: string, address: string): Promise<void> {
  await withLabState(labDir, (s) => {
    if ((s.faults.slowEtcdMember as { address?: string } | undefined)?.address === address) delete s.faults.slowEtcdMember;
  });
}

/**
 * An interrupted `helm upgrade` (Ctrl-C, a CI job killed, a lost connection): helm records the new revision as
 * pending-upgrade before it applies anything, so the release stays pending and the next upgrade is refused with
 * "another operation (install/upgrade/rollback) is in progress" (helm/helm@v3.16.4 pkg/action/upgrade.go).
 */
export async function leaveReleasePending(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const rel = getRelease(c, 'kube-system', 'cilium');
    if (!rel) throw new Error(`lab drift: ${cluster} has no cilium release (roll the mesh out first)`);
    const last = lastRevision(rel);
    const now = isoTime(Date.now());
    rel.revisions.push({ ...structuredClone(last), revision: last.revision + 1, status: 'pending-upgrade', updated: now, description: 'Preparing upgrade' });
    memory(c).pendingRevision = last.revision + 1;
  });
}

/** Removes the pending revision leaveReleasePending added, when it is still the release's last and still pending. */
export async function clearPendingRelease(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const rel = getRelease(c, 'kube-system', 'cilium');
    const rev = recall(c).pendingRevision;
    if (rel && rev !== undefined && lastRevision(rel).revision === rev && isPending(lastRevision(rel).status)) rel.revisions.pop();
    forget(c, (m) => delete m.pendingRevision);
  });
}

// What drift is in the lab now, read from the lab's state (for `meshpilot lab faults` and `lab heal`).

/** [cluster, peer] pairs disconnectPeer removed and reconnectPeer has not put back. */
export function disconnectedPeers(state: LabState): Array<[string, string]> {
  return Object.values(state.clusters).flatMap((c) => Object.keys(recall(c).removedPeers ?? {}).map((p): [string, string] => [c.name, p]));
}

/** [cluster, "namespace/name"] of the policies editPolicy changed and restorePolicy has not restored. */
export function editedPolicies(state: LabState): Array<[string, string]> {
  return Object.values(state.clusters).flatMap((c) => Object.keys(recall(c).policies ?? {}).map((p): [string, string] => [c.name, p]));
}

/** Clusters holding tenant LoadBalancers from exhaustPool. */
export function exhaustedPools(state: LabState): string[] {
  return Object.values(state.clusters)
    .filter((c) => listObjs(c, 'Service').some((o) => o.metadata.labels?.[DRIFT_LABEL] === 'pool-exhausted'))
    .map((c) => c.name);
}

/** Clusters whose hubble-relay Deployment exists and has no ready time (breakHubbleRelay). */
export function brokenHubbleRelays(state: LabState): string[] {
  return Object.values(state.clusters)
    .filter((c) => c.kube[hubbleRelayKey] && (c.extra as { k8sLab?: K8sLab }).k8sLab?.readyAt[hubbleRelayKey] === undefined)
    .map((c) => c.name);
}

/** Clusters whose cilium release still ends in the pending revision leaveReleasePending added (a rollout may have recovered it). */
export function pendingReleases(state: LabState): string[] {
  return Object.values(state.clusters)
    .filter((c) => {
      const rev = recall(c).pendingRevision;
      const rel = getRelease(c, 'kube-system', 'cilium');
      return rev !== undefined && rel !== undefined && lastRevision(rel).revision === rev && isPending(lastRevision(rel).status);
    })
    .map((c) => c.name);
}

const MESH_LEAF_SECRETS = ['admin', 'client', 'local', 'remote', 'server'].map((k) => `clustermesh-apiserver-${k}-cert`);
const fromB64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');
const toB64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');

/**
 * Re-issues CLUSTER's ClusterMesh leaf certificates with the same CA, names and validity length, backdated so that
 * they expire in `days` (notBefore = now − (validity − days)); `days` 0 means they are already expired. What a
 * cluster installed long ago, never upgraded since, looks like.
 */
function reissueLeaves(c: LabCluster, now: number, expiresInDays: number): { server?: string; before: Record<string, Record<string, string>> } {
  const ca = getObj(c, 'v1', 'Secret', 'kube-system', 'cilium-ca')?.data;
  if (!ca?.['ca.crt'] || !ca['ca.key']) throw new Error(`lab drift: ${c.name} has no cilium-ca Secret (roll the mesh out first)`);
  const signer = { cert: fromB64(ca['ca.crt']), key: fromB64(ca['ca.key']) };
  let server: string | undefined;
  const before: Record<string, Record<string, string>> = {};
  for (const name of MESH_LEAF_SECRETS) {
    const obj = getObj(c, 'v1', 'Secret', 'kube-system', name);
    if (!obj?.data?.['tls.crt']) continue;
    before[name] = obj.data;
    const old = new X509Certificate(fromB64(obj.data['tls.crt']));
    const validity = Math.round((Date.parse(old.validTo) - Date.parse(old.validFrom)) / DAY_MS);
    const sans = (old.subjectAltName ?? '').split(', ').filter(Boolean);
    const issued = issueCert({
      cn: old.subject.replace(/^CN=/, ''),
      days: validity,
      ca: signer,
      notBefore: new Date(now - (validity - expiresInDays) * DAY_MS - 60_000),
      dns: sans.filter((x) => x.startsWith('DNS:')).map((x) => x.slice(4)),
      ips: sans.filter((x) => x.startsWith('IP Address:')).map((x) => x.slice(11)),
    });
    putObj(c, { ...obj, data: { 'ca.crt': toB64(signer.cert), 'tls.crt': toB64(issued.cert), 'tls.key': toB64(issued.key) } }, now);
    if (name === 'clustermesh-apiserver-server-cert') server = issued.cert;
  }
  return { ...(server ? { server } : {}), before };
}

export async function ageMeshCerts(labDir: string, cluster: string, expiresInDays: number): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    const { server, before } = reissueLeaves(c, Date.now(), expiresInDays);
    if (!server) throw new Error(`lab drift: ${cluster} has no ClusterMesh certificates (roll the mesh out first)`);
    memory(c).agedServerCert = server;
    memory(c).certsBeforeAging = before;
  });
}

/** The certificates the cluster had before ageMeshCerts, back in place. */
export async function restoreMeshCerts(labDir: string, cluster: string): Promise<void> {
  await withLabState(labDir, (s) => {
    const c = clusterOf(s, cluster);
    for (const [name, data] of Object.entries(recall(c).certsBeforeAging ?? {})) {
      const obj = getObj(c, 'v1', 'Secret', 'kube-system', name);
      if (obj) putObj(c, { ...obj, data }, Date.now());
    }
    forget(c, (m) => {
      delete m.agedServerCert;
      delete m.certsBeforeAging;
    });
  });
}

/** Clusters still serving the certificates ageMeshCerts issued (a `helm upgrade` re-issues them: no longer aged). */
export function agedMeshCerts(s: LabState): string[] {
  return Object.values(s.clusters)
    .filter((c) => {
      const aged = recall(c).agedServerCert;
      return aged !== undefined && fromB64(getObj(c, 'v1', 'Secret', 'kube-system', 'clustermesh-apiserver-server-cert')?.data?.['tls.crt']) === aged;
    })
    .map((c) => c.name);
}
