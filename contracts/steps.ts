// Workflow-safe: every step a rollout runs, in order, defined once. The workflows run steps by these names (a
// misspelt name does not compile), the plan shows their titles and what they run, the status model and every
// surface name them, and operators skip or override them by name.

export interface StepDefinition<Name extends string = string> {
  readonly name: Name;
  readonly title: string;
  /** an operator may skip it: nothing later depends on it */
  readonly skippable: boolean;
  /** a gate: a check whose failure an operator may accept with `override` (and a reason) */
  readonly gate: boolean;
  /** the commands the step's activities run, in the tools' own terms (upper-case words stand for values) */
  readonly runs: readonly string[];
  /** a mesh step that runs before the clusters start (the rest of the mesh phase runs after all of them) */
  readonly beforeClusters?: boolean;
  /**
   * Upgrade steps run once per thing they act on: the plan instantiates them per `node`, per `controlplane` node, or
   * per `cluster` (the instance's `target` in its status names which one).
   */
  readonly per?: 'node' | 'controlplane' | 'cluster';
}

const CHART = 'helm upgrade --install cilium cilium --repo https://helm.cilium.io/ --version CHART -n kube-system';
/** The deployed chart version again, keeping every value but the ones in the file (Helm replaces lists whole). */
const REUSE = 'helm upgrade cilium cilium --repo https://helm.cilium.io/ --version DEPLOYED-CHART -n kube-system --reuse-values';

/** One cluster, bare metal to a ClusterMesh-ready Cilium (workflows/cluster-rollout.ts runs them in this order). */
export const CLUSTER_STEPS = [
  {
    name: 'preflight',
    title: 'Tools at the pinned versions',
    skippable: false,
    gate: false,
    runs: ['talosctl version --client --short (its minor must be the blueprint\'s Talos minor)', 'helm version --short', 'kubectl version --client -o json', 'cilium version --client'],
  },
  {
    name: 'boot',
    title: 'Boot nodes into the Talos installer (maintenance mode)',
    skippable: true,
    gate: false,
    runs: [
      'redfish: per node not yet booted, virtual media (or PXE) boot override and power on through the BMC',
      'talosctl get machinestatus -o json --insecure -n NODE until every node answers in maintenance mode (or is installed)',
    ],
  },
  {
    name: 'talos-config',
    title: 'Talos secrets (once, ever) and machine configs',
    skippable: false,
    gate: false,
    runs: [
      'talosctl gen secrets --talos-version TALOS (once, ever: kept in the secret store)',
      'talosctl gen config CLUSTER ENDPOINT --with-secrets SECRETS --config-patch @PATCH-ALL --config-patch-control-plane @PATCH-CONTROLPLANE --config-patch-worker @PATCH-WORKER --install-disk DISK --kubernetes-version K8S --talos-version TALOS',
      'talosctl validate -c controlplane.yaml -m metal, and the same for worker.yaml',
    ],
  },
  {
    name: 'apply-config',
    title: 'Apply machine config to each node in maintenance',
    skippable: false,
    gate: false,
    runs: [
      'talosctl apply-config --insecure -n NODE -f ROLE-CONFIG on each node still in maintenance (installed nodes are left alone; a node whose disk differs from its role config gets --config-patch with its machine.install.disk)',
      'talosctl get machinestatus -n NODE until each node runs',
    ],
  },
  {
    name: 'bootstrap',
    title: 'Bootstrap etcd (exactly once)',
    skippable: false,
    gate: false,
    runs: ['talosctl etcd members -n FIRST-CP (members listed: already bootstrapped)', 'talosctl bootstrap -n FIRST-CP (AlreadyExists: already bootstrapped)'],
  },
  {
    name: 'kubeconfig',
    title: 'Fetch the admin kubeconfig',
    skippable: false,
    gate: false,
    runs: ['talosctl kubeconfig --merge=false -n FIRST-CP into the secret store (its context must be admin@CLUSTER)'],
  },
  {
    name: 'etcd-latency',
    title: 'etcd peer round-trip within budget',
    skippable: false,
    gate: true,
    runs: [
      'talosctl etcd members -n FIRST-CP',
      'GET http://CP:METRICS-PORT/metrics on every control plane: p99 of etcd_network_peer_round_trip_time_seconds per peer (and WAL fsync p99) against the budget',
    ],
  },
  {
    name: 'cilium-install',
    title: 'Install Cilium with Helm (no clustermesh LoadBalancer yet)',
    skippable: false,
    gate: false,
    runs: [`${CHART} -f VALUES -f MESH-CA (a release stuck pending-* is rolled back first; unchanged values are not upgraded)`],
  },
  {
    name: 'cilium-ready',
    title: 'Cilium agents and operator ready',
    skippable: false,
    gate: false,
    runs: ['cilium status -o json until the agents and the operator are ready'],
  },
  {
    name: 'lb-ipam',
    title: 'LB-IPAM pool + L2 announcements serve a canary LoadBalancer',
    skippable: false,
    gate: false,
    runs: [
      'kubectl wait --for=condition=Established crd/ciliumloadbalancerippools.cilium.io crd/ciliuml2announcementpolicies.cilium.io',
      'kubectl apply -f LB-IPAM',
      'a canary LoadBalancer Service must get an address (and, with L2, a lease holder); then it is deleted',
    ],
  },
  {
    name: 'clustermesh-enable',
    title: 'Enable the clustermesh-apiserver (LoadBalancer)',
    skippable: false,
    gate: false,
    runs: [`${CHART} -f VALUES -f MESH-CA (VALUES adds the clustermesh-apiserver as a LoadBalancer)`],
  },
  {
    name: 'clustermesh-address',
    title: 'clustermesh-apiserver has an address',
    skippable: false,
    gate: false,
    runs: ['kubectl get service clustermesh-apiserver -n kube-system until .status.loadBalancer.ingress has an address (when it stays <pending>, the diagnosis from its conditions)'],
  },
] as const satisfies readonly StepDefinition[];

