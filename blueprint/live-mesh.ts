// Pure: a blueprint held against the live mesh it changes. What a join must refuse (a joining cluster whose ID,
// name or CIDRs a member already uses, a member whose live identity is not the blueprint's, a live peer the
// blueprint forgot), and which global-service backends a peer-list change may not lose. Used by the workflows
// and the activities alike: no I/O, no imports but types.
import type { BackendSnapshot, LiveCluster, ProbeRange } from '../contracts/live-mesh.ts';
import type { RolloutPlan } from './plan.ts';

export interface LiveMeshProblem {
  /** the blueprint field to change (`clusters[2].id`, `mesh.maxConnectedClusters`, `clusters`) */
  field: string;
  message: string;
  fix: string;
}

export const isMember = (l: LiveCluster | undefined): boolean => l?.state === 'member';

/** The pod, service and node ranges of every other cluster of the plan: what must not be in use in `cluster`. */
export function probeRangesFor(plan: RolloutPlan, cluster: string): ProbeRange[] {
  const out: ProbeRange[] = [];
  plan.clusters.forEach((c, ci) => {
    if (c.name === cluster) return;
    const add = (field: 'podSubnets' | 'serviceSubnets' | 'nodeSubnets', cidrs: readonly string[] | undefined) =>
      (cidrs ?? []).forEach((cidr, k) => out.push({ owner: c.name, path: `clusters[${ci}].network.${field}[${k}]`, cidr }));
    add('podSubnets', c.podCidrs);
    add('serviceSubnets', c.serviceCidrs);
    add('nodeSubnets', c.nodeCidrs);
  });
  return out;
}

/**
 * Everything that makes the plan unsafe to apply to the live mesh, each naming its field. Empty when no cluster
 * is a member yet (a first rollout: the blueprint checks already hold the clusters against each other).
 */
export function liveMeshProblems(plan: RolloutPlan, live: readonly LiveCluster[]): LiveMeshProblem[] {
  const liveOf = (name: string) => live.find((l) => l.cluster === name);
  const members = plan.clusters.map((c, i) => ({ c, i, l: liveOf(c.name) })).filter((x) => isMember(x.l)) as Array<{ c: RolloutPlan['clusters'][number]; i: number; l: LiveCluster }>;
  if (members.length === 0) return [];
  const problems: LiveMeshProblem[] = [];
  const names = new Set(plan.clusters.map((c) => c.name));
  const inUse = members.filter((m) => m.l.clusterId !== undefined).map((m) => `${m.l.clusterId} ${m.c.name}`);

  for (const { c, i, l } of members) {
    if (l.clusterId !== undefined && l.clusterId !== c.id) {
      problems.push({
        field: `clusters[${i}].id`,
        message: `${c.name} runs with cluster ID ${l.clusterId} (live cilium-config cluster-id), the blueprint says ${c.id}`,
        fix: `a cluster ID cannot change in place: set clusters[${i}].id to ${l.clusterId}, or restore ${c.name}'s cilium-config to ${c.id} first`,
      });
    }
    if (l.ciliumName !== undefined && l.ciliumName !== c.name) {
      problems.push({
        field: `clusters[${i}].name`,
        message: `${c.name} runs as Cilium cluster ${l.ciliumName} (live cilium-config cluster-name)`,
        fix: `a cluster name cannot change in place: name it ${l.ciliumName} in the blueprint (its secrets are stored under that name too)`,
      });
    }
    for (const peer of l.peers.filter((p) => !names.has(p))) {
      problems.push({
        field: 'clusters',
        message: `${c.name} is meshed with ${peer}, which the blueprint does not list`,
        fix: `removing a cluster is never implied by a missing blueprint entry: run \`meshpilot detach ${plan.mesh} ${peer} --reason "…"\` first, or list ${peer} in the blueprint again`,
      });
    }
  }

  const maxes = members.filter((m) => m.l.maxConnectedClusters !== undefined && m.l.maxConnectedClusters !== plan.meshPhase.maxConnectedClusters);
  if (maxes.length > 0) {
    const liveMax = maxes[0]!.l.maxConnectedClusters!;
    problems.push({
      field: 'mesh.maxConnectedClusters',
      message: `the blueprint says ${plan.meshPhase.maxConnectedClusters}, the live mesh runs ${liveMax} (cilium-config max-connected-clusters on ${maxes.map((m) => m.c.name).join(', ')})`,
      fix: `it is fixed at install on every cluster: set mesh.maxConnectedClusters: ${liveMax}`,
    });
  }
  const liveMax = Math.min(...members.map((m) => m.l.maxConnectedClusters ?? plan.meshPhase.maxConnectedClusters));

  plan.clusters.forEach((j, ji) => {
    const own = liveOf(j.name);
    if (isMember(own)) return;
    const ids = [j.id];
    if (own?.clusterId !== undefined && own.clusterId !== j.id) {
      ids.push(own.clusterId);
      problems.push({
        field: `clusters[${ji}].id`,
        message: `joining cluster ${j.name} already runs Cilium with cluster ID ${own.clusterId} (live cilium-config), the blueprint says ${j.id}`,
        fix: `set clusters[${ji}].id to ${own.clusterId} if that ID is free, or reinstall ${j.name}: a cluster ID cannot change in place`,
      });
    }
    for (const m of members) {
      if (m.l.clusterId !== undefined && ids.includes(m.l.clusterId)) {
        problems.push({
          field: `clusters[${ji}].id`,
          message: `cluster ID ${m.l.clusterId} of joining cluster ${j.name} is in use by ${m.c.name} (live cilium-config cluster-id ${m.l.clusterId}${m.l.clusterId !== m.c.id ? `; the blueprint says ${m.c.id}` : ''})`,
          fix: `give ${j.name} an ID no live cluster uses (in use: ${inUse.join(', ')}): set clusters[${ji}].id`,
        });
      }
      if (m.l.ciliumName === j.name) {
        problems.push({
          field: `clusters[${ji}].name`,
          message: `the name of joining cluster ${j.name} is in use by ${m.c.name} (live cilium-config cluster-name)`,
          fix: `give ${j.name} a name no live cluster uses: set clusters[${ji}].name`,
        });
      }
      for (const hit of m.l.rangeHits.filter((h) => h.owner === j.name)) {
        problems.push({
          field: hit.path,
          message: `${hit.cidr} of joining cluster ${j.name} overlaps addresses in use in ${m.c.name} (${hit.example})`,
          fix: `pick a range no live cluster uses for ${hit.path}: renumbering after bootstrap is very hard`,
        });
      }
    }
    if (j.id > liveMax) {
      problems.push({
        field: `clusters[${ji}].id`,
        message: `cluster ID ${j.id} of joining cluster ${j.name} is above the live mesh's max-connected-clusters ${liveMax}`,
        fix: `pick an ID in 1..${liveMax}: set clusters[${ji}].id`,
      });
    }
  });
  return problems;
}

