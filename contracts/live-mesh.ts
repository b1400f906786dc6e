// Workflow-safe: what meshpilot reads of a live mesh before it changes it (a join at mesh-preflight, a detach at
// detach-preflight), and the global-service backends it holds the change to. Plain data: it travels through
// history, so it carries names, numbers and a few addresses, never a secret and never a full object dump.

/**
 * - absent:  meshpilot holds no kubeconfig for the cluster: it was never bootstrapped by meshpilot;
 * - unbuilt: a kubeconfig is stored but the nodes are back in Talos maintenance mode (a re-installed fleet, a fresh lab);
 * - partial: Kubernetes answers but Cilium's clustermesh-apiserver was never enabled (an earlier rollout stopped early);
 * - member:  Cilium runs with its clustermesh-apiserver: the cluster is (or was) part of the mesh and is kept as it is.
 */
export type LiveState = 'absent' | 'unbuilt' | 'partial' | 'member';

/** A blueprint range to look for in a live cluster: `path` names the blueprint field (clusters[2].network.podSubnets[0]). */
export interface ProbeRange {
  /** the blueprint cluster the range belongs to */
  owner: string;
  path: string;
  cidr: string;
}

/** A probed range that holds an address the live cluster uses (`example` says which: a node podCIDR, a Service ClusterIP). */
export interface RangeHit extends ProbeRange {
  example: string;
}

export interface LiveCluster {
  /** the blueprint's name for it (the kubeconfig reference is keyed by it) */
  cluster: string;
  state: LiveState;
  /** what the state rests on, in a sentence (shown in the UI and in pauses) */
  note: string;
  kubeconfigRef?: string;
  /** a member's stored talosconfig (meshpilot built it): its etcd gate is re-checked read-only */
  talosconfigRef?: string;
  /** cilium-config `cluster-name`, `cluster-id`, `max-connected-clusters`: what the agents actually run with */
  ciliumName?: string;
  clusterId?: number;
  maxConnectedClusters?: number;
  /** names in the cilium release's clustermesh.config.clusters (the peers it dials) */
  peers: string[];
  apiserverAddress?: string;
  chartVersion?: string;
  /** node spec.podCIDRs (kubernetes IPAM): where this cluster's pods get their addresses */
  podCidrs: string[];
  rangeHits: RangeHit[];
}

export interface ServiceRef {
  namespace: string;
  name: string;
}

/** One global Service as one cluster's agent serves it: its backends counted by the cluster they live in. */
export interface ServiceBackends {
  /** namespace/name */
  service: string;
  /** backends per source cluster; addresses in no known pod range count under `unknown` */
  bySource: Record<string, number>;
}

/** A cluster's global Services (the ones that exist there) and where their backends come from. */
export interface BackendSnapshot {
  cluster: string;
  services: ServiceBackends[];
}

export const UNKNOWN_SOURCE = 'unknown';