/** The mesh: the shared CA before the clusters, the rest after every cluster reached clustermesh-address. */
export const MESH_STEPS = [
  // Day two, join (issue #16): which clusters already run in the mesh, read live, before anything is built.
  {
    name: 'mesh-preflight',
    title: 'The live mesh: members kept as they are, joining clusters must not clash with it',
    skippable: false,
    gate: false,
    beforeClusters: true,
    runs: [
      'per cluster with a kubeconfig in the secret store: kubectl get configmap cilium-config -n kube-system -o json (cluster-name, cluster-id, max-connected-clusters)',
      'helm get values cilium -n kube-system -o json (clustermesh.useAPIServer, the peers in clustermesh.config.clusters); kubectl get nodes, services -A -o json (addresses in use)',
      'a joining cluster whose ID, name, CIDRs or mesh.maxConnectedClusters clash with a live member, a member whose live ID or name differ from the blueprint, or a live peer the blueprint does not list: pause naming the field to change',
    ],
  },
  {
    name: 'mesh-ca',
    title: 'Shared ClusterMesh CA (once, ever)',
    skippable: false,
    gate: false,
    beforeClusters: true,
    runs: ['openssl req -x509 -newkey ec (P-256) once, ever: kept in the secret store as the Helm values tls.ca (MESH-CA)'],
  },
  {
    name: 'connect',
    title: 'Connect every cluster pair',
    skippable: false,
    gate: false,
    runs: [
      `mesh.method helm: ${CHART} -f VALUES -f MESH-CA on every cluster (VALUES adds clustermesh.config.clusters: the others)`,
      'mesh.method cilium-connect: cilium clustermesh connect per cluster pair',
      'with live members (a join): the joining clusters first, then one member at a time, each followed by cilium status -o json and its global Services\' backends (cilium-dbg service list): every member that served backends before still does',
    ],
  },
  {
    name: 'mesh-verify',
    title: 'cilium clustermesh status: all peers connected',
    skippable: false,
    gate: false,
    runs: ['cilium clustermesh status -o json on every cluster until every peer is connected on every agent'],
  },
  {
    name: 'global-canary',
    title: 'A canary global service sees remote backends',
    skippable: true,
    gate: false,
    runs: ['kubectl apply -f CANARY on every cluster', 'kubectl exec ds/cilium -c cilium-agent -- cilium-dbg service list -o json until the canary Service has backends in the other clusters\' pod CIDRs'],
  },
  {
    name: 'apply-manifests',
    title: "Apply the blueprint's global services and policies",
    skippable: true,
    gate: false,
    runs: ['kubectl apply -f MANIFESTS on every cluster that has global services or policies'],
  },
] as const satisfies readonly StepDefinition[];

// ---- Day two: detach (issue #16). `meshpilot detach MESH CLUSTER` runs these (workflows/mesh-detach.ts). ----

