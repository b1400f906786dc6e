// The only place the CLI and the chat app talk to Temporal about rollouts. No state of its own.
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type UpdateDefinition } from '@temporalio/common';
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
import { ActionRefused, RolloutNotFound, TemporalUnreachable } from './errors.ts';

/** An operator request's idempotency key (e.g. Slack's trigger_id): the same key is acted on once, ever. */
export interface Idempotent {
  requestId?: string;
}

/** An action's outcome; `duplicate` when this request had already been carried out (its first outcome is repeated). */
export type ActionOutcome = ActionResult & { duplicate?: true };

/**
 * The outcome of an update this request already sent, if any. Temporal keeps updates by id with the run (closed
 * runs too), so this holds across chat replicas and restarts; a repeated id would also be deduplicated by
 * Temporal itself, but only this look tells the person that nothing new happened.
 */
async function priorOutcome(client: Client, workflowId: string, updateId: string | undefined): Promise<ActionResult | undefined> {
  if (!updateId) return undefined;
  try {
    return await client.workflow.getHandle(workflowId).getUpdateHandle<ActionResult>(updateId).result();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError) return undefined;
    throw err;
  }
}

export interface StartRolloutOptions extends Idempotent {
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
  /** true when this very request (same requestId) already started it: nothing was done again */
  duplicate?: boolean;
}

/**
 * Starts the rollout of one blueprint revision. The id is the revision, so the same change started twice attaches
 * to the running rollout (USE_EXISTING); a finished one may run again (every step is idempotent: it converges).
 */
export async function startRollout(client: Client, opts: StartRolloutOptions): Promise<StartedRollout> {
  return reachable(client, () => startRolloutNow(client, opts));
}

async function startRolloutNow(client: Client, opts: StartRolloutOptions): Promise<StartedRollout> {
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
  const latest = await describeLatest(client, workflowId);
  // The memo of the newest run says which request started it: a replayed request (after an abort, say) must
  // not start the rollout again. Temporal keeps it with the run, so this holds across chat replicas and restarts.
  if (opts.requestId && latest?.memo?.[REQUEST_MEMO] === opts.requestId) return { workflowId, rolloutId, started: false, duplicate: true };
  if (latest?.status.name === 'RUNNING') return { workflowId, rolloutId, started: false };
  await client.workflow.start(meshRollout, {
    workflowId,
    ...(opts.requestId ? { memo: { [REQUEST_MEMO]: opts.requestId } } : {}),
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Mesh ${opts.plan.mesh}: ${opts.plan.clusters.map((c) => c.name).join(' + ')} (revision ${rolloutId})`,
    staticDetails: [
      `**Mesh** ${opts.plan.mesh}, revision \`${rolloutId}\`, started by ${opts.requestedBy.by} via ${opts.requestedBy.via ?? 'api'}`,
      '',
      ...opts.plan.clusters.map((c) => `- **${c.name}**: id ${c.id}, site ${c.site}, ${c.nodes.length} nodes, endpoint ${c.endpoint}, pods ${c.podCidrs.join(' ')}, services ${c.serviceCidrs.join(' ')}`),
      // Waivers are part of what was approved: shown with the run, not only in the file.
      ...waiverLines(opts.plan),
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

const REQUEST_MEMO = 'meshpilotRequestId';

function waiverLines(plan: RolloutPlan): string[] {
  const waived = plan.warnings.filter((w) => w.includes('WAIVED:'));
  return waived.length ? ['', '**Waivers in this blueprint**', '', ...waived.map((w) => `- ⚠ ${w}`)] : [];
}

async function describeLatest(client: Client, workflowId: string) {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Whether a workflow with this id runs now (a finished or unknown one does not). */
export async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  return (await describeLatest(client, workflowId))?.status.name === 'RUNNING';
}

/** Temporal's address as the client was given it (for messages), when the connection knows it. */
function temporalAddress(client: Client): string {
  return (client.connection as { options?: { address?: string } }).options?.address ?? 'the configured address';
}

function unreachableDetail(err: unknown): string | undefined {
  let cur = err as { code?: unknown; message?: string; cause?: unknown } | undefined;
  for (let i = 0; i < 6 && cur; i++) {
    // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4): no answer from the server at all
    if (cur.code === 14 || cur.code === 4) return (cur.message ?? '').replace(/^\d+ [A-Z_]+: /, '').replace(/\. Resolution note:.*$/, '').slice(0, 160);
    cur = cur.cause as typeof cur;
  }
  return undefined;
}

/** Runs one client call, turning "no server there" into an error that names Temporal and its address. */
export async function reachable<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const detail = unreachableDetail(err);
    if (detail !== undefined) throw new TemporalUnreachable(temporalAddress(client), detail);
    throw err;
  }
}

/** What a closed rollout ended as (its search attribute), for refusals that say what the state is. */
async function closedState(client: Client, id: string): Promise<string | undefined> {
  const d = await describeLatest(client, id);
  if (!d || d.status.name === 'RUNNING') return undefined;
  const state = d.typedSearchAttributes.get(SA.state);
  return state && state !== 'running' && state !== 'paused' ? state : d.status.name.toLowerCase();
}

/** Accepts a workflow id (`rollout-<mesh>-<rev>`) as shown by `list`/`rollout`. */
export function rolloutHandle(client: Client, id: string) {
  return client.workflow.getHandle(id);
}

/** The whole rollout as data: the parent's mesh phase plus each cluster child's own status. */
export async function getRolloutView(client: Client, id: string): Promise<RolloutView> {
  return reachable(client, () => rolloutView(client, id));
}

async function rolloutView(client: Client, id: string): Promise<RolloutView> {
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
    ...(parent.operation ? { operation: parent.operation } : {}),
    blocked,
    actions: [...parent.actions, ...clusters.flatMap((c) => c.actions)].sort((a, b) => a.at.localeCompare(b.at)),
    startedBy: parent.startedBy,
    error: parent.error,
  };
}

