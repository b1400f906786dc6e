// Pure: which blueprint changes may land in a running rollout. Anything that changes what has been built
// (identity, addresses, versions, machine configs, CNI values) needs a new rollout; pools and the mesh phase's
// manifests do not. A gate may be tightened mid-run, never loosened: raising the etcd budget is what `override`
// is for (a named person, a reason, on the paused step), so an amend that does it is refused and says so.
import type { ClusterPlan, RolloutPlan } from '../blueprint/plan.ts';
import { refused } from '../contracts/failures.ts';

function frozen(c: ClusterPlan): Record<string, unknown> {
  return {
    id: c.id,
    site: c.site,
    endpoint: c.endpoint,
    nodes: c.nodes.map((n) => ({ name: n.name, address: n.address, role: n.role, installDisk: n.installDisk })),
    'talos.version': c.talos.version,
    'talos.kubernetesVersion': c.talos.kubernetesVersion,
    'talos.patches': c.talos.patches,
    'cilium.version': c.cilium.version,
    'cilium.chartVersion': c.cilium.chartVersion,
    'cilium.values': c.cilium.values,
  };
}

/**
 * Throws with every unsafe difference named (field path and cluster); returns when the amendment is safe.
 * `identityMayChange`: no cluster has started building yet (a rollout paused at mesh-preflight), so identities,
 * addresses and versions may still change: only the mesh, its cluster set and its connect method are fixed.
 */
export function assertSafeAmendment(current: RolloutPlan, next: RolloutPlan, opts: { identityMayChange?: boolean } = {}): void {
  if (!next || typeof next !== 'object' || !Array.isArray(next.clusters)) {
    throw refused('plan: not a rollout plan (amend takes the planned blueprint; use `meshpilot amend ID FILE`)');
  }
  const problems: string[] = [];
  if (next.mesh !== current.mesh) problems.push(`mesh name ${current.mesh} → ${next.mesh}`);
  const names = (p: RolloutPlan) => p.clusters.map((c) => c.name).sort().join(',');
  if (names(current) !== names(next)) problems.push(`clusters [${names(current)}] → [${names(next)}]`);
  if (next.meshPhase.method !== current.meshPhase.method) problems.push(`meshPhase.method ${current.meshPhase.method} → ${next.meshPhase.method}`);
  for (const c of opts.identityMayChange ? [] : current.clusters) {
    const n = next.clusters.find((x) => x.name === c.name);
    if (!n) continue;
    const a = frozen(c);
    const b = frozen(n);
    for (const key of Object.keys(a)) {
      if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) problems.push(`clusters[${c.name}].${key}`);
    }
  }
  const raised = current.clusters.flatMap((c) => {
    const n = next.clusters.find((x) => x.name === c.name);
    return n && n.etcd.latencyBudgetMs > c.etcd.latencyBudgetMs ? [`clusters[${c.name}].etcd.latencyBudgetMs ${c.etcd.latencyBudgetMs} → ${n.etcd.latencyBudgetMs} ms`] : [];
  });
  if (raised.length > 0) {
    throw refused(
      `amendment refused: it raises a gate (${raised.join('; ')}). A raised gate is an override, never a silent amend: ` +
        'when the etcd-latency step pauses, run `meshpilot override <rollout> --step etcd-latency --reason "<why>"` (kept in the audit with your name). ' +
        'Lowering a budget is fine.',
    );
  }
  if (problems.length > 0) {
    throw refused(
      `amendment refused: these changes are not safe in a running rollout: ${problems.join('; ')}. ` +
        'Safe mid-run: LB pools and L2/BGP policy, the clustermesh apiserver IP, a lower etcd latency budget, global services and policies. ' +
        'For anything else abort and start a new rollout.',
    );
  }
  if (next.revision === current.revision) throw refused('amendment refused: the blueprint is unchanged (same revision)');
}