/** Take one cluster out of a live mesh: every remaining peer forgets it, the remaining mesh is verified, and the cluster keeps running on its own. */
export const DETACH_STEPS = [
  {
    name: 'detach-preflight',
    title: 'The live mesh: the leaving cluster, its peers, their global Services',
    skippable: false,
    gate: false,
    runs: [
      'helm get values cilium -n kube-system -o json on the leaving cluster and, transitively, on every peer it names (clustermesh.config.clusters)',
      'kubectl get nodes -o json (pod CIDRs), kubectl get services -A -o json (global Services) on every cluster',
      'kubectl exec ds/cilium -c cilium-agent -- cilium-dbg service list -o json on every remaining cluster: the backends each global Service has, by source cluster',
    ],
  },
  {
    name: 'remove-peer',
    title: 'Remove the leaving cluster from every remaining peer, one at a time',
    skippable: false,
    gate: false,
    runs: [`${REUSE} -f PEERS (clustermesh.config.clusters without the leaving cluster), then cilium status -o json, one remaining cluster at a time`],
  },
  {
    name: 'detach-verify',
    title: 'cilium clustermesh status: the remaining peers connected, the leaving cluster gone',
    skippable: false,
    gate: false,
    runs: ['cilium clustermesh status -o json on every remaining cluster until every remaining peer is connected and the leaving cluster is not listed'],
  },
  {
    name: 'global-services',
    title: 'Global services kept the backends of every remaining cluster',
    skippable: false,
    gate: true,
    runs: ["kubectl exec ds/cilium -c cilium-agent -- cilium-dbg service list -o json on every remaining cluster: each global Service still has backends from every remaining cluster that served it, none from the leaving one"],
  },
  {
    name: 'isolate',
    title: "Empty the leaving cluster's own peer list; it keeps running on its own",
    skippable: false,
    gate: false,
    runs: [`${REUSE} -f PEERS (clustermesh.config.clusters: []) on the leaving cluster; nothing is uninstalled or wiped`],
  },
] as const satisfies readonly StepDefinition[];

// ---- Day two: upgrade (issue #16). `meshpilot upgrade FILE` runs these (workflows/mesh-upgrade.ts, cluster-upgrade.ts). ----

type MeshStepDefinition = (typeof MESH_STEPS)[number];
/** The rollout's mesh step of that name: an upgrade re-checks the mesh with the same commands. */
const meshStep = <N extends MeshStepDefinition['name']>(name: N) => MESH_STEPS.find((d): d is Extract<MeshStepDefinition, { name: N }> => d.name === name)!;

/** One cluster's upgrade, in this order: Talos node by node (control planes first, gated), Kubernetes, Cilium. */
export const UPGRADE_CLUSTER_STEPS = [
  {
    name: 'upgrade-preflight',
    title: 'Tools at the pinned versions; talosctl at the target Talos minor',
    skippable: false,
    gate: false,
    per: 'cluster',
    runs: ["talosctl version --client --short (its minor must be the target Talos minor)", 'helm version --short', 'kubectl version --client -o json', 'cilium version --client'],
  },
  {
    name: 'etcd-gate-before',
    title: 'etcd healthy and keeps quorum without this member',
    skippable: false,
    gate: true,
    per: 'controlplane',
    runs: [
      'talosctl etcd members -n CP (every control plane is a member, none a learner)',
      'talosctl etcd status -n CP,CP,... (every member answers, no errors, one leader)',
      'quorum without NODE: floor(N/2)+1 of N members left',
      'GET http://CP:METRICS-PORT/metrics: peer round-trip p99 within the budget',
    ],
  },
  {
    name: 'talos-upgrade',
    title: 'Talos OS upgraded, the node back Ready',
    skippable: false,
    gate: false,
    per: 'node',
    runs: [
      'talosctl version -n NODE (a node already at TALOS, or upgrading right now, is not upgraded again)',
      'talosctl upgrade --nodes NODE --image INSTALLER --wait=false',
      'talosctl get machinestatus -n NODE and talosctl version -n NODE until it runs TALOS and is ready',
      'kubectl get node NAME -o json until Ready',
    ],
  },
  {
    name: 'etcd-gate-after',
    title: 'etcd healthy again with the upgraded member',
    skippable: false,
    gate: true,
    per: 'controlplane',
    runs: [
      'talosctl etcd members -n CP and talosctl etcd status -n CP,CP,...: the upgraded member rejoined and every member is healthy',
      'GET http://CP:METRICS-PORT/metrics: peer round-trip p99 within the budget',
    ],
  },
  {
    name: 'kubernetes-upgrade',
    title: 'Kubernetes control plane and kubelets upgraded (talosctl upgrade-k8s)',
    skippable: false,
    gate: false,
    per: 'cluster',
    runs: [
      'talosctl upgrade-k8s -n FIRST-CP --from FROM --to K8S --with-docs=false --with-examples=false',
      'kubectl version -o json and kubectl get nodes -o json: the API server and every kubelet at K8S, every node Ready',
    ],
  },
  {
    name: 'cilium-upgrade',
    title: 'Cilium one minor at a time: agents and clustermesh-apiserver together',
    skippable: false,
    gate: false,
    per: 'cluster',
    runs: [`${CHART} -f VALUES -f MESH-CA (VALUES: the deployed peers unchanged, upgradeCompatibility set to the minor first installed)`],
  },
  {
    name: 'cilium-verify',
    title: 'cilium status: agents, operator and clustermesh-apiserver ready at the new version',
    skippable: false,
    gate: false,
    per: 'cluster',
    runs: ['cilium status -o json until every component is ready and image_count shows only CHART for the agents and the clustermesh-apiserver'],
  },
] as const satisfies readonly StepDefinition[];

