// What an upgrade reads from the live mesh before it plans anything (activities/upgrade/survey.ts fills it in; the
// plan is a pure function of it and the blueprint). Plain data: it crosses the activity boundary and lives in history.

export interface NodeSurvey {
  name: string;
  address: string;
  role: 'controlplane' | 'worker';
  /** the Talos version the node runs (`talosctl version`, v-prefixed); absent when it did not answer */
  talos?: string;
  /** its Talos machine stage (running, upgrading, rebooting, ...), or `unreachable` */
  stage: string;
  /** the kubelet version of its Kubernetes Node (no v); absent when the Node is not registered */
  kubelet?: string;
  /** its Kubernetes Node is Ready */
  ready?: boolean;
}

/** A ClusterMesh peer as the deployed Cilium values list it (clustermesh.config.clusters): no secrets in it. */
export interface MeshPeer {
  name: string;
  ips?: string[];
  address?: string;
  port?: number;
}

export interface CiliumSurvey {
  /** the cilium Helm release's status (`absent` when there is none) */
  release: string;
  /** the deployed chart version (no v) */
  chart?: string;
  /** `upgradeCompatibility` in the deployed values: the minor first installed, once an upgrade set it */
  upgradeCompatibility?: string;
  /** clustermesh.config.enabled and the peers in the deployed values: an upgrade keeps them exactly */
  meshConfigEnabled: boolean;
  peers: MeshPeer[];
  /** versions the running images carry (cilium status image_count): the agents', the clustermesh-apiserver's */
  agents: string[];
  apiserver: string[];
}

/** Where the cluster's credentials are (secret-store references, never values): the steps hand them to activities. */
export interface ClusterRefs {
  talosconfig: string;
  kubeconfig: string;
  /** the mesh's shared ClusterMesh CA (Helm values) */
  meshCa: string;
}

export interface ClusterSurvey {
  cluster: string;
  refs: ClusterRefs;
  nodes: NodeSurvey[];
  /** kube-apiserver's version (`kubectl version`, no v) */
  kubernetes?: string;
  cilium: CiliumSurvey;
  /** what could not be read, in words */
  problems: string[];
}

export interface MeshSurvey {
  mesh: string;
  clusters: ClusterSurvey[];
}

/** The lowest Kubernetes version in a cluster, like talosctl upgrade-k8s detects it (the API server and every kubelet). */
export function lowestKubernetes(c: ClusterSurvey, compare: (a: string, b: string) => number): string | undefined {
  const all = [c.kubernetes, ...c.nodes.map((n) => n.kubelet)].filter((v): v is string => Boolean(v));
  return all.reduce<string | undefined>((low, v) => (low === undefined || compare(v, low) < 0 ? v : low), undefined);
}
