// The rollout plan as data: what every step will run and the artifacts it applies. Pure and deterministic
// (no I/O, no clock, no randomness): workflows call planRollout directly.
import type { Blueprint, ClusterSpec } from './schema.ts';
import { l2Announcers, EXCLUDE_LB_LABEL } from './announcers.ts';
import { BlueprintInvalidError, checkBlueprint, toIssue, type ValidateOptions } from './validate.ts';
import { formatPath, type RawIssue } from './issues.ts';
import { contentHash } from './hash.ts';
import { talosPatches } from './render/talos.ts';
import { ciliumBaseValues, clustermeshValues, peerValues, CLUSTERMESH_PORT } from './render/cilium.ts';
import { lbIpamManifests } from './render/lb-ipam.ts';
import { globalServicesYaml, policiesYaml } from './render/mesh-manifests.ts';

/** Per-cluster steps, in execution order. The one place these names are defined. */
export const CLUSTER_STEPS = [
  'preflight',
  'boot',
  'talos-config',
  'apply-config',
  'bootstrap',
  'kubeconfig',
  'etcd-latency',
  'cilium-install',
  'cilium-ready',
  'lb-ipam',
  'clustermesh-enable',
  'clustermesh-address',
] as const;
export type ClusterStepName = (typeof CLUSTER_STEPS)[number];

export const MESH_STEPS = ['connect', 'mesh-verify', 'global-canary', 'apply-manifests'] as const;
export type MeshStepName = (typeof MESH_STEPS)[number];

/** An operator may skip these; every other step must pass (etcd-latency can be overridden, not skipped). */
export const SKIPPABLE_STEPS: ReadonlySet<string> = new Set(['boot', 'global-canary', 'apply-manifests']);

export interface StepPlan {
  name: string;
  title: string;
  /** human summary of the commands the step runs */
  runs: string[];
  skippable: boolean;
}

export interface NodePlan {
  name: string;
  address: string;
  role: 'controlplane' | 'worker';
  site: string;
  installDisk: string;
  bmc?: { endpoint: string; credentialsRef: string; systemId?: string; insecureTls?: boolean; caRef?: string };
}

export interface ClusterPlan {
  name: string;
  id: number;
  site: string;
  region: string;
  /** the cluster's pod and service CIDRs (the mesh phase tells remote backends by pod CIDR) */
  podCidrs: string[];
  serviceCidrs: string[];
  endpoint: string;
  talos: {
    version: string;
    kubernetesVersion: string;
    installImage?: string;
    patches: { all: string; controlplane: string; worker: string };
  };
  nodes: NodePlan[];
  boot: { provider: 'redfish' | 'manual' | 'none'; imageUrl?: string; bootMode?: 'virtualmedia' | 'pxe' };
  etcd: { metricsPort: number; latencyBudgetMs: number };
  cilium: {
    version: string;
    chartVersion: string;
    values: Record<string, unknown>;
    clustermeshValues: Record<string, unknown>;
  };
  lbIpam: { mode: 'l2' | 'bgp'; manifests: string };
  steps: StepPlan[];
  warnings: string[];
}

export interface MeshPlan {
  method: 'helm' | 'cilium-connect';
  maxConnectedClusters: 255 | 511;
  kvstoremesh: boolean;
  encryption: 'wireguard' | 'none';
  ciliumCliVersion: string;
  steps: StepPlan[];
  /** per cluster: Helm values listing the OTHER clusters (clustermesh.config.clusters) */
  peerValues: Record<string, Record<string, unknown>>;
  /** every global Service (multi-doc YAML) */
  globalServices: string;
  /** every cross-cluster policy (multi-doc YAML) */
  policies: string;
  /** per cluster: the global Services and policies that cluster gets (a subset when an item names clusters) */
  manifestsByCluster: Record<string, { globalServices: string; policies: string }>;
}

export interface RolloutPlan {
  mesh: string;
  /** stable content hash of the normalised blueprint */
  revision: string;
  clusters: ClusterPlan[];
  meshPhase: MeshPlan;
  /** mesh-wide warnings (cluster ones are on each ClusterPlan) */
  warnings: string[];
}