export { ActionRefused, RolloutNotFound, TemporalUnreachable } from './errors.ts';

export type StepAction = 'resume' | 'skip' | 'override';

/**
 * Routes an operator action to the workflow that owns the step: a paused cluster step lives on that cluster's
 * child, a mesh step on the rollout itself. `cluster` forces the child.
 */
export async function actOnStep(
  client: Client,
  id: string,
  action: StepAction,
  input: ActorInput & Idempotent & { step?: string; cluster?: string },
): Promise<ActionOutcome & { workflowId: string }> {
  return reachable(client, () => actOnStepNow(client, id, action, input));
}

async function actOnStepNow(
  client: Client,
  id: string,
  action: StepAction,
  input: ActorInput & Idempotent & { step?: string; cluster?: string },
): Promise<ActionOutcome & { workflowId: string }> {
  const view = await rolloutView(client, id);
  // The same update id always goes with the same request: whichever workflow took it, say it is done.
  const updateId = input.requestId ? `${action}-${input.requestId}` : undefined;
  for (const wf of updateId ? [id, ...view.clusters.map((c) => c.workflowId)] : []) {
    const prior = await priorOutcome(client, wf, updateId);
    if (prior) return { ...prior, duplicate: true, workflowId: wf };
  }
  if (isTerminal(view.state)) {
    throw new ActionRefused(`rollout ${id} is ${view.state}; nothing to ${action} (start a new one with meshpilot rollout)`);
  }
  let target = view.blocked?.workflowId ?? id;
  let targetName = view.blocked?.cluster;
  if (input.cluster) {
    const c = view.clusters.find((x) => x.name === input.cluster);
    if (!c) throw new ActionRefused(`cluster: no cluster named ${input.cluster} in this rollout (${view.clusters.map((x) => x.name).join(', ')})`);
    if (isTerminal(c.state)) throw new ActionRefused(`cluster ${c.name} of rollout ${id} is ${c.state}; nothing to ${action}`);
    target = c.workflowId;
    targetName = c.name;
  } else if (input.step && view.blocked && view.blocked.step !== input.step) {
    const owner = view.clusters.find((c) => c.steps.some((s) => s.name === input.step && s.state === 'blocked'));
    if (owner) {
      target = owner.workflowId;
      targetName = owner.name;
    }
  }
  const step = input.step ?? view.blocked?.step;
  const handle = client.workflow.getHandle(target);
  const actor: ActorInput = { by: input.by, via: input.via, reason: input.reason };
  // Should two replicas race with the same request, Temporal still runs one update: the id is the key.
  try {
    const result =
      action === 'resume'
        ? await handle.executeUpdate(resumeUpdate, { args: [{ ...actor, step: input.step }], updateId })
        : await handle.executeUpdate(action === 'skip' ? skipUpdate : overrideUpdate, {
            args: [{ ...actor, step: step ?? '', reason: input.reason ?? '' }],
            updateId,
          });
    return { ...result, workflowId: target };
  } catch (err) {
    // The cluster's workflow finished between our look and the update: say so, never "no rollout with id <child>".
    if (err instanceof WorkflowNotFoundError && target !== id) {
      throw new ActionRefused(`${targetName ? `cluster ${targetName}` : 'that cluster'} of rollout ${id} has finished; nothing to ${action}`);
    }
    throw await refusal(client, id, action, err);
  }
}