/** The upgrade's own steps: the live survey first, then after each cluster the mesh must still be whole. */
export const UPGRADE_MESH_STEPS = [
  {
    name: 'survey',
    title: 'The live versions of every node and cluster, and the upgrade path from them',
    skippable: false,
    gate: false,
    runs: [
      'talosctl version -n NODE per node; kubectl version -o json and kubectl get nodes -o json per cluster',
      'helm history cilium and helm get values cilium (chart, upgradeCompatibility, peers) and cilium status -o json (agent and clustermesh-apiserver images) per cluster',
      'a path that skips a minor (Talos, Kubernetes or Cilium) or goes backwards is refused, naming the path to take',
    ],
  },
  { ...meshStep('mesh-verify'), per: 'cluster' },
  { ...meshStep('global-canary'), per: 'cluster' },
] as const satisfies readonly StepDefinition[];

// ---- Protection (issue #17): `meshpilot backup now|schedule` runs these per cluster (workflows/backup.ts). ----

/** One etcd snapshot of one cluster, stored encrypted, then the retention policy. Reads the cluster; never changes it. */
export const BACKUP_STEPS = [
  {
    name: 'backup-target',
    title: 'A healthy control plane to stream the snapshot from (read-only)',
    skippable: false,
    gate: false,
    runs: ['talosctl etcd members -n CP on each control plane in the blueprint\'s order, until one answers with a member list that holds it'],
  },
  {
    name: 'etcd-snapshot',
    title: 'etcd snapshot, checked and stored encrypted',
    skippable: false,
    gate: false,
    runs: [
      'talosctl etcd snapshot SCRATCH/etcd.snapshot -n CP (SCRATCH: a RAM-backed directory, removed after the call)',
      'the file must be whole pages plus its trailing sha256 (what etcd restore checks); its sha256, size and member list are recorded',
      'stored encrypted under the secret-store reference backup/MESH/CLUSTER/ID (history carries the reference only)',
    ],
  },
  {
    name: 'retention',
    title: 'Prune snapshots past the retention policy',
    skippable: true,
    gate: false,
    runs: ['delete the stored snapshots of CLUSTER past --keep-last N or older than --max-age (the newest one always stays)'],
  },
] as const satisfies readonly StepDefinition[];

/**
 * A restore drill: a stored snapshot restored onto a fresh control plane (Talos' disaster-recovery procedure on spare
 * hardware), then proven to hold the snapshot's data. Only a node that is fresh (Talos maintenance mode) is touched.
 */
