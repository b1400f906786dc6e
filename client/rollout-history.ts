// A rollout's workflow histories, read through the client and decoded with its data converter (so encrypted
// payloads, failures and summaries read as plain data when the codec keys are configured): the parent and every
// cluster child, each followed back through continue-as-new. Only what the timeline needs is kept: never an
// activity's input or result, never a plan.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import { decodeArrayFromPayloads, decodeOptionalFailureToOptionalError, decodeUserMetadata } from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { ENCRYPTED_ENCODING } from '../codec/aes-gcm-codec.ts';
import { blockedDetailsOf, findApplicationFailure } from '../contracts/failures.ts';
import { clusterWorkflowId } from '../contracts/names.ts';
import type { ActivityFact, HistoryFact, RolloutFacts, WorkflowFacts, WorkflowOutcome } from '../pictures/timeline/history.ts';
import { RolloutNotFound } from './rollouts.ts';

type Event = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** A run's history, oldest run first: each run's start names the run it continued. */
async function historyChain(client: Client, workflowId: string): Promise<Event[][]> {
  const runs: Event[][] = [];
  let runId: string | undefined;
  for (let i = 0; i < 1_000; i++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    runs.unshift(events);
    const previous = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) break;
    runId = previous;
  }
  return runs;
}

const at = (e: Event) => tsToMs(e.eventTime);
/** history order across runs: run, then event id */
const seqOf = (run: number, e: Event) => run * 1e7 + Number(e.eventId ?? 0);
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

async function first(converter: LoadedDataConverter, payloads: Payloads): Promise<Record<string, unknown> | undefined> {
  const [value] = await decodeArrayFromPayloads(converter, payloads?.payloads ?? []);
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

async function decodeFailure(converter: LoadedDataConverter, failure: temporal.api.failure.v1.IFailure | null | undefined): Promise<ActivityFact['failure']> {
  const err = await decodeOptionalFailureToOptionalError(converter, failure ?? undefined);
  if (!err) return undefined;
  const app = findApplicationFailure(err);
  const blocked = blockedDetailsOf(err);
  let message = app?.message ?? err.message;
  for (let cur: unknown = err, i = 0; !app && cur && i < 8; i++, cur = (cur as { cause?: unknown }).cause) {
    if ((cur as Error).message) message = (cur as Error).message;
  }
  return { message, ...(app?.type ? { type: app.type } : {}), ...(app?.nonRetryable ? { nonRetryable: true } : {}), ...(blocked ? { blocked } : {}) };
}

async function workflowFacts(client: Client, workflowId: string, kind: 'mesh' | 'cluster', cluster?: string): Promise<{ facts: WorkflowFacts; input?: Record<string, unknown> }> {
  const converter = client.options.loadedDataConverter;
  const runs = await historyChain(client, workflowId);
  const facts: HistoryFact[] = [];
  let input: Record<string, unknown> | undefined;
  let outcome: WorkflowOutcome = 'running';
  let closedAt: number | undefined;
  let resultState: string | undefined;
  let error: string | undefined;
  for (const [run, events] of runs.entries()) {
    const activities = new Map<string, ActivityFact>();
    const activity = (scheduledEventId: unknown) => activities.get(`${run}/${String(scheduledEventId)}`);
    for (const e of events) {
      if (e.workflowExecutionStartedEventAttributes && run === 0) {
        input = await first(converter, e.workflowExecutionStartedEventAttributes.input);
      } else if (e.activityTaskScheduledEventAttributes) {
        const a = e.activityTaskScheduledEventAttributes;
        const meta = await decodeUserMetadata(converter, e.userMetadata);
        const fact: ActivityFact = {
          type: 'activity',
          key: `${run}/${String(e.eventId)}`,
          activity: a.activityType?.name ?? 'unknown',
          ...(meta.staticSummary ? { summary: meta.staticSummary } : {}),
          scheduledAt: at(e),
          scheduledSeq: seqOf(run, e),
          attempts: 0,
          outcome: 'running',
        };
        activities.set(fact.key, fact);
        facts.push(fact);
      } else if (e.activityTaskStartedEventAttributes) {
        const f = activity(e.activityTaskStartedEventAttributes.scheduledEventId);
        if (f) {
          f.startedAt = at(e);
          f.attempts = e.activityTaskStartedEventAttributes.attempt ?? 1;
        }
      } else if (e.activityTaskCompletedEventAttributes) {
        const f = activity(e.activityTaskCompletedEventAttributes.scheduledEventId);
        if (f) Object.assign(f, { closedAt: at(e), closedSeq: seqOf(run, e), outcome: 'completed' });
      } else if (e.activityTaskFailedEventAttributes) {
        const f = activity(e.activityTaskFailedEventAttributes.scheduledEventId);
        if (f) Object.assign(f, { closedAt: at(e), closedSeq: seqOf(run, e), outcome: 'failed', failure: await decodeFailure(converter, e.activityTaskFailedEventAttributes.failure) });
      } else if (e.activityTaskTimedOutEventAttributes) {
        const f = activity(e.activityTaskTimedOutEventAttributes.scheduledEventId);
        if (f) Object.assign(f, { closedAt: at(e), closedSeq: seqOf(run, e), outcome: 'timed-out', failure: await decodeFailure(converter, e.activityTaskTimedOutEventAttributes.failure) });
      } else if (e.activityTaskCanceledEventAttributes) {
        const f = activity(e.activityTaskCanceledEventAttributes.scheduledEventId);
        if (f) Object.assign(f, { closedAt: at(e), closedSeq: seqOf(run, e), outcome: 'canceled' });
      } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
        const req = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input;
        const args = await first(converter, req?.args);
        const plan = args?.plan as { revision?: string } | undefined;
        facts.push({
          type: 'update',
          at: at(e),
          seq: seqOf(run, e),
          name: req?.name ?? 'unknown',
          ...actor(args),
          ...(str(args?.step) ? { step: str(args?.step) } : {}),
          ...(plan?.revision ? { revision: plan.revision } : {}),
        });
      } else if (e.workflowExecutionSignaledEventAttributes) {
        const s = e.workflowExecutionSignaledEventAttributes;
        const args = await first(converter, s.input);
        facts.push({ type: 'signal', at: at(e), seq: seqOf(run, e), name: s.signalName ?? 'unknown', ...actor((args?.actor as Record<string, unknown> | undefined) ?? args) });
      } else if (e.workflowExecutionCompletedEventAttributes) {
        outcome = 'completed';
        closedAt = at(e);
        const result = await first(converter, e.workflowExecutionCompletedEventAttributes.result);
        resultState = str(result?.state);
        error = str(result?.error);
      } else if (e.workflowExecutionFailedEventAttributes) {
        outcome = 'failed';
        closedAt = at(e);
        error = (await decodeFailure(converter, e.workflowExecutionFailedEventAttributes.failure))?.message;
      } else if (e.workflowExecutionCanceledEventAttributes) {
        outcome = 'canceled';
        closedAt = at(e);
      } else if (e.workflowExecutionTerminatedEventAttributes) {
        outcome = 'terminated';
        closedAt = at(e);
        error = str(e.workflowExecutionTerminatedEventAttributes.reason);
      } else if (e.workflowExecutionTimedOutEventAttributes) {
        outcome = 'timed-out';
        closedAt = at(e);
      }
    }
  }
  const startedAt = runs[0]?.[0] ? at(runs[0][0]) : Date.now();
  return {
    facts: {
      workflowId,
      kind,
      ...(cluster ? { cluster } : {}),
      runs: runs.length,
      startedAt,
      ...(closedAt ? { closedAt } : {}),
      outcome,
      ...(resultState ? { resultState } : {}),
      ...(error ? { error } : {}),
      facts,
    },
    input,
  };
}