export function abortRollout(client: Client, id: string, input: ActorInput & Idempotent & { reason: string }): Promise<ActionOutcome> {
  return rolloutUpdate(client, id, 'abort', abortUpdate, input);
}

export function amendRollout(client: Client, id: string, input: ActorInput & Idempotent & { plan: RolloutPlan }): Promise<ActionOutcome> {
  return rolloutUpdate(client, id, 'amend', amendUpdate, input);
}

/** One update on the rollout itself, sent once per request id, refused in words that say what the rollout is. */
async function rolloutUpdate<I extends ActorInput>(
  client: Client,
  id: string,
  action: 'abort' | 'amend',
  def: UpdateDefinition<ActionResult, [I]>,
  input: I & Idempotent,
): Promise<ActionOutcome> {
  return reachable(client, async () => {
    const { requestId, ...args } = input;
    const updateId = requestId ? `${action}-${requestId}` : undefined;
    const prior = await priorOutcome(client, id, updateId);
    if (prior) return { ...prior, duplicate: true };
    try {
      // `args` is the input without its request id, which the update never sees.
      return await rolloutHandle(client, id).executeUpdate(def, { args: [args as unknown as I], updateId });
    } catch (err) {
      throw await refusal(client, id, action, err);
    }
  });
}

/**
 * What a failed update means to the person who sent it. An update to a closed workflow fails like one to a
 * missing workflow; the refusal then says what the rollout is ("rollout X is completed; nothing to abort").
 */
async function refusal(client: Client, id: string, action: string, err: unknown): Promise<Error> {
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause as { message?: string } | undefined;
    return new ActionRefused(cause?.message ?? err.message);
  }
  if (err instanceof WorkflowNotFoundError) {
    const state = await closedState(client, id).catch(() => undefined);
    if (state) {
      const next = action === 'amend' ? ' (amend applies to a running rollout: start a new one with meshpilot rollout FILE)' : '';
      return new ActionRefused(`rollout ${id} is ${state}; nothing to ${action}${next}`);
    }
    return new RolloutNotFound(id);
  }
  return err as Error;
}

export interface RolloutListing {
  workflowId: string;
  /** rollout or detach */
  kind: string;
  mesh: string;
  state: string;
  blockedStep?: string;
  startTime: string;
  status: string;
}

/** Rollouts, upgrades and detaches (the runs that change a mesh) from Temporal visibility (search attributes), newest first. */
export async function listRollouts(client: Client, opts: { state?: string; mesh?: string; limit?: number } = {}): Promise<RolloutListing[]> {
  return reachable(client, () => listRolloutsNow(client, opts));
}

async function listRolloutsNow(client: Client, opts: { state?: string; mesh?: string; limit?: number }): Promise<RolloutListing[]> {
  const clauses = [`${SA.kind.name} IN ('${RUN_KIND.rollout}', '${RUN_KIND.upgrade}')`];
  if (opts.state) clauses.push(`${SA.state.name} = '${opts.state.replace(/'/g, '')}'`);
  if (opts.mesh) clauses.push(`${SA.mesh.name} = '${opts.mesh.replace(/'/g, '')}'`);
  const out: RolloutListing[] = [];
  for await (const wf of client.workflow.list({ query: clauses.join(' AND ') })) {
    const attrs = wf.typedSearchAttributes;
    out.push({
      workflowId: wf.workflowId,
      kind: attrs.get(SA.kind) ?? RUN_KIND.rollout,
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
