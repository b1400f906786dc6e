// The only place the CLI and the chat app talk to Temporal about rollouts. No state of its own.
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import {
  abortUpdate,
  amendUpdate,
  clusterStatusQuery,
  meshStatusQuery,
  overrideUpdate,
  resumeUpdate,
  skipUpdate,
  type ActionResult,
  type ActorInput,
} from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, rolloutWorkflowId, RUN_KIND, SA } from '../contracts/names.ts';
import { blockedStep, blockedSummaryOf, isTerminal, type ClusterStatus, type RolloutView } from '../contracts/status.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { meshRollout, type MeshRolloutInput } from '../workflows/mesh-rollout.ts';
import { ActionRefused, RolloutNotFound } from './errors.ts';

export interface StartRolloutOptions {
  plan: RolloutPlan;
  requestedBy: ActorInput;
  taskQueue?: string;
  siteQueues?: boolean;
  bootOverride?: 'none' | 'manual';
  limits?: PauseLimits;
}

export interface StartedRollout {
  workflowId: string;
  rolloutId: string;
  /** false when the same change was already rolling out: we attached to it instead of starting a second one */
  started: boolean;
}

/**
 * Starts the rollout of one blueprint revision. The id is the revision, so the same change started twice attaches
 * to the running rollout (USE_EXISTING); a finished one may run again (every step is idempotent: it converges).
 */
export async function startRollout(client: Client, opts: StartRolloutOptions): Promise<StartedRollout> {
  const rolloutId = opts.plan.revision;
  const workflowId = rolloutWorkflowId(opts.plan.mesh, rolloutId);
  const input: MeshRolloutInput = {
    rolloutId,
    plan: opts.plan,
    requestedBy: opts.requestedBy,
    siteQueues: opts.siteQueues,
    bootOverride: opts.bootOverride,
    limits: opts.limits,
  };
  if (await isRunning(client, workflowId)) return { workflowId, rolloutId, started: false };
  await client.workflow.start(meshRollout, {
    workflowId,
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Mesh ${opts.plan.mesh}: ${opts.plan.clusters.map((c) => c.name).join(' + ')} (revision ${rolloutId})`,
    staticDetails: [
      `**Mesh** ${opts.plan.mesh}, revision \`${rolloutId}\`, started by ${opts.requestedBy.by} via ${opts.requestedBy.via ?? 'api'}`,
      '',
      ...opts.plan.clusters.map((c) => `- **${c.name}**: id ${c.id}, site ${c.site}, ${c.nodes.length} nodes, endpoint ${c.endpoint}, pods ${c.podCidrs.join(' ')}, services ${c.serviceCidrs.join(' ')}`),
    ].join('\n'),
    typedSearchAttributes: [
      { key: SA.mesh, value: opts.plan.mesh },
      { key: SA.kind, value: RUN_KIND.rollout },
      { key: SA.state, value: 'running' },
    ],
  });
  // Two concurrent starts of the same change still meet in one execution (USE_EXISTING); both then say "started".
  return { workflowId, rolloutId, started: true };
}

async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Accepts a workflow id (`rollout-<mesh>-<rev>`) as shown by `list`/`rollout`. */
export function rolloutHandle(client: Client, id: string) {
  return client.workflow.getHandle(id);
}

