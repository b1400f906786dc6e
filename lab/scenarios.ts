import type { FleetSpec } from './fleet.ts';

/**
 * Scenario knobs the simulated tools read from `state.faults`. Each is a fact about the simulated world,
 * never a script of what meshpilot should do: the tools keep behaving like the real ones around it.
 */
export interface LabFaults {
  /** flaky-tools: every Nth call of a tool fails the way that tool fails on a flaky network (exit 1, its own text). */
  flakyEvery?: number;
  /** node-unreachable: these node addresses never answer (maintenance API, apid, BMC power-on has no effect). */
  unreachableNodes?: string[];
  /** etcd-slow: this control-plane member's peer links have this extra round trip (ms) on top of the site matrix. */
  slowEtcdMember?: { address: string; extraRttMs: number };
  /**
   * lb-pending: in these clusters, the first CiliumLoadBalancerIPPool applied finds all of its addresses already
   * held by an existing LoadBalancer Service (default/legacy-ingress), so new Services get `out_of_ips`.
   */
  poolsTakenAtFirstApply?: string[];
  /** helm-stuck-pending: in these clusters a previous interrupted run left the cilium release in pending-install. */
  helmStuckPending?: string[];
  /** drift (lab/drift.ts): WireGuard is off on these nodes (by node name) */
  wireguardOffNodes?: string[];
  /** cp-only-excluded: control-plane nodes keep node.kubernetes.io/exclude-from-external-load-balancers whatever the config says. */
  keepCpExcludeLabel?: boolean;
  /** join-id-clash: this cluster's cilium-config says cluster-id `id` whatever its Helm values (edited by hand). */
  clusterIdEdited?: { cluster: string; id: number };
  /** upgrade-node-stuck: these node addresses do not come back from the reboot that installs a Talos upgrade. */
  upgradeNeverReturns?: string[];
  /** upgrade-etcd-unhealthy: once upgraded, the etcd member on these node addresses does not answer (its node runs). */
  etcdUnhealthyAfterUpgrade?: string[];
  /** upgrade-mesh-disconnect: once their Cilium chart version changed, these clusters lose their ClusterMesh links. */
  meshDisconnectOnCiliumUpgrade?: string[];
}

export const SCENARIOS = {
  happy: 'Everything works: every node boots, every tool answers, every pool serves.',
  'lb-pending':
    "The last cluster's LB pool is already used up by an existing Service: the clustermesh LoadBalancer stays <pending> (out_of_ips). Amend the blueprint with a free pool and resume.",
  'etcd-slow':
    "One control-plane member of the first cluster sits behind a degraded link (+25 ms): the etcd latency gate pauses. Override (with a reason) or abort.",
  'flaky-tools': 'Every 4th tool call fails with the tool\'s own transient network error; retries absorb it.',
  'node-unreachable': "The first cluster's last node never answers: the run pauses at apply-config naming the node.",
  'helm-stuck-pending':
    "A previous interrupted run left the first cluster's cilium release in pending-install: meshpilot must recover it, not fail with 'another operation is in progress'.",
  'cp-only-excluded':
    "Control-plane nodes keep Talos' node.kubernetes.io/exclude-from-external-load-balancers label: no node announces the LB IPs, and nothing errors. The pause must name the label.",
  'join-id-clash':
    "The first cluster's cilium-config was edited by hand to the cluster ID the blueprint gives the last one: joining that last cluster (lab init of the bigger blueprint, then rollout) pauses at mesh-preflight naming the clash.",
  'upgrade-node-stuck':
    "The first cluster's second control plane does not come back from the reboot that installs its Talos upgrade: `meshpilot upgrade` pauses at talos-upgrade on that node, with etcd still at quorum.",
  'upgrade-etcd-unhealthy':
    "The first cluster's first control plane comes back from its Talos upgrade with an etcd member that does not answer: `meshpilot upgrade` pauses at etcd-gate-after for that node.",
  'upgrade-mesh-disconnect':
    "Once the first cluster's Cilium is upgraded, its ClusterMesh links drop and stay down (cilium/cilium#42841): `meshpilot upgrade` pauses at mesh-verify after that cluster.",
} as const;

export type ScenarioName = keyof typeof SCENARIOS;

export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

export function scenarioFaults(name: ScenarioName, fleet: FleetSpec): LabFaults {
  const first = fleet.clusters[0];
  const last = fleet.clusters[fleet.clusters.length - 1];
  switch (name) {
    case 'happy':
      return {};
    case 'lb-pending':
      return { poolsTakenAtFirstApply: last ? [last.name] : [] };
    case 'etcd-slow': {
      const cps = first?.nodes.filter((n) => n.role === 'controlplane') ?? [];
      const victim = cps[1] ?? cps[0];
      return victim ? { slowEtcdMember: { address: victim.address, extraRttMs: 25 } } : {};
    }
    case 'flaky-tools':
      return { flakyEvery: 4 };
    case 'node-unreachable': {
      const victim = first?.nodes[first.nodes.length - 1];
      return { unreachableNodes: victim ? [victim.address] : [] };
    }
    case 'helm-stuck-pending':
      return { helmStuckPending: first ? [first.name] : [] };
    case 'cp-only-excluded':
      return { keepCpExcludeLabel: true };
    case 'join-id-clash':
      return first && last && first !== last && last.id !== undefined ? { clusterIdEdited: { cluster: first.name, id: last.id } } : {};
    case 'upgrade-node-stuck': {
      const cps = first?.nodes.filter((n) => n.role === 'controlplane') ?? [];
      const victim = cps[1] ?? cps[0];
      return { upgradeNeverReturns: victim ? [victim.address] : [] };
    }
    case 'upgrade-etcd-unhealthy': {
      const victim = first?.nodes.find((n) => n.role === 'controlplane');
      return { etcdUnhealthyAfterUpgrade: victim ? [victim.address] : [] };
    }
    case 'upgrade-mesh-disconnect':
      return { meshDisconnectOnCiliumUpgrade: first ? [first.name] : [] };
  }
}
