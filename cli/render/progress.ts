// Progress as a stream of changes, for pipes and log collectors (`watch` and `rollout --wait` without a terminal):
// one line per change of a step's state, or of the rollout's state, instead of the whole view again; `--json`
// writes the same changes as one JSON object per line, in the documented shape below.
import { z } from 'zod';
import { RUN_STATES, STEP_ICON, type RolloutView, type StepState, type StepStatus, currentStep } from '../../contracts/status.ts';
import { colors, type CliIO } from '../io.ts';
import { renderPause } from './rollout-view.ts';

const STEP_STATES = ['pending', 'running', 'blocked', 'done', 'kept', 'skipped', 'overridden', 'failed', 'aborted'] as const satisfies readonly StepState[];

/**
 * `meshpilot watch --json` (and `rollout --wait --json`): one object per line, one per change.
 * - `step`: a step changed state. `cluster` is null for the mesh phase (mesh-ca, connect, mesh-verify, …).
 * - `rollout`: the rollout changed state or revision (an amend), or paused somewhere new; `blocked` says where
 *   and why while it is paused, `error` why it failed.
 * The first objects describe where the rollout is when watching starts: its state, then each cluster's current step.
 */
export const watchEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('step'),
    at: z.string().describe('ISO time the change was seen'),
    rollout: z.string().describe('the rollout workflow id'),
    cluster: z.string().nullable(),
    step: z.string(),
    state: z.enum(STEP_STATES),
  }),
  z.object({
    type: z.literal('rollout'),
    at: z.string(),
    rollout: z.string(),
    mesh: z.string(),
    revision: z.string(),
    state: z.enum(RUN_STATES),
    blocked: z
      .object({ cluster: z.string().nullable(), step: z.string(), reason: z.string(), hint: z.string(), since: z.string(), overridable: z.boolean(), skippable: z.boolean() })
      .optional(),
    error: z.string().optional(),
  }),
]);
export type WatchEvent = z.infer<typeof watchEventSchema>;

type StepEvent = Extract<WatchEvent, { type: 'step' }>;
type RolloutEvent = Extract<WatchEvent, { type: 'rollout' }>;

const MESH = '\0mesh';

function stepTables(v: RolloutView): Array<[string, StepStatus[]]> {
  return [...v.clusters.map((c): [string, StepStatus[]] => [c.name, c.steps]), [MESH, v.meshSteps]];
}

function rolloutEvent(v: RolloutView, at: string): RolloutEvent {
  const b = v.blocked;
  return {
    type: 'rollout',
    at,
    rollout: v.workflowId,
    mesh: v.mesh,
    revision: v.revision,
    state: v.state,
    ...(b ? { blocked: { cluster: b.cluster ?? null, step: b.step, reason: b.reason, hint: b.hint, since: b.since, overridable: b.overridable, skippable: b.skippable } } : {}),
    ...(v.error ? { error: v.error } : {}),
  };
}

const pauseKey = (v: RolloutView) => (v.blocked ? `${v.blocked.cluster ?? ''}/${v.blocked.step}/${v.blocked.since}` : '');

/**
 * What changed from `prev` to `next`. Without `prev` (watching starts): the rollout's state and each cluster's
 * current step. After: every step whose state differs, in step order, then the rollout if its state, revision or
 * pause changed. A change that came and went between two looks is not seen; the last state always is.
 */
export function progressEvents(prev: RolloutView | undefined, next: RolloutView, at = new Date().toISOString()): WatchEvent[] {
  const events: WatchEvent[] = [];
  const step = (cluster: string, s: StepStatus): StepEvent => ({ type: 'step', at, rollout: next.workflowId, cluster: cluster === MESH ? null : cluster, step: s.name, state: s.state });
  if (!prev) {
    events.push(rolloutEvent(next, at));
    for (const [cluster, steps] of stepTables(next)) {
      const cur = currentStep(steps);
      if (cur && cur.state !== 'pending') events.push(step(cluster, cur));
    }
    return events;
  }
  const before = new Map(stepTables(prev).map(([c, steps]) => [c, new Map(steps.map((s) => [s.name, s.state]))]));
  for (const [cluster, steps] of stepTables(next)) {
    for (const s of steps) {
      const was = before.get(cluster)?.get(s.name) ?? 'pending';
      if (s.state !== was) events.push(step(cluster, s));
    }
  }
  if (prev.state !== next.state || prev.revision !== next.revision || pauseKey(prev) !== pauseKey(next) || prev.error !== next.error) {
    events.push(rolloutEvent(next, at));
  }
  return events;
}

/** One human line per change; a new pause also gets its reason, hint and the actions that apply (as `status` shows them). */
export function renderProgressEvent(io: CliIO, e: WatchEvent, view: RolloutView, width: number): string {
  const c = colors(io);
  if (e.type === 'step') {
    const where = (e.cluster ?? 'mesh').padEnd(width);
    const text = `${STEP_ICON[e.state]} ${where}  ${e.step.padEnd(19)}  ${e.state}`;
    return `${e.state === 'blocked' ? c.yellow(text) : e.state === 'failed' || e.state === 'aborted' ? c.red(text) : text}\n`;
  }
  const head = `${c.bold(e.rollout)}  revision ${e.revision}  ${e.state}`;
  const pause = e.state === 'paused' && view.blocked ? `${renderPause(io, view)}\n` : '';
  const error = e.error ? `${c.red(`error: ${e.error}`)}\n` : '';
  return `${head}\n${pause}${error}`;
}

/** Width of the cluster column: the longest cluster name (or "mesh"). */
export const clusterColumn = (v: RolloutView) => Math.max(4, ...v.clusters.map((x) => x.name.length));