const stripV = (v: string) => v.replace(/^v/, '');
const withV = (v: string) => (v.startsWith('v') ? v : `v${v}`);

function step(name: string, title: string, runs: string[]): StepPlan {
  return { name, title, runs, skippable: SKIPPABLE_STEPS.has(name) };
}

function clusterSteps(bp: Blueprint, c: ClusterSpec, liftExclusion: boolean): StepPlan[] {
  const cps = c.nodes.filter((n) => n.role === 'controlplane');
  const chart = stripV(bp.versions.cilium);
  const bootRuns =
    c.boot.provider === 'redfish'
      ? [
          `redfish (${c.boot.bootMode ?? 'virtualmedia'}): boot ${c.boot.imageUrl ?? 'the Talos image'} once and power on`,
          `  on ${c.nodes.map((n) => n.name).join(', ')}`,
        ]
      : c.boot.provider === 'manual'
        ? ['wait for an operator to boot every node into Talos maintenance mode']
        : ['nothing: nodes are already in Talos maintenance mode'];
  return [
    step('preflight', 'Check inputs and reachability', [
      'resolve secret references',
      `talosctl get machinestatus --insecure on ${c.nodes.length} node(s)`,
    ]),
    step('boot', 'Boot nodes into Talos', bootRuns),
    step('talos-config', 'Generate Talos machine configs', [
      `talosctl gen secrets (once per cluster)`,
      `talosctl gen config ${c.name} ${c.endpoint} --kubernetes-version ${stripV(bp.versions.kubernetes)} --config-patch <all> --config-patch-control-plane <controlplane> --config-patch-worker <worker>`,
      'talosctl validate --mode metal',
    ]),
    step(
      'apply-config',
      'Apply configs to nodes in maintenance mode',
      c.nodes.map((n) => `talosctl apply-config --insecure -n ${n.address} (${n.role}, disk ${n.installDisk})`),
    ),
    step('bootstrap', 'Bootstrap etcd', [`talosctl bootstrap -n ${cps[0]?.address ?? '?'}`]),
    step('kubeconfig', 'Fetch the admin kubeconfig', ['talosctl kubeconfig', 'talosctl health --wait-timeout 10m']),
    step('etcd-latency', `Gate on etcd peer RTT <= ${c.etcd.latencyBudgetMs} ms`, [
      `GET http://<cp>:${c.etcd.metricsPort}/metrics on ${cps.length} control-plane node(s): etcd_network_peer_round_trip_time_seconds`,
    ]),
    step('cilium-install', 'Install Cilium', [
      `helm upgrade --install cilium cilium/cilium --version ${chart} -n kube-system -f <values> --wait`,
    ]),
    step('cilium-ready', 'Wait for Cilium', [
      'cilium status --wait -o json',
      'kubectl wait --for=condition=Established crd/ciliumloadbalancerippools.cilium.io',
    ]),
    step('lb-ipam', `LB-IPAM pool and ${c.loadBalancer.mode === 'l2' ? 'L2 announcements' : 'BGP advertisement'}`, [
      'kubectl apply -f <lb-ipam manifests>',
      ...(liftExclusion ? [`(control planes announce: Talos patch removes ${EXCLUDE_LB_LABEL})`] : []),
    ]),
    step('clustermesh-enable', 'Expose the clustermesh-apiserver', [
      `helm upgrade cilium -f <values> -f <clustermesh values> --wait (Service type LoadBalancer${c.clustermesh.apiserverIP ? `, pinned ${c.clustermesh.apiserverIP}` : ''})`,
    ]),
    step('clustermesh-address', 'Read the apiserver LoadBalancer address', [
      'kubectl get svc -n kube-system clustermesh-apiserver -o json (.status.loadBalancer.ingress)',
    ]),
  ];
}