/** One pause for all of them: every field at once, as `validate` reports a file. */
export function describeLiveMeshProblems(problems: readonly LiveMeshProblem[], rolloutId: string): { reason: string; hint: string; evidence: Record<string, string> } {
  return {
    reason: `the blueprint clashes with the live mesh: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`,
    hint:
      `${[...new Set(problems.map((p) => p.fix))].join('; ')}. ` +
      `Then \`meshpilot amend ${rolloutId} FILE --reason "…"\` (nothing has been built or changed yet, so identities may still change), or abort and roll out the fixed blueprint`,
    evidence: Object.fromEntries(problems.slice(0, 12).map((p, n) => [`${n + 1}. ${p.field}`, p.message.slice(0, 200)])),
  };
}

export interface BackendLoss {
  cluster: string;
  service: string;
  source: string;
  before: number;
  after: number;
  /** lost: a source that served the Service no longer does; lingering: the leaving cluster still serves it */
  kind: 'lost' | 'lingering';
}

/**
 * What a peer-list change did to global services, judged per source cluster rather than per backend: pods come and
 * go (a scale-down is not a broken mesh), but a cluster whose backends vanish from a peer means that peer link
 * broke. Every source in `keep` that served a Service before must still serve it; `gone` must serve nothing.
 */
export function backendLosses(before: readonly BackendSnapshot[], after: readonly BackendSnapshot[], opts: { keep: readonly string[]; gone?: string }): BackendLoss[] {
  const out: BackendLoss[] = [];
  for (const b of before) {
    const now = after.find((a) => a.cluster === b.cluster);
    if (!now) continue;
    for (const svc of b.services) {
      const counts = now.services.find((s) => s.service === svc.service)?.bySource ?? {};
      for (const source of opts.keep) {
        const had = svc.bySource[source] ?? 0;
        const has = counts[source] ?? 0;
        if (had > 0 && has === 0) out.push({ cluster: b.cluster, service: svc.service, source, before: had, after: has, kind: 'lost' });
      }
      if (opts.gone && (counts[opts.gone] ?? 0) > 0) {
        out.push({ cluster: b.cluster, service: svc.service, source: opts.gone, before: svc.bySource[opts.gone] ?? 0, after: counts[opts.gone] ?? 0, kind: 'lingering' });
      }
    }
  }
  return out;
}

export function describeLoss(l: BackendLoss): string {
  return l.kind === 'lost'
    ? `${l.cluster}: global service ${l.service} has no backends from ${l.source} any more (had ${l.before})`
    : `${l.cluster}: global service ${l.service} still has ${l.after} backend(s) from ${l.source}`;
}
