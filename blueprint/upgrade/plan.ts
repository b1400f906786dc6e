// The upgrade plan: from the live versions (the survey) to a blueprint revision's, one cluster at a time (the canary
// first), each cluster Talos node by node (control planes first, one at a time, between etcd gates), then Kubernetes,
// then Cilium, and the mesh re-verified after each cluster. Pure and deterministic: `upgrade --plan` prints it and
// the upgrade workflow runs exactly these steps.
import { UPGRADE_CLUSTER_STEPS, UPGRADE_MESH_STEPS, type StepDefinition, type UpgradeClusterStepName, type UpgradeMeshStepName } from '../../contracts/steps.ts';
import type { ClusterPlan, RolloutPlan } from '../plan.ts';
import { helmValuesAt, type DeployedPeers, type Values } from '../render/step-artifacts.ts';
import {
  ciliumPathRefusal,
  compareVersions,
  describeRefusal,
  kubernetesPathRefusal,
  kubernetesRangeOf,
  minorOf,
  parts,
  stripV,
  talosPathRefusal,
  type PathRefusal,
} from '../versions.ts';
import { lowestKubernetes, type ClusterSurvey, type MeshSurvey } from './survey.ts';

export interface UpgradeStepPlan<Name extends UpgradeClusterStepName | UpgradeMeshStepName = UpgradeClusterStepName | UpgradeMeshStepName> {
  name: Name;
  /** the node (per-node steps) or cluster (the mesh's per-cluster steps) this instance acts on */
  target?: string;
  title: string;
  skippable: boolean;
  gate: boolean;
  runs: string[];
  /** this upgrade's values for the step: nodes, versions, images */
  details: string[];
}

export interface NodeUpgrade {
  name: string;
  address: string;
  role: 'controlplane' | 'worker';
  /** the version it runs now (absent: it did not answer during the survey) */
  from?: string;
}

export interface ClusterUpgradePlan {
  name: string;
  site: string;
  canary: boolean;
  /** nodes to upgrade, in order: control planes one at a time, then workers */
  talos?: { to: string; image: string; nodes: NodeUpgrade[] };
  kubernetes?: { from: string; to: string };
  cilium?: { from: string; to: string; upgradeCompatibility: string; peers: DeployedPeers; values: Values };
  /** the Cilium images disagree with the chart (clustermesh-apiserver left behind): cilium-verify runs to say so */
  verifyCilium: boolean;
  steps: Array<UpgradeStepPlan<UpgradeClusterStepName>>;
}

export interface UpgradeRefusal extends PathRefusal {
  cluster: string;
  node?: string;
  /** one sentence with the way forward */
  message: string;
}

export interface UpgradePlan {
  mesh: string;
  revision: string;
  canary: string;
  /** every cluster in upgrade order, the canary first */
  order: string[];
  /** the clusters with something to upgrade, in order */
  clusters: ClusterUpgradePlan[];
  /** already at the blueprint's versions */
  unchanged: string[];
  meshSteps: Array<UpgradeStepPlan<UpgradeMeshStepName>>;
  /** paths the tools do not support: when any, nothing runs */
  refusals: UpgradeRefusal[];
  warnings: string[];
}

/** Thrown where a plan with refusals would run: every refusal names the path to take. */
export class UpgradeRefusedError extends Error {
  override name = 'UpgradeRefusedError';
  constructor(readonly refusals: UpgradeRefusal[]) {
    super(`the upgrade path is not supported: ${refusals.map((r) => `${r.cluster}${r.node ? `/${r.node}` : ''}: ${r.message}`).join('; ')}`);
  }
}

const def = <D extends StepDefinition>(defs: readonly D[], name: D['name']): D => defs.find((d) => d.name === name)!;

function step<Name extends UpgradeClusterStepName | UpgradeMeshStepName>(
  defs: readonly StepDefinition<Name>[],
  name: Name,
  details: string[],
  target?: string,
): UpgradeStepPlan<Name> {
  const d = def(defs, name);
  return { name, ...(target !== undefined ? { target } : {}), title: d.title, skippable: d.skippable, gate: d.gate, runs: [...d.runs], details };
}

const clusterStep = (name: UpgradeClusterStepName, details: string[], target?: string) => step(UPGRADE_CLUSTER_STEPS, name, details, target);
const meshStep = (name: UpgradeMeshStepName, details: string[], target?: string) => step(UPGRADE_MESH_STEPS, name, details, target);

/** The installer image of a Talos version: the blueprint's (its tag is checked to be the version) or the stock one. */
export function installerImage(c: ClusterPlan): string {
  return c.talos.installImage ?? `ghcr.io/siderolabs/installer:${c.talos.version}`;
}

/** Every cluster, the canary first, then the blueprint's order. */
export function upgradeOrder(plan: RolloutPlan): string[] {
  const names = plan.clusters.map((c) => c.name);
  const canary = plan.upgradeCanary && names.includes(plan.upgradeCanary) ? plan.upgradeCanary : names[0]!;
  return [canary, ...names.filter((n) => n !== canary)];
}