function actor(args: Record<string, unknown> | undefined): { by?: string; via?: string; reason?: string } {
  return { ...(str(args?.by) ? { by: str(args?.by) } : {}), ...(str(args?.via) ? { via: str(args?.via) } : {}), ...(str(args?.reason) ? { reason: str(args?.reason) } : {}) };
}

/** The histories hold encrypted payloads and this client has no codec for them. */
export class EncryptedHistory extends Error {
  override name = 'EncryptedHistory';
  constructor(readonly workflowId: string) {
    super(`the history of ${workflowId} holds encrypted payloads and this client has no key for them: set MESHPILOT_CODEC_KEYS as the workers have it`);
  }
}

/** Reads a rollout (`rollout-<mesh>-<revision>`) and its cluster children. */
export async function fetchRolloutFacts(client: Client, workflowId: string): Promise<RolloutFacts> {
  try {
    return await readRollout(client, workflowId);
  } catch (err) {
    if (new RegExp(`Unknown encoding: ${ENCRYPTED_ENCODING}`).test((err as Error).message)) throw new EncryptedHistory(workflowId);
    throw err;
  }
}

async function readRollout(client: Client, workflowId: string): Promise<RolloutFacts> {
  let parent: Awaited<ReturnType<typeof workflowFacts>>;
  try {
    parent = await workflowFacts(client, workflowId, 'mesh');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) throw new RolloutNotFound(workflowId);
    throw err;
  }
  const input = parent.input as { rolloutId?: string; plan?: { mesh?: string; revision?: string; clusters?: Array<{ name: string }> }; requestedBy?: { by?: string; via?: string } } | undefined;
  if (!input?.plan?.clusters) throw new RolloutNotFound(workflowId);
  const clusters = input.plan.clusters.map((c) => c.name);
  const children = await Promise.all(
    clusters.map(async (name) => {
      try {
        return (await workflowFacts(client, clusterWorkflowId(workflowId, name), 'cluster', name)).facts;
      } catch (err) {
        // a child that was never started (the rollout stopped before the cluster phase) has no history
        if (err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) return undefined;
        throw err;
      }
    }),
  );
  return {
    workflowId,
    mesh: input.plan.mesh ?? '',
    revision: input.plan.revision ?? input.rolloutId ?? '',
    clusters,
    startedBy: { by: input.requestedBy?.by ?? 'unknown', via: input.requestedBy?.via ?? 'api' },
    parent: parent.facts,
    children: children.filter((c): c is WorkflowFacts => c !== undefined),
    readAt: Date.now(),
  };
}
