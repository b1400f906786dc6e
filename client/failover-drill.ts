// `meshpilot drill failover`: the one place a surface asks Temporal for a failover drill, and the checks of a
// request against the blueprint, made before anything starts (each naming the argument that is wrong).
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { parseAllDocuments } from 'yaml';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { CANARY_SERVICE } from '../blueprint/render/step-artifacts.ts';
import type { DrillCluster, FailoverDrillInput, FailoverDrillResult } from '../contracts/failover.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, failoverDrillWorkflowId, RUN_KIND, SA } from '../contracts/names.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { failoverDrill } from '../workflows/failover-drill.ts';
import { ActionRefused, FailoverInputError } from './errors.ts';
import { isRunning } from './rollouts.ts';

export const CANARY_KEY = `${CANARY_SERVICE.namespace}/${CANARY_SERVICE.name}`;

/** Every global Service the blueprint puts in each cluster (its own manifests), and the canary, which every cluster gets. */
export function globalServicesByCluster(plan: RolloutPlan): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of plan.clusters) {
    const set = new Set<string>([CANARY_KEY]);
    for (const doc of parseAllDocuments(plan.meshPhase.manifestsByCluster[c.name]?.globalServices ?? '')) {
      const o = doc.toJSON() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
      if (o?.kind === 'Service' && o.metadata?.name) set.add(`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`);
    }
    out.set(c.name, set);
  }
  return out;
}

export interface FailoverTarget {
  region: string;
  clusters: DrillCluster[];
  /** the drained region's clusters */
  drained: string[];
  services: string[];
}

/**
 * The drill a request means, or the input error that refuses it: `region` must be a blueprint cluster `region` and
 * not the only one; `service` (NAMESPACE/NAME) a global Service of the blueprint, or the canary, that runs in the
 * region and in another one. Without `service`: the canary and every blueprint global Service that runs both in the
 * region and elsewhere.
 */
export function failoverTarget(plan: RolloutPlan, region: string, service?: string): FailoverTarget {
  const regions = [...new Set(plan.clusters.map((c) => c.region))].sort();
  if (!regions.includes(region)) throw new FailoverInputError('region', `${JSON.stringify(region)} is not a region of mesh ${plan.mesh} (regions: ${regions.join(', ')})`);
  if (regions.length < 2) throw new FailoverInputError('region', `${region} is the only region of mesh ${plan.mesh}: a failover drill needs another region to fail over to`);
  const clusters = plan.clusters.map((c) => ({ name: c.name, region: c.region, podCidrs: [...c.podCidrs] }));
  const drained = clusters.filter((c) => c.region === region).map((c) => c.name);
  const byCluster = globalServicesByCluster(plan);
  const all = [...new Set([...byCluster.values()].flatMap((s) => [...s]))].sort((a, b) => (a === CANARY_KEY ? -1 : b === CANARY_KEY ? 1 : a.localeCompare(b)));
  const where = (s: string) => clusters.filter((c) => byCluster.get(c.name)?.has(s));
  const drillable = (s: string) => where(s).some((c) => c.region === region) && where(s).some((c) => c.region !== region);
  if (service !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(service)) throw new FailoverInputError('service', `${JSON.stringify(service)} is not NAMESPACE/NAME (e.g. ${CANARY_KEY})`);
    if (!all.includes(service)) throw new FailoverInputError('service', `${service} is not a global service of mesh ${plan.mesh} (global services: ${all.join(', ')})`);
    const w = where(service);
    if (!w.some((c) => c.region === region)) throw new FailoverInputError('service', `${service} does not run in region ${region} (only in ${w.map((c) => c.name).join(', ')}): nothing to drain there`);
    if (!drillable(service)) throw new FailoverInputError('region', `${region} is the only region where ${service} runs (${w.map((c) => c.name).join(', ')}): draining it would leave the service no backend`);
    return { region, clusters, drained, services: [service] };
  }
  return { region, clusters, drained, services: all.filter(drillable) };
}

export interface StartFailoverDrillOptions {
  plan: RolloutPlan;
  region: string;
  service?: string;
  by: ActorInput;
  taskQueue?: string;
  limits?: PauseLimits;
}

/** Starts the drill, or attaches to the one running for the same (mesh, region). */
export async function startFailoverDrill(client: Client, o: StartFailoverDrillOptions): Promise<{ workflowId: string; started: boolean }> {
  const t = failoverTarget(o.plan, o.region, o.service);
  const workflowId = failoverDrillWorkflowId(o.plan.mesh, o.region);
  if (await isRunning(client, workflowId)) return { workflowId, started: false };
  // one region out at a time: two drills of one mesh could take every region's backends out together
  for (const other of new Set(o.plan.clusters.map((c) => c.region).filter((r) => r !== o.region))) {
    const id = failoverDrillWorkflowId(o.plan.mesh, other);
    if (await isRunning(client, id)) throw new ActionRefused(`a failover drill of region ${other} of mesh ${o.plan.mesh} is running (${id}): one region is drilled at a time`);
  }
  const input: FailoverDrillInput = {
    mesh: o.plan.mesh,
    revision: o.plan.revision,
    region: o.region,
    clusters: t.clusters,
    services: t.services,
    requestedBy: o.by,
    ...(o.limits ? { limits: o.limits } : {}),
  };
  await client.workflow.start(failoverDrill, {
    workflowId,
    taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Failover drill: region ${o.region} (${t.drained.join(', ')}) of mesh ${o.plan.mesh}, by ${o.by.by}`,
    staticDetails: `**Failover drill** of region ${o.region}: the backends of ${t.services.join(', ')} in ${t.drained.join(', ')} scaled to 0, every cluster watched until its clients reach the other regions' backends, then every backend put back (also on abort) and a report written.`,
    typedSearchAttributes: [
      { key: SA.mesh, value: o.plan.mesh },
      { key: SA.cluster, value: t.drained.join(',') },
      { key: SA.kind, value: RUN_KIND.failoverDrill },
      { key: SA.state, value: 'running' },
    ],
  });
  return { workflowId, started: true };
}

export async function failoverDrillResult(client: Client, workflowId: string): Promise<FailoverDrillResult> {
  return (await client.workflow.getHandle(workflowId).result()) as FailoverDrillResult;
}
