import { z } from 'zod';
import type { LabCluster, LabNode, LabState } from '../state.ts';
import { DEFAULT_KUBERNETES_VERSION, TALOS_VERSION } from './machine-config.ts';

/**
 * What each node runs: the Talos version its installer image installed, the kubelet its machine config runs, and
 * the cluster's control-plane (kube-apiserver) version. Set by `apply-config` from the config, changed by
 * `talosctl upgrade` (once the node is back) and `talosctl upgrade-k8s`. Kept in the cluster's `extra.versions`
 * (the state schema strips unknown node fields); a node with no record runs the lab's own talosctl version.
 */
const nodeVersionsSchema = z.object({
  /** v-prefixed */
  talos: z.string().optional(),
  image: z.string().optional(),
  /** an accepted upgrade, applied when the node is back from its reboot */
  pendingTalos: z.string().optional(),
  pendingImage: z.string().optional(),
  /** accepted `talosctl upgrade` requests, ever */
  upgrades: z.number().int().default(0),
  /** no v */
  kubelet: z.string().optional(),
});
export type NodeVersions = z.infer<typeof nodeVersionsSchema>;

const versionsExtraSchema = z.object({
  nodes: z.record(z.string(), nodeVersionsSchema).default({}),
  /** kube-apiserver, kube-controller-manager and kube-scheduler (no v) */
  controlPlane: z.string().optional(),
});

function extra(cluster: LabCluster): z.infer<typeof versionsExtraSchema> {
  const parsed = versionsExtraSchema.parse(cluster.extra.versions ?? {});
  cluster.extra.versions = parsed;
  return parsed;
}

const clusterOf = (state: LabState, address: string) => {
  const node = state.nodes[address];
  return node ? state.clusters[node.cluster] : undefined;
};

export function nodeVersions(state: LabState, address: string): NodeVersions {
  const c = clusterOf(state, address);
  return (c && versionsExtraSchema.parse(c.extra.versions ?? {}).nodes[address]) || { upgrades: 0 };
}

/** Changes a node's record in place (inside withLabState). */
export function updateNodeVersions(state: LabState, address: string, fn: (v: NodeVersions) => void): void {
  const c = clusterOf(state, address);
  if (!c) throw new Error(`lab: node ${address} belongs to no cluster`);
  const all = extra(c).nodes;
  const rec = all[address] ?? { upgrades: 0 };
  fn(rec);
  all[address] = rec;
}

export const talosVersionOf = (state: LabState, node: LabNode): string => nodeVersions(state, node.address).talos ?? TALOS_VERSION;

export function controlPlaneVersionOf(state: LabState, cluster: string): string {
  const c = state.clusters[cluster];
  return (c && versionsExtraSchema.parse(c.extra.versions ?? {}).controlPlane) ?? DEFAULT_KUBERNETES_VERSION;
}

export const kubeletVersionOf = (state: LabState, node: LabNode): string => nodeVersions(state, node.address).kubelet ?? controlPlaneVersionOf(state, node.cluster);

export function setControlPlaneVersion(state: LabState, cluster: string, version: string): void {
  const c = state.clusters[cluster];
  if (c) extra(c).controlPlane = version.replace(/^v/, '');
}

/** `…:v1.9.5` → `v1.9.5`; a digest or a non-version tag gives nothing. */
export const imageTag = (image: string | undefined): string | undefined => (image ? /:(v?\d+\.\d+\.\d+)$/.exec(image)?.[1] : undefined);

/** The versions an applied machine config installs: the installer image's, the kubelet image's, the API server's. */
export function recordInstalledConfig(state: LabState, node: LabNode, cfg: Record<string, unknown>): void {
  const machine = (cfg.machine ?? {}) as { install?: { image?: string }; kubelet?: { image?: string } };
  const cluster = (cfg.cluster ?? {}) as { apiServer?: { image?: string } };
  const image = machine.install?.image;
  const talos = imageTag(image);
  const kubelet = imageTag(machine.kubelet?.image);
  updateNodeVersions(state, node.address, (v) => {
    if (talos) v.talos = talos.startsWith('v') ? talos : `v${talos}`;
    if (image) v.image = image;
    if (kubelet) v.kubelet = kubelet.replace(/^v/, '');
  });
  const apiserver = imageTag(cluster.apiServer?.image);
  if (node.role === 'controlplane' && apiserver) setControlPlaneVersion(state, node.cluster, apiserver);
}

/** The node is back from an accepted upgrade: it runs what the upgrade installed. */
export function completeUpgrade(state: LabState, node: LabNode): void {
  const v = nodeVersions(state, node.address);
  if (!v.pendingTalos) return;
  updateNodeVersions(state, node.address, (r) => {
    r.talos = r.pendingTalos;
    r.image = r.pendingImage;
    delete r.pendingTalos;
    delete r.pendingImage;
  });
}