interface ClusterOutcome {
  plan?: ClusterUpgradePlan;
  refusals: UpgradeRefusal[];
  warnings: string[];
}

function planCluster(c: ClusterPlan, s: ClusterSurvey | undefined, canary: boolean): ClusterOutcome {
  const refusals: UpgradeRefusal[] = [];
  const warnings: string[] = [];
  const refuse = (r: PathRefusal | undefined, node?: string) => {
    if (r) refusals.push({ ...r, cluster: c.name, ...(node ? { node } : {}), message: describeRefusal(r) });
  };
  if (!s) {
    refusals.push({ component: 'talos', from: '?', to: c.talos.version, path: [], cluster: c.name, reason: 'the survey has no record of this cluster', message: `the survey did not reach ${c.name}: is it rolled out? (meshpilot rollout first)` });
    return { refusals, warnings };
  }
  for (const p of s.problems) warnings.push(`${c.name}: ${p}`);

  // Talos, node by node: control planes in the blueprint's order, then workers.
  const targetTalos = c.talos.version;
  const ordered = [...c.nodes.filter((n) => n.role === 'controlplane'), ...c.nodes.filter((n) => n.role === 'worker')];
  const nodes: NodeUpgrade[] = [];
  for (const n of ordered) {
    const live = s.nodes.find((x) => x.name === n.name);
    if (live?.talos && compareVersions(live.talos, targetTalos) === 0 && live.stage !== 'upgrading') continue;
    if (live?.talos) refuse(talosPathRefusal(live.talos, targetTalos), n.name);
    else warnings.push(`${c.name}: ${n.name} (${n.address}) did not report its Talos version (${live?.stage ?? 'not surveyed'}): it is upgraded in its turn if it needs it`);
    nodes.push({ name: n.name, address: n.address, role: n.role, ...(live?.talos ? { from: live.talos } : {}) });
  }
  const talos = nodes.length ? { to: targetTalos, image: installerImage(c), nodes } : undefined;

  // Kubernetes: from the lowest version running (what upgrade-k8s would detect) to the blueprint's.
  const lowest = lowestKubernetes(s, compareVersions);
  let kubernetes: ClusterUpgradePlan['kubernetes'];
  if (!lowest) warnings.push(`${c.name}: the Kubernetes version could not be read; no Kubernetes upgrade is planned`);
  else {
    const to = c.talos.kubernetesVersion;
    if (compareVersions(lowest, to) !== 0) {
      refuse(kubernetesPathRefusal(lowest, to, targetTalos));
      kubernetes = { from: stripV(lowest), to: stripV(to) };
    }
    // Talos goes first: the Kubernetes running meanwhile must be one the new Talos supports.
    const range = talos ? kubernetesRangeOf(targetTalos) : undefined;
    if (range && parts(lowest)[1] < range[0]) {
      refusals.push({
        component: 'kubernetes',
        from: stripV(lowest),
        to: stripV(to),
        path: [],
        cluster: c.name,
        reason: `Talos ${minorOf(targetTalos)} supports Kubernetes 1.${range[0]}-1.${range[1]}, and ${c.name} runs ${stripV(lowest)}`,
        message: `Talos ${minorOf(targetTalos)} supports Kubernetes 1.${range[0]}-1.${range[1]} and ${c.name} runs ${stripV(lowest)}: upgrade Kubernetes on the current Talos first (a revision with only versions.kubernetes changed)`,
      });
    }
  }

  // Cilium: one minor at a time; the clustermesh-apiserver moves with the agents (same chart).
  let cilium: ClusterUpgradePlan['cilium'];
  const targetCilium = c.cilium.chartVersion;
  const { chart } = s.cilium;
  if (!chart || s.cilium.release === 'absent') {
    refusals.push({ component: 'cilium', from: 'none', to: targetCilium, path: [], cluster: c.name, reason: 'Cilium is not installed', message: `Cilium is not installed in ${c.name}: roll the cluster out first (meshpilot rollout)` });
  } else if (compareVersions(chart, targetCilium) !== 0) {
    refuse(ciliumPathRefusal(chart, targetCilium));
    const peers: DeployedPeers = { enabled: s.cilium.meshConfigEnabled, clusters: s.cilium.peers };
    const upgradeCompatibility = s.cilium.upgradeCompatibility ?? minorOf(chart);
    cilium = { from: chart, to: targetCilium, upgradeCompatibility, peers, values: helmValuesAt['cilium-upgrade'](c.cilium, peers, upgradeCompatibility) };
    if (s.cilium.release !== 'deployed') warnings.push(`${c.name}: the cilium release is ${s.cilium.release}: the upgrade recovers it first (rollback to the last good revision)`);
  }
  const images = [...new Set([...s.cilium.agents, ...s.cilium.apiserver])];
  const skewed = images.length > 1 || (images.length === 1 && chart !== undefined && compareVersions(images[0]!, chart) !== 0);
  if (skewed) {
    warnings.push(
      `${c.name}: the Cilium images disagree (agents ${s.cilium.agents.join(', ') || 'none'}, clustermesh-apiserver ${s.cilium.apiserver.join(', ') || 'none'}, chart ${chart ?? 'none'}): ` +
        'the upgrade brings every component to the chart version and checks it (cilium-verify)',
    );
  }
  const verifyCilium = Boolean(cilium) || skewed;
  if (!talos && !kubernetes && !cilium && !verifyCilium) return { refusals, warnings };

  const cps = c.nodes.filter((n) => n.role === 'controlplane');
  const firstCp = cps[0];
  const steps: ClusterUpgradePlan['steps'] = [];
  steps.push(
    clusterStep('upgrade-preflight', [
      `talosctl at Talos ${minorOf(targetTalos)}.x`,
      ...(talos ? [`Talos → ${targetTalos} on ${talos.nodes.length} node(s)`] : []),
      ...(kubernetes ? [`Kubernetes ${kubernetes.from} → ${kubernetes.to}`] : []),
      ...(cilium ? [`Cilium ${cilium.from} → ${cilium.to}`] : []),
    ]),
  );
  for (const n of talos?.nodes ?? []) {
    const line = `NODE ${n.name} ${n.address} (${n.role}): ${n.from ?? 'unknown'} → ${targetTalos}, INSTALLER ${talos!.image}`;
    if (n.role === 'controlplane') {
      const quorum = Math.floor(cps.length / 2) + 1;
      const etcd = `${cps.length} member(s): quorum ${quorum}; without ${n.name} ${cps.length - 1} remain; budget ${c.etcd.latencyBudgetMs} ms on METRICS-PORT ${c.etcd.metricsPort}`;
      steps.push(clusterStep('etcd-gate-before', [etcd], n.name), clusterStep('talos-upgrade', [line], n.name), clusterStep('etcd-gate-after', [`${n.name} rejoined; ${etcd}`], n.name));
    } else {
      steps.push(clusterStep('talos-upgrade', [line], n.name));
    }
  }
  if (kubernetes) steps.push(clusterStep('kubernetes-upgrade', [`FROM ${kubernetes.from} K8S ${kubernetes.to}`, `FIRST-CP ${firstCp?.name ?? 'none'} ${firstCp?.address ?? ''}`.trim()]));
  if (cilium) {
    steps.push(
      clusterStep('cilium-upgrade', [
        `CHART ${cilium.from} → ${cilium.to}`,
        `upgradeCompatibility: "${cilium.upgradeCompatibility}"`,
        `peers kept as deployed: ${cilium.peers.clusters.map((p) => p.name).join(', ') || 'none'}`,
      ]),
    );
  }
  if (verifyCilium) steps.push(clusterStep('cilium-verify', [`agents, operator and clustermesh-apiserver at ${targetCilium}`]));
  return { plan: { name: c.name, site: c.site, canary, ...(talos ? { talos } : {}), ...(kubernetes ? { kubernetes } : {}), ...(cilium ? { cilium } : {}), verifyCilium, steps }, refusals, warnings };
}

