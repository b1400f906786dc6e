// The rollout plan as data: what every step will run and the artifacts it applies. Pure and deterministic
// (no I/O, no clock, no randomness). The steps, their titles and what they run come from contracts/steps.ts (the
// table the workflows run); this adds the blueprint's specifics.
import type { Blueprint, ClusterSpec } from './schema.ts';
import { l2Announcers, EXCLUDE_LB_LABEL } from './announcers.ts';
import { BlueprintInvalidError, checkBlueprint, toIssue, type ValidateOptions } from './validate.ts';
import { formatPath, type RawIssue } from './issues.ts';
import { contentHash } from './hash.ts';
import { ARTIFACT } from './artifact-paths.ts';
import { GOLDEN_RULE_ETCD_RTT_MS } from './limits.ts';
import { talosPatches } from './render/talos.ts';
import { ciliumBaseValues, clustermeshValues } from './render/cilium.ts';
import { lbIpamManifests } from './render/lb-ipam.ts';
import { globalServicesYaml, policiesYaml } from './render/mesh-manifests.ts';
import { peerValues } from './render/step-artifacts.ts';
import { clusterVersions, stripV, withV } from './versions.ts';
import { CLUSTER_STEPS, MESH_STEPS, type ClusterStepName, type MeshStepName, type StepDefinition, type StepName } from '../contracts/steps.ts';

export interface StepPlan {
  name: StepName;
  title: string;
  skippable: boolean;
  /** an operator may accept its failure with `override` */
  gate: boolean;
  /** what the step runs (contracts/steps.ts: upper-case words stand for values) */
  runs: string[];
  /** this blueprint's values for them: nodes, addresses, versions, the artifact files (`meshpilot plan --out`) */
  details: string[];
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
  /** the nodes' L2 subnets (optional: plans recorded before it existed lack it) */
  nodeCidrs?: string[];
  endpoint: string;
  talos: {
    version: string;
    kubernetesVersion: string;
    installImage?: string;
    patches: { all: string; controlplane: string; worker: string };
  };
  nodes: NodePlan[];
  boot: { provider: 'redfish' | 'manual' | 'none'; imageUrl?: string; bootMode?: 'virtualmedia' | 'pxe' };
  /** `waiver`: the written reason that raised the budget above the Golden Rule (recorded in the audit when used) */
  etcd: { metricsPort: number; latencyBudgetMs: number; waiver?: string };
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
  /** per cluster: Helm values listing the OTHER clusters (clustermesh.config.clusters), by their pinned IPs */
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
  /** `meshpilot upgrade`: the cluster that goes first (blueprint upgrade.canary; absent: the first cluster) */
  upgradeCanary?: string;
}

/** The budget is above the Golden Rule, which the checks allow only with a waiver. */
const etcdWaived = (c: ClusterSpec) => c.etcd.latencyBudgetMs > GOLDEN_RULE_ETCD_RTT_MS && c.waivers.etcdLatencyBudget !== undefined;

function stepPlan<N extends StepName>(def: StepDefinition<N>, details: string[]): StepPlan {
  return { name: def.name, title: def.title, skippable: def.skippable, gate: def.gate, runs: [...def.runs], details };
}

/** Every cluster step's specifics: a Record over the step names, so a step added to the table must be planned here. */
function clusterSteps(bp: Blueprint, c: ClusterSpec, liftExclusion: boolean): StepPlan[] {
  const cps = c.nodes.filter((n) => n.role === 'controlplane');
  const firstCp = cps[0] ? `FIRST-CP ${cps[0].name} ${cps[0].address}` : 'FIRST-CP none';
  const v = clusterVersions(bp, c);
  const chart = `CHART ${v.cilium}`;
  const nodes = c.nodes.map((n) => `${n.name} ${n.address} (${n.role}, disk ${n.installDisk})`);
  const details: Record<ClusterStepName, string[]> = {
    preflight: [`talosctl ${v.talos} (minor ${stripV(v.talos).split('.').slice(0, 2).join('.')})`],
    boot: [
      c.boot.provider === 'redfish'
        ? `provider redfish (${c.boot.bootMode ?? 'virtualmedia'}): ${c.boot.imageUrl ?? 'the Talos image'} on ${c.nodes.map((n) => n.name).join(', ')}`
        : c.boot.provider === 'manual'
          ? 'provider manual: an operator boots every node into Talos maintenance mode'
          : 'provider none: the nodes already run the Talos installer',
      `NODE ${c.nodes.map((n) => n.address).join(', ')}`,
    ],
    'talos-config': [
      `CLUSTER ${c.name}, ENDPOINT ${c.endpoint}, TALOS ${v.talos}, K8S ${v.kubernetes}, DISK ${c.nodes[0]?.installDisk ?? '/dev/sda'}`,
      `PATCH-ALL ${ARTIFACT.patchAll(c.name)}, PATCH-CONTROLPLANE ${ARTIFACT.patchControlplane(c.name)}, PATCH-WORKER ${ARTIFACT.patchWorker(c.name)}`,
    ],
    'apply-config': nodes,
    bootstrap: [firstCp],
    kubeconfig: [firstCp, `CLUSTER ${c.name}`],
    'etcd-latency': [
      `${cps.length} control plane(s) on METRICS-PORT ${c.etcd.metricsPort}, budget ${c.etcd.latencyBudgetMs} ms` +
        (etcdWaived(c) ? ` (WAIVED above the Golden Rule's ${GOLDEN_RULE_ETCD_RTT_MS} ms: ${c.waivers.etcdLatencyBudget})` : ''),
    ],
    'cilium-install': [`${chart}, VALUES ${ARTIFACT.values(c.name)}`],
    'cilium-ready': [],
    'lb-ipam': [
      `LB-IPAM ${ARTIFACT.lbIpam(c.name)}: ${c.loadBalancer.mode === 'l2' ? 'pool + L2 announcement policy' : 'pool + BGP peering and advertisement'}`,
      ...(liftExclusion ? [`control planes announce: the Talos control-plane patch removes ${EXCLUDE_LB_LABEL}`] : []),
    ],
    'clustermesh-enable': [`${chart}, VALUES ${ARTIFACT.clustermeshValues(c.name)}${c.clustermesh.apiserverIP ? ` (LoadBalancer pinned to ${c.clustermesh.apiserverIP})` : ''}`],
    'clustermesh-address': [c.clustermesh.apiserverIP ? `expected ${c.clustermesh.apiserverIP} (pinned)` : 'any address from the LB-IPAM pool'],
  };
  return CLUSTER_STEPS.map((def) => stepPlan(def, details[def.name]));
}