export const RESTORE_DRILL_STEPS = [
  {
    name: 'drill-preflight',
    title: 'The snapshot verifies and the drill node is fresh (read-only)',
    skippable: false,
    gate: false,
    runs: [
      'the stored snapshot decrypts and matches its recorded sha256 and size',
      "the source cluster's control-plane machine config is in the secret store",
      'talosctl get machinestatus -o json --insecure -n DRILL-NODE: the node must be in maintenance mode (a configured node is never touched)',
    ],
  },
  {
    name: 'drill-install',
    title: "Install the source cluster's control-plane config on the drill node",
    skippable: false,
    gate: false,
    runs: ['talosctl apply-config --insecure -n DRILL-NODE -f CONTROLPLANE-CONFIG', 'talosctl get machinestatus -n DRILL-NODE until it runs'],
  },
  {
    name: 'drill-recover',
    title: 'Recover etcd from the snapshot (talosctl bootstrap --recover-from)',
    skippable: false,
    gate: false,
    runs: ['talosctl bootstrap --recover-from=SCRATCH/etcd.snapshot -n DRILL-NODE (the snapshot decrypted into a RAM-backed directory for the call)'],
  },
  {
    name: 'drill-prove',
    title: "The restored etcd holds the snapshot's data",
    skippable: false,
    gate: false,
    runs: [
      'talosctl etcd members -n DRILL-NODE: the restored etcd answers, with the drill node as its member',
      "talosctl etcd snapshot SCRATCH/proof.snapshot -n DRILL-NODE: its revision and key count are at least the stored snapshot's",
    ],
  },
] as const satisfies readonly StepDefinition[];

const ROTATE_PREFLIGHT = {
  name: 'rotate-preflight',
  title: "The mesh's CA and every cluster's ClusterMesh certificates, trust and peer links (read-only)",
  skippable: false,
  gate: false,
  runs: [
    'the mesh CA (and a rotation\'s next CA) from the secret store: subject, expiry, fingerprint',
    'kubectl get secret cilium-ca clustermesh-apiserver-{server,admin,remote,local,client}-cert -n kube-system -o json and helm get values cilium (tls.caBundle) on every cluster: issuer, expiry, trusted CAs (keys are dropped on read)',
    'cilium clustermesh status -o json on every cluster: the peer links up now, which every later step must keep',
  ],
} as const;

const perClusterTls = (what: string) =>
  `one cluster at a time: ${what} with helm upgrade cilium --reuse-values at the deployed chart version (values on stdin), then cilium clustermesh status -o json on every cluster until every peer link up before is up again`;

const ROTATE_VERIFY = {
  name: 'rotate-verify',
  title: 'The mesh after the rotation: every peer connected, every cluster trusts every other, certificates fresh',
  skippable: false,
  gate: true,
  runs: [
    'cilium clustermesh status -o json on every cluster until every blueprint peer is connected on every agent',
    "every cluster's certificates come from a CA every other cluster trusts, and none expires within the warning window",
  ],
} as const;

/** `meshpilot rotate certs`: new leaf certificates from the same CA, cluster by cluster (the chart re-issues them on an upgrade). */
export const ROTATE_CERTS_STEPS = [
  ROTATE_PREFLIGHT,
  {
    name: 'renew-certs',
    title: 'Re-issue the ClusterMesh certificates of each cluster from the mesh CA',
    skippable: false,
    gate: false,
    runs: [perClusterTls('tls.ca = the mesh CA, tls.caBundle off (the chart re-issues server, admin, remote, local and client certificates)')],
  },
  ROTATE_VERIFY,
] as const satisfies readonly StepDefinition[];

/**
 * `meshpilot rotate ca`: the shared CA replaced without a disconnect. Each phase keeps every cluster trusting the
 * CA every other cluster's certificates come from, so the mesh stays connected after every step, and an abort at
 * any point leaves it connected.
 */
export const ROTATE_CA_STEPS = [
  ROTATE_PREFLIGHT,
  {
    name: 'new-ca',
    title: 'Create the next CA (once; kept in the secret store until promoted)',
    skippable: false,
    gate: false,
    runs: ['openssl req -x509 (EC P-256, 10 years) into the RAM-backed scratch, stored encrypted as mesh/MESH/clustermesh-ca-next'],
  },
  {
    name: 'trust-both',
    title: 'Every cluster trusts the old and the new CA',
    skippable: false,
    gate: false,
    runs: [perClusterTls('tls.caBundle = old + new CA, certificates still from the CA each cluster issues from')],
  },
  {
    name: 'reissue',
    title: 'Every cluster re-issues its certificates from the new CA',
    skippable: false,
    gate: false,
    runs: [perClusterTls('tls.ca = the new CA, tls.caBundle still old + new')],
  },
  {
    name: 'drop-old-ca',
    title: 'Every cluster stops trusting the old CA',
    skippable: false,
    gate: false,
    runs: [perClusterTls('tls.caBundle off: each cluster trusts its issuing CA, the new one')],
  },
  {
    name: 'promote-ca',
    title: "The new CA becomes the mesh's CA (what later rollouts install)",
    skippable: false,
    gate: false,
    runs: ['secret store: clustermesh-ca → clustermesh-ca-previous, clustermesh-ca-next → clustermesh-ca'],
  },
  ROTATE_VERIFY,
] as const satisfies readonly StepDefinition[];