/** The whole rollout as data: the parent's mesh phase plus each cluster child's own status. */
export async function getRolloutView(client: Client, id: string): Promise<RolloutView> {
  let parent;
  try {
    parent = await rolloutHandle(client, id).query(meshStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RolloutNotFound(id);
    throw err;
  }
  const clusters: ClusterStatus[] = await Promise.all(
    parent.clusters.map(async (c) => {
      try {
        return await client.workflow.getHandle(c.workflowId).query(clusterStatusQuery);
      } catch {
        return { name: c.name, workflowId: c.workflowId, state: c.state, step: 'not started', steps: [], actions: [], outputs: {} };
      }
    }),
  );
  // A cluster's own pause first (the step an operator acts on), else the mesh phase's.
  let blocked: RolloutView['blocked'];
  for (const c of clusters) {
    const step = c.state === 'paused' ? blockedStep(c.steps) : undefined;
    const summary = step && blockedSummaryOf(step, c.name);
    if (summary) {
      blocked = { ...summary, workflowId: c.workflowId };
      break;
    }
  }
  const own = blockedStep(parent.meshSteps);
  const ownSummary = own && blockedSummaryOf(own);
  if (!blocked && ownSummary) blocked = { ...ownSummary, workflowId: id };
  const anyPaused = Boolean(blocked);
  const state = parent.state === 'running' && anyPaused ? 'paused' : parent.state;
  return {
    id: parent.id,
    workflowId: id,
    mesh: parent.mesh,
    revision: parent.revision,
    state,
    startedAt: parent.startedAt,
    updatedAt: parent.updatedAt,
    clusters,
    meshSteps: parent.meshSteps,
    blocked,
    actions: [...parent.actions, ...clusters.flatMap((c) => c.actions)].sort((a, b) => a.at.localeCompare(b.at)),
    startedBy: parent.startedBy,
    error: parent.error,
  };
}

export { ActionRefused, RolloutNotFound } from './errors.ts';

export type StepAction = 'resume' | 'skip' | 'override';

/**
 * Routes an operator action to the workflow that owns the step: a paused cluster step lives on that cluster's
 * child, a mesh step on the rollout itself. `cluster` forces the child.
 */
export async function actOnStep(
  client: Client,
  id: string,
  action: StepAction,
  input: ActorInput & { step?: string; cluster?: string },
): Promise<ActionResult & { workflowId: string }> {
  const view = await getRolloutView(client, id);
  if (isTerminal(view.state)) {
    throw new ActionRefused(`the rollout is ${view.state}; there is nothing to ${action} (start a new one with meshpilot rollout)`);
  }
  let target = view.blocked?.workflowId ?? id;
  if (input.cluster) {
    const c = view.clusters.find((x) => x.name === input.cluster);
    if (!c) throw new ActionRefused(`cluster: no cluster named ${input.cluster} in this rollout (${view.clusters.map((x) => x.name).join(', ')})`);
    target = c.workflowId;
  } else if (input.step && view.blocked && view.blocked.step !== input.step) {
    const owner = view.clusters.find((c) => c.steps.some((s) => s.name === input.step && s.state === 'blocked'));
    if (owner) target = owner.workflowId;
  }
  const step = input.step ?? view.blocked?.step;
  const handle = client.workflow.getHandle(target);
  const actor: ActorInput = { by: input.by, via: input.via, reason: input.reason };
  try {
    const result =
      action === 'resume'
        ? await handle.executeUpdate(resumeUpdate, { args: [{ ...actor, step: input.step }] })
        : await handle.executeUpdate(action === 'skip' ? skipUpdate : overrideUpdate, {
            args: [{ ...actor, step: step ?? '', reason: input.reason ?? '' }],
          });
    return { ...result, workflowId: target };
  } catch (err) {
    throw refusal(err);
  }
}

export async function abortRollout(client: Client, id: string, input: ActorInput & { reason: string }): Promise<ActionResult> {
  try {
    return await rolloutHandle(client, id).executeUpdate(abortUpdate, { args: [input] });
  } catch (err) {
    throw refusal(err);
  }
}

export async function amendRollout(client: Client, id: string, input: ActorInput & { plan: RolloutPlan }): Promise<ActionResult> {
  try {
    return await rolloutHandle(client, id).executeUpdate(amendUpdate, { args: [input] });
  } catch (err) {
    throw refusal(err);
  }
}

function refusal(err: unknown): Error {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { message?: string } | undefined;
    return new ActionRefused(cause?.message ?? err.message);
  }
  if (err instanceof WorkflowNotFoundError) return new RolloutNotFound(err.workflowId ?? '');
  return err as Error;
}

export interface RolloutListing {
  workflowId: string;
  mesh: string;
  state: string;
  blockedStep?: string;
  startTime: string;
  status: string;
}

/** Rollouts from Temporal visibility (search attributes), newest first. */
export async function listRollouts(client: Client, opts: { state?: string; mesh?: string; limit?: number } = {}): Promise<RolloutListing[]> {
  const clauses = [`${SA.kind.name} = '${RUN_KIND.rollout}'`];
  if (opts.state) clauses.push(`${SA.state.name} = '${opts.state.replace(/'/g, '')}'`);
  if (opts.mesh) clauses.push(`${SA.mesh.name} = '${opts.mesh.replace(/'/g, '')}'`);
  const out: RolloutListing[] = [];
  for await (const wf of client.workflow.list({ query: clauses.join(' AND ') })) {
    const attrs = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      mesh: attrs.get(SA.mesh) ?? '',
      state: attrs.get(SA.state) ?? '',
      blockedStep: (() => {
        const b = attrs.get(SA.blockedStep);
        return b && b !== 'none' ? b : undefined;
      })(),
      startTime: wf.startTime.toISOString(),
      status: wf.status.name,
    });
    if (out.length >= (opts.limit ?? 50)) break;
  }
  return out;
}