function meshSteps(bp: Blueprint): StepPlan[] {
  const names = bp.clusters.map((c) => c.name);
  const details: Record<MeshStepName, string[]> = {
    'mesh-preflight': [
      `reads ${names.join(', ')} where the secret store holds a kubeconfig (mesh/${bp.metadata.name}/CLUSTER/kubeconfig): a member is kept as it is (no Talos change, no Cilium install; its etcd gate is re-checked), every other cluster is built`,
      `refuses a joining cluster whose ID, name or CIDRs are in use by a member, a member whose live ID differs, a live peer not in this blueprint, maxConnectedClusters other than ${bp.mesh.maxConnectedClusters}`,
    ],
    'mesh-ca': [`one CA for mesh ${bp.metadata.name}, kept across its rollouts`],
    connect:
      bp.mesh.method === 'helm'
        ? [`mesh.method helm: CHART ${stripV(bp.versions.cilium)}`, ...names.map((n) => `${n}: VALUES ${ARTIFACT.connectValues(n)} (the ${names.length - 1} other cluster(s))`)]
        : names.flatMap((a, i) => names.slice(i + 1).map((b) => `cilium clustermesh connect --context ${a} --destination-context ${b}`)),
    'mesh-verify': names.map((n) => `${n}: expects ${names.filter((o) => o !== n).join(', ')}`),
    'global-canary': names.map((n) => `${n}: CANARY ${ARTIFACT.globalCanary(n)}`),
    'apply-manifests': [
      `${bp.globalServices.length} global service(s), ${bp.policies.length} policy(ies)`,
      ...bp.clusters.filter((c) => globalServicesYaml(bp, c.name) || policiesYaml(bp, c.name)).map((c) => `${c.name}: MANIFESTS ${ARTIFACT.meshManifests(c.name)}`),
    ],
  };
  return MESH_STEPS.map((def) => stepPlan(def, details[def.name]));
}

function planCluster(bp: Blueprint, c: ClusterSpec, warnings: string[]): ClusterPlan {
  const announcers = l2Announcers(c);
  const v = clusterVersions(bp, c);
  return {
    name: c.name,
    id: c.id,
    site: c.site,
    region: c.region,
    podCidrs: [...c.network.podSubnets],
    serviceCidrs: [...c.network.serviceSubnets],
    nodeCidrs: [...c.network.nodeSubnets],
    endpoint: c.endpoint,
    talos: {
      version: v.talos,
      kubernetesVersion: v.kubernetes,
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
    etcd: { ...c.etcd, ...(etcdWaived(c) ? { waiver: c.waivers.etcdLatencyBudget } : {}) },
    cilium: {
      version: v.cilium,
      chartVersion: v.cilium,
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
      peerValues: Object.fromEntries(bp.clusters.map((c) => [c.name, peerValues(c.name, pinnedApiservers(bp))])),
      globalServices: globalServicesYaml(bp),
      policies: policiesYaml(bp),
      manifestsByCluster,
    },
    warnings: report.warnings.map(describe),
    ...(bp.upgrade?.canary ? { upgradeCanary: bp.upgrade.canary } : {}),
  };
}

/** Every cluster's clustermesh-apiserver as far as the blueprint knows it (its pinned IP, if any). */
function pinnedApiservers(bp: Blueprint) {
  return bp.clusters.map((c) => ({ name: c.name, ...(c.clustermesh.apiserverIP ? { address: c.clustermesh.apiserverIP } : {}) }));
}