/**
 * A failover drill (issue #17, part 3): one region's backends of global Services out of service, the failover
 * watched from every cluster, then everything put back. The restore runs even when the drill is aborted.
 */
export const FAILOVER_DRILL_STEPS = [
  {
    name: 'failover-preflight',
    title: 'The mesh is whole and the services have backends elsewhere (read-only)',
    skippable: false,
    gate: false,
    runs: [
      'cilium clustermesh status -o json on every cluster: every peer connected',
      'kubectl get service SERVICE -o json in every cluster: it exists and is global (service.cilium.io/global: "true")',
      'kubectl get deployments -n NAMESPACE -o json in the drained clusters: the Deployments whose pods the Service selects, and their replicas (kept for the restore)',
      'kubectl exec -n kube-system ds/cilium -c cilium-agent -- cilium-dbg service list -o json on every cluster: backends by source cluster; another region must hold healthy ones',
    ],
  },
  {
    name: 'failover-drain',
    title: "Take the region's backends out of service",
    skippable: false,
    gate: false,
    runs: ['kubectl scale deployment/NAME --replicas=0 -n NAMESPACE for each recorded Deployment in the drained clusters (already at 0: left alone)'],
  },
  {
    name: 'failover-observe',
    title: 'Every cluster reaches healthy backends in the other regions',
    skippable: false,
    gate: false,
    runs: [
      'cilium-dbg service list -o json on every cluster, polled: no backend of the drained region is left and healthy ones elsewhere are; the time from the drain is recorded',
      'the drained region\'s own clusters too: with their local backends gone, do their clients reach remote ones (service.cilium.io/affinity, shared)?',
    ],
  },
  {
    name: 'failover-restore',
    title: 'Put every backend back (runs after an abort too)',
    skippable: false,
    gate: false,
    runs: [
      'kubectl scale deployment/NAME --replicas=ORIGINAL -n NAMESPACE for each drained Deployment',
      'kubectl get deployment NAME -o json until readyReplicas = ORIGINAL, then cilium-dbg service list until every cluster sees the region\'s backends again',
    ],
  },
  {
    name: 'failover-report',
    title: 'Write the report (markdown and JSON)',
    skippable: false,
    gate: false,
    runs: ['WORKDIR/drills/ID/report.md and report.json on the worker; the summary in the run\'s details, the result and chat'],
  },
] as const satisfies readonly StepDefinition[];

export type ClusterStepName = (typeof CLUSTER_STEPS)[number]['name'];
export type MeshStepName = (typeof MESH_STEPS)[number]['name'];
export type DetachStepName = (typeof DETACH_STEPS)[number]['name'];
export type UpgradeClusterStepName = (typeof UPGRADE_CLUSTER_STEPS)[number]['name'];
export type UpgradeMeshStepName = (typeof UPGRADE_MESH_STEPS)[number]['name'];
export type BackupStepName = (typeof BACKUP_STEPS)[number]['name'];
export type RestoreDrillStepName = (typeof RESTORE_DRILL_STEPS)[number]['name'];
export type RotateStepName = (typeof ROTATE_CA_STEPS)[number]['name'] | (typeof ROTATE_CERTS_STEPS)[number]['name'];
export type FailoverDrillStepName = (typeof FAILOVER_DRILL_STEPS)[number]['name'];
export type StepName =
  | ClusterStepName
  | MeshStepName
  | DetachStepName
  | UpgradeClusterStepName
  | UpgradeMeshStepName
  | BackupStepName
  | RestoreDrillStepName
  | RotateStepName
  | FailoverDrillStepName;

/** How a paused step re-checks by itself, and how long its history may grow while it waits. */
export interface PauseLimits {
  /** first automatic re-check after this long; doubles up to `recheckMaxMs` */
  recheckBaseMs: number;
  recheckMaxMs: number;
  /** continue-as-new when history passes this many events while paused (bounded history on long pauses) */
  maxHistoryEvents: number;
}

export const DEFAULT_PAUSE_LIMITS: PauseLimits = {
  recheckBaseMs: 15_000,
  recheckMaxMs: 15 * 60_000,
  maxHistoryEvents: 1_500,
};