function meshSteps(bp: Blueprint): StepPlan[] {
  const names = bp.clusters.map((c) => c.name);
  const connect =
    bp.mesh.method === 'helm'
      ? names.map((n) => `helm upgrade cilium on ${n} with clustermesh.config.clusters = the ${names.length - 1} other cluster(s)`)
      : names.flatMap((a, i) =>
          names.slice(i + 1).map((b) => `cilium clustermesh connect --context ${a} --destination-context ${b}`),
        );
  return [
    step('connect', 'Connect the clusters', connect),
    step('mesh-verify', 'Verify the mesh', [
      ...names.map((n) => `cilium clustermesh status --context ${n} --wait -o json`),
      ...(bp.mesh.encryption === 'wireguard' ? names.map((n) => `cilium encryption status --context ${n} -o json`) : []),
    ]),
    step('global-canary', 'Canary global service across clusters', [
      'deploy a canary global Service in every cluster and check each sees remote backends',
    ]),
    step('apply-manifests', 'Apply global services and policies', [
      `kubectl apply: ${bp.globalServices.length} global service(s), ${bp.policies.length} policy(ies)`,
    ]),
  ];
}

function planCluster(bp: Blueprint, c: ClusterSpec, warnings: string[]): ClusterPlan {
  const announcers = l2Announcers(c);
  return {
    name: c.name,
    id: c.id,
    site: c.site,
    region: c.region,
    podCidrs: [...c.network.podSubnets],
    serviceCidrs: [...c.network.serviceSubnets],
    endpoint: c.endpoint,
    talos: {
      version: withV(bp.versions.talos),
      kubernetesVersion: stripV(bp.versions.kubernetes),
      ...(c.installImage ? { installImage: c.installImage } : {}),
      patches: talosPatches(c, { liftControlPlaneExclusion: announcers.liftControlPlaneExclusion }),
    },
    nodes: c.nodes.map((n) => ({
      name: n.name,
      address: n.address,
      role: n.role,
      site: n.site ?? c.site,
      installDisk: n.installDisk,
      ...(n.bmc ? { bmc: { ...n.bmc } } : {}),
    })),
    boot: { ...c.boot },
    etcd: { ...c.etcd },
    cilium: {
      version: stripV(bp.versions.cilium),
      chartVersion: stripV(bp.versions.cilium),
      values: ciliumBaseValues(bp, c),
      clustermeshValues: clustermeshValues(bp, c),
    },
    lbIpam: { mode: c.loadBalancer.mode, manifests: lbIpamManifests(c) },
    steps: clusterSteps(bp, c, announcers.liftControlPlaneExclusion),
    warnings,
  };
}

const describe = (w: RawIssue) => `${formatPath(w.path)}: ${w.message}`;

/**
 * The plan for a schema-parsed blueprint. Runs the semantic checks again (cheap, and a workflow must never
 * roll out a blueprint that would fail them): throws BlueprintInvalidError on any error; warnings, including
 * waivers and the changes the plan makes on the user's behalf, are carried on the plan.
 */
export function planRollout(bp: Blueprint, opts: ValidateOptions = {}): RolloutPlan {
  const report = checkBlueprint(bp, opts);
  if (report.errors.length) throw new BlueprintInvalidError(report.errors.map((e) => toIssue(e)));
  const clusterWarnings = (ci: number) => report.warnings.filter((w) => w.path[0] === 'clusters' && w.path[1] === ci).map(describe);
  const manifestsByCluster: MeshPlan['manifestsByCluster'] = {};
  for (const c of bp.clusters) {
    manifestsByCluster[c.name] = { globalServices: globalServicesYaml(bp, c.name), policies: policiesYaml(bp, c.name) };
  }
  return {
    mesh: bp.metadata.name,
    revision: contentHash(bp),
    clusters: bp.clusters.map((c, ci) => planCluster(bp, c, clusterWarnings(ci))),
    meshPhase: {
      method: bp.mesh.method,
      maxConnectedClusters: bp.mesh.maxConnectedClusters,
      kvstoremesh: bp.mesh.kvstoremesh,
      encryption: bp.mesh.encryption,
      ciliumCliVersion: withV(bp.versions.ciliumCli),
      steps: meshSteps(bp),
      peerValues: peerValues(bp),
      globalServices: globalServicesYaml(bp),
      policies: policiesYaml(bp),
      manifestsByCluster,
    },
    warnings: report.warnings.map(describe),
  };
}

export { CLUSTERMESH_PORT };
