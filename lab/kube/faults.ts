import type { LabCluster, LabState } from '../state.ts';
import type { LabFaults } from '../scenarios.ts';
import { parseCidr, intToIp } from './ipv4.ts';
import { allocateClusterIp, k8sLab, putObj, isoTime, type KubeObject } from './store.ts';
import type { Release } from './releases.ts';
import { EXCLUDE_LB_LABEL } from '../../blueprint/announcers.ts';

/** The scenario knobs (lab/scenarios.ts) as the Kubernetes-side tools honour them. */
const faults = (s: LabState) => s.faults as LabFaults;

/** flaky-tools: every Nth call of this tool fails with its own transient text (counted in state.counters). */
export function flakyCall(state: LabState, tool: string): boolean {
  const every = faults(state).flakyEvery;
  if (!every) return false;
  const key = `flaky:${tool}`;
  state.counters[key] = (state.counters[key] ?? 0) + 1;
  return state.counters[key] % every === 0;
}

/** helm-stuck-pending: the release an interrupted earlier run left behind, seeded before meshpilot first looks. */
export function seedStuckRelease(state: LabState, c: LabCluster, now: number): void {
  const lab = k8sLab(c);
  if (!faults(state).helmStuckPending?.includes(c.name) || lab.stuckReleaseSeeded) return;
  lab.stuckReleaseSeeded = true;
  if (c.helm['kube-system/cilium']) return;
  const at = isoTime(Math.min(now, c.bootstrappedAt ?? now));
  const rel: Release = {
    name: 'cilium',
    namespace: 'kube-system',
    revisions: [
      {
        revision: 1,
        status: 'pending-install',
        chartName: 'cilium',
        chartVersion: '1.16.6',
        appVersion: '1.16.6',
        config: {},
        firstDeployed: at,
        updated: at,
        description: 'Initial install underway',
        objects: [],
      },
    ],
  };
  c.helm['kube-system/cilium'] = rel;
}

/**
 * lb-pending: the first pool applied in the cluster is already fully used by an older LoadBalancer Service
 * (default/legacy-ingress pins every address of it), so later Services find it out of IPs.
 */
export function takePoolAtFirstApply(state: LabState, c: LabCluster, pool: KubeObject, now: number): void {
  const lab = k8sLab(c);
  if (!faults(state).poolsTakenAtFirstApply?.includes(c.name) || lab.legacyIngressCreated) return;
  lab.legacyIngressCreated = true;
  const ips: string[] = [];
  for (const b of (pool.spec?.blocks as { cidr?: string; start?: string; stop?: string }[] | undefined) ?? []) {
    try {
      const { first, last } = b.cidr ? parseCidr(b.cidr) : { first: parseCidr(`${b.start}/32`).first, last: parseCidr(`${b.stop ?? b.start}/32`).first };
      for (let ip = first; ip <= last && ips.length < 1024; ip++) ips.push(intToIp(ip));
    } catch {
      // invalid blocks hold nothing
    }
  }
  const svc = putObj(
    c,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'legacy-ingress', namespace: 'default', labels: { app: 'legacy-ingress' }, annotations: { 'lbipam.cilium.io/ips': ips.join(',') } },
      spec: { type: 'LoadBalancer', selector: { app: 'legacy-ingress' }, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }], clusterIP: allocateClusterIp(c) },
    },
    now,
  );
  // It predates everything meshpilot creates, so LB-IPAM serves it first.
  svc.metadata.creationTimestamp = isoTime(state.createdAt);
}

// Entry points for `meshpilot lab break|heal` (lab/break-heal.ts): the same knobs the scenarios set at creation,
// set and cleared in a live lab. Each heal undoes exactly what its break did.

/** flaky-tools from now on: every `every`th call of each tool fails with that tool's transient text. */
export function makeToolsFlaky(state: LabState, every: number): void {
  faults(state).flakyEvery = every;
}

export function makeToolsSteady(state: LabState): void {
  delete faults(state).flakyEvery;
}

/** Control-plane nodes that carried the exclusion label in their own labels before pinCpExcludeLabel. */
interface ExcludeMemory {
  excludeLabelBefore?: string[];
}

/**
 * cp-only-excluded from now on: control planes keep Talos' exclude-from-external-load-balancers label, so no
 * control plane may announce LB IPs (lab/kube/view.ts shows the label while the knob is set).
 */
export function pinCpExcludeLabel(state: LabState): void {
  for (const c of Object.values(state.clusters)) {
    (c.extra as ExcludeMemory).excludeLabelBefore = Object.values(state.nodes)
      .filter((n) => n.cluster === c.name && n.role === 'controlplane' && EXCLUDE_LB_LABEL in n.labels)
      .map((n) => n.name);
  }
  faults(state).keepCpExcludeLabel = true;
}

/** The knob cleared, and the label removed again from the control planes that got it while it was set. */
export function unpinCpExcludeLabel(state: LabState): void {
  delete faults(state).keepCpExcludeLabel;
  for (const c of Object.values(state.clusters)) {
    const before = new Set((c.extra as ExcludeMemory).excludeLabelBefore ?? []);
    for (const n of Object.values(state.nodes)) {
      if (n.cluster === c.name && n.role === 'controlplane' && !before.has(n.name)) delete n.labels[EXCLUDE_LB_LABEL];
    }
    delete (c.extra as ExcludeMemory).excludeLabelBefore;
  }
}

/**
 * join-id-clash: the cluster's cilium-config says this cluster-id whatever its Helm values (someone ran
 * `kubectl edit configmap cilium-config`; Helm's three-way merge keeps a live edit of a field the chart leaves
 * unchanged, so later upgrades keep it too).
 */
export function withEditedClusterId(state: LabState, c: LabCluster, o: KubeObject): KubeObject {
  const edit = faults(state).clusterIdEdited;
  if (edit?.cluster !== c.name || o.kind !== 'ConfigMap' || o.metadata.namespace !== 'kube-system' || o.metadata.name !== 'cilium-config') return o;
  return { ...o, data: { ...(o.data as Record<string, string>), 'cluster-id': String(edit.id) } };
}