/** The plan from the live versions to the blueprint's; pure. Check `refusals` before running it. */
export function planUpgrade(plan: RolloutPlan, survey: MeshSurvey): UpgradePlan {
  const order = upgradeOrder(plan);
  const canary = order[0]!;
  const outcomes = order.map((name) => {
    const c = plan.clusters.find((x) => x.name === name)!;
    return planCluster(c, survey.clusters.find((s) => s.cluster === name), name === canary);
  });
  const clusters = outcomes.flatMap((o) => (o.plan ? [o.plan] : []));
  const others = (name: string) => plan.clusters.filter((c) => c.name !== name).map((c) => c.name);
  const meshSteps: UpgradePlan['meshSteps'] = [
    meshStep('survey', [`${survey.clusters.length} cluster(s), ${survey.clusters.reduce((n, c) => n + c.nodes.length, 0)} node(s) read`]),
  ];
  for (const c of clusters) {
    if (plan.clusters.length > 1) {
      meshSteps.push(
        meshStep('mesh-verify', [`after ${c.name}: every cluster sees every peer (${plan.clusters.map((x) => `${x.name} expects ${others(x.name).join(', ')}`).join('; ')})`], c.name),
        meshStep('global-canary', [`after ${c.name}: the canary global Service sees remote backends in every cluster`], c.name),
      );
    }
  }
  return {
    mesh: plan.mesh,
    revision: plan.revision,
    canary,
    order,
    clusters,
    unchanged: order.filter((n) => !clusters.some((c) => c.name === n)),
    meshSteps,
    refusals: outcomes.flatMap((o) => o.refusals),
    warnings: outcomes.flatMap((o) => o.warnings),
  };
}
