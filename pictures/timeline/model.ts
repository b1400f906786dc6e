// The rollout timeline as data, built by a pure function from the decoded histories (timeline/history.ts): one
// lane per cluster and one for the mesh, a bar per step with its pauses, the operator's actions, the critical
// path, and the activity calls each step made. Times are milliseconds since the rollout started.
import { FailureType } from '../../contracts/failures.ts';
import { CLUSTER_STEPS, MESH_STEPS } from '../../contracts/steps.ts';
import type { ActivityFact, HistoryFact, RolloutFacts, WorkflowFacts } from './history.ts';
import { phaseOf, STEP_ACTIVITIES } from './step-activities.ts';

export type BarState = 'done' | 'running' | 'paused' | 'skipped' | 'overridden' | 'failed' | 'aborted';

export interface PauseReason {
  at: number;
  reason: string;
  hint: string;
}

export interface Pause {
  lane: string;
  step: string;
  from: number;
  /** undefined: still paused when the histories were read */
  to?: number;
  reasons: PauseReason[];
  /** checks after the first failure (automatic, resume or amend) */
  rechecks: number;
  /** how it ended, in words: "a re-check passed after amend by alice", "skipped by bob: …" */
  endedBy: string;
}

export interface StepBar {
  lane: string;
  step: string;
  title: string;
  state: BarState;
  from: number;
  to: number;
  pauses: Pause[];
  /** activities the step scheduled, and their attempts (retries included) */
  calls: number;
  attempts: number;
  byActivity: Record<string, number>;
  note?: string;
  critical: boolean;
}

export interface Lane {
  name: string;
  kind: 'cluster' | 'mesh';
  workflowId: string;
  state: string;
  runs: number;
  bars: StepBar[];
}

export interface ActionMark {
  at: number;
  lane: string;
  action: string;
  by: string;
  via: string;
  reason?: string;
  step?: string;
  revision?: string;
}

export interface TimelineModel {
  workflowId: string;
  mesh: string;
  revision: string;
  /** revisions the rollout moved to by amendment, in order */
  amendedTo: string[];
  state: string;
  startedBy: { by: string; via: string };
  /** epoch ms */
  startedAt: number;
  durationMs: number;
  /** true while the rollout still runs: bars end at the moment the histories were read */
  open: boolean;
  lanes: Lane[];
  pauses: Pause[];
  actions: ActionMark[];
  critical: { path: string[]; durationMs: number; slowestCluster?: string };
  error?: string;
}

const STEP_TITLES = new Map<string, string>([...CLUSTER_STEPS, ...MESH_STEPS].map((s) => [s.name, s.title]));

const CLUSTER_SIGNALS_FROM_PARENT = new Set(['meshpilot.amendCluster', 'meshpilot.abortCluster']);

type Stream =
  | { seq: number; t: number; kind: 'schedule'; a: ActivityFact }
  | { seq: number; t: number; kind: 'close'; a: ActivityFact }
  | { seq: number; t: number; kind: 'message'; f: Exclude<HistoryFact, ActivityFact> };

function streamOf(facts: HistoryFact[]): Stream[] {
  const out: Stream[] = [];
  for (const f of facts) {
    if (f.type === 'activity') {
      out.push({ seq: f.scheduledSeq, t: f.scheduledAt, kind: 'schedule', a: f });
      if (f.closedAt !== undefined) out.push({ seq: f.closedSeq ?? f.scheduledSeq, t: f.closedAt, kind: 'close', a: f });
    } else out.push({ seq: f.seq, t: f.at, kind: 'message', f });
  }
  return out.sort((x, y) => x.seq - y.seq);
}

const who = (f: { by?: string; via?: string; reason?: string }) => `${f.by ?? 'someone'}${f.via ? ` via ${f.via}` : ''}${f.reason ? `: ${f.reason}` : ''}`;

/**
 * One workflow's steps from its history. Steps run in order and each calls its activities in a known order
 * (step-activities.ts): an activity that its step calls no more in this attempt starts the next step that calls
 * it, unless the attempt failed (then it is the step's re-check). Failures that are not fatal pause the step.
 */
function laneOf(wf: WorkflowFacts, lane: string, steps: ReadonlyArray<{ name: string }>, t0: number, readAt: number): { bars: StepBar[]; actions: ActionMark[] } {
  const bars: StepBar[] = [];
  const actions: ActionMark[] = [];
  const barOfActivity = new Map<string, StepBar>();
  const rel = (t: number) => t - t0;
  let cur = -1;
  let attempt = { maxPhase: -1, failed: false };
  let ended = false; // the current step was skipped or overridden
  let lastAction: string | undefined;
  const bar = () => bars[bars.length - 1];
  const openPause = (b: StepBar | undefined) => b?.pauses.find((p) => p.to === undefined);
  const lastClose = (b: StepBar) => Math.max(b.from, ...[...barOfActivity].filter(([, x]) => x === b).map(([key]) => activityEnd.get(key) ?? b.from));
  const activityEnd = new Map<string, number>();
  const outstanding = new Set<string>();

  const finish = (b: StepBar, state: BarState, to: number, endedBy?: string) => {
    b.state = state;
    b.to = Math.max(b.from, to);
    const p = openPause(b);
    if (p) {
      p.to = b.to;
      p.endedBy = endedBy ?? (lastAction ? `a re-check passed after ${lastAction}` : 'an automatic re-check passed');
    }
  };

  const start = (index: number, t: number) => {
    const name = steps[index]!.name;
    bars.push({ lane, step: name, title: STEP_TITLES.get(name) ?? name, state: 'running', from: rel(t), to: rel(t), pauses: [], calls: 0, attempts: 0, byActivity: {}, critical: false });
    cur = index;
    ended = false;
    lastAction = undefined;
  };

  for (const ev of streamOf(wf.facts)) {
    if (ev.kind === 'schedule') {
      const name = ev.a.activity;
      const phase = cur >= 0 ? phaseOf(steps[cur]!.name, name) : undefined;
      if (cur >= 0 && !ended && phase !== undefined && (attempt.failed || phase >= attempt.maxPhase)) {
        if (attempt.failed) {
          attempt = { maxPhase: phase, failed: false };
          const p = openPause(bar());
          if (p) p.rechecks += 1;
        } else attempt.maxPhase = Math.max(attempt.maxPhase, phase);
      } else {
        let next = steps.findIndex((s, i) => i > cur && phaseOf(s.name, name) !== undefined);
        if (next < 0) next = Math.max(cur, 0); // an activity no step claims: keep it where the run is
        if (next !== cur || !bar()) {
          const previous = bar();
          if (previous && previous.state === 'running') finish(previous, 'done', lastClose(previous));
          for (let i = cur + 1; i < next; i++) {
            start(i, ev.t); // a step that called nothing (nothing to apply): done at once
            finish(bar()!, 'done', rel(ev.t));
          }
          start(next, ev.t);
        }
        attempt = { maxPhase: phaseOf(steps[cur]!.name, name) ?? 0, failed: false };
      }
      const b = bar()!;
      b.calls += 1;
      b.byActivity[name] = (b.byActivity[name] ?? 0) + 1;
      barOfActivity.set(ev.a.key, b);
      outstanding.add(ev.a.key);
    } else if (ev.kind === 'close') {
      activityEnd.set(ev.a.key, rel(ev.t));
      outstanding.delete(ev.a.key);
      const b = barOfActivity.get(ev.a.key);
      if (!b) continue;
      b.attempts += Math.max(1, ev.a.attempts);
      if (ev.a.outcome === 'canceled' && b === bar()) attempt.failed = true; // cut short: the step did not finish
      const f = ev.a.failure;
      if (!f || ev.a.outcome === 'canceled' || b !== bar() || b.state !== 'running') continue;
      const fatal = !f.blocked && (f.type === FailureType.fatal || (f.nonRetryable && f.type !== FailureType.blocked));
      if (fatal) {
        b.note = f.message;
        finish(b, 'failed', rel(ev.t), 'the step failed');
        continue;
      }
      attempt.failed = true;
      let p = openPause(b);
      if (!p) {
        p = { lane, step: b.step, from: rel(ev.t), reasons: [], rechecks: 0, endedBy: 'still paused' };
        b.pauses.push(p);
      }
      const reason = f.blocked?.reason ?? `${b.step} kept failing after its retries: ${f.message}`;
      const hint = f.blocked?.hint ?? 'meshpilot re-checks automatically; fix what the message names, or resume to re-check now';
      if (!p.reasons.some((r) => r.reason === reason)) p.reasons.push({ at: rel(ev.t), reason, hint });
    } else {
      const f = ev.f;
      if (f.type === 'signal' && CLUSTER_SIGNALS_FROM_PARENT.has(f.name)) {
        // the parent's amend/abort reaching this cluster: the parent's lane shows the action itself
        if (f.name === 'meshpilot.amendCluster') lastAction = `amend by ${who(f)}`;
        continue;
      }
      if (f.type !== 'update') continue;
      actions.push({
        at: rel(f.at),
        lane,
        action: f.name,
        by: f.by ?? 'someone',
        via: f.via ?? 'api',
        ...(f.reason ? { reason: f.reason } : {}),
        ...(f.step ? { step: f.step } : {}),
        ...(f.revision ? { revision: f.revision } : {}),
      });
      const b = bar();
      if ((f.name === 'skip' || f.name === 'override') && b && b.step === (f.step ?? b.step) && b.state === 'running') {
        finish(b, f.name === 'skip' ? 'skipped' : 'overridden', rel(f.at), `${f.name === 'skip' ? 'skipped' : 'overridden'} by ${who(f)}`);
        b.note = `${f.name === 'skip' ? 'skipped' : 'overridden'} by ${who(f)}`;
        ended = true;
      } else if (f.name === 'resume' || f.name === 'amend') {
        lastAction = `${f.name} by ${who(f)}`;
      }
    }
  }

  /** The run stopped (aborted, failed) after this step had made every call it makes, all successfully. */
  const finishedItsWork = (b: StepBar) =>
    !attempt.failed && attempt.maxPhase === (STEP_ACTIVITIES[b.step]?.length ?? 0) - 1 && ![...outstanding].some((k) => barOfActivity.get(k) === b) && !openPause(b);

  const last = bar();
  if (last && last.state === 'running') {
    const end = wf.closedAt !== undefined ? rel(wf.closedAt) : rel(readAt);
    const result = wf.resultState ?? (wf.outcome === 'completed' ? 'completed' : wf.outcome);
    if (wf.closedAt === undefined) {
      last.to = Math.max(last.from, end);
      if (openPause(last)) last.state = 'paused';
    } else if (result === 'completed' || finishedItsWork(last)) {
      finish(last, 'done', lastClose(last));
      // The runner starts the next step in the same activation as it finishes one, and an abort then marks that
      // step aborted before it could schedule anything (nothing of it reaches history). The mesh is the exception:
      // after mesh-ca it waits for the clusters, not for a step.
      const next = steps.findIndex((s) => s.name === last.step) + 1;
      if (result === 'aborted' && next > 0 && next < steps.length && !(lane === 'mesh' && last.step === 'mesh-ca')) {
        start(next, t0 + last.to);
        finish(bar()!, 'aborted', last.to, 'the rollout was aborted');
      }
    } else if (result === 'aborted' || wf.outcome === 'canceled' || wf.outcome === 'terminated') finish(last, 'aborted', end, 'the rollout was aborted');
    else {
      if (!last.note && wf.error) last.note = wf.error;
      finish(last, 'failed', end, 'the step failed');
    }
  }
  return { bars, actions };
}

function laneState(wf: WorkflowFacts, bars: StepBar[]): string {
  if (wf.closedAt === undefined) return bars.some((b) => b.state === 'paused') ? 'paused' : 'running';
  return wf.resultState ?? wf.outcome;
}

export function timelineModel(r: RolloutFacts): TimelineModel {
  const t0 = r.parent.startedAt;
  const readAt = Math.max(r.readAt, t0);
  const end = r.parent.closedAt ?? readAt;
  const meshLane = laneOf(r.parent, 'mesh', MESH_STEPS, t0, readAt);
  const lanes: Lane[] = [{ name: 'mesh', kind: 'mesh', workflowId: r.workflowId, state: laneState(r.parent, meshLane.bars), runs: r.parent.runs, bars: meshLane.bars }];
  const actions = [...meshLane.actions];
  for (const name of r.clusters) {
    const wf = r.children.find((c) => c.cluster === name);
    if (!wf) {
      lanes.push({ name, kind: 'cluster', workflowId: '', state: 'not started', runs: 0, bars: [] });
      continue;
    }
    const l = laneOf(wf, name, CLUSTER_STEPS, t0, readAt);
    lanes.push({ name, kind: 'cluster', workflowId: wf.workflowId, state: laneState(wf, l.bars), runs: wf.runs, bars: l.bars });
    actions.push(...l.actions);
  }
  actions.sort((a, b) => a.at - b.at);

  // The cluster phase ends when its last cluster does: mesh-ca → the slowest cluster → the mesh phase.
  const clusterLanes = lanes.filter((l) => l.kind === 'cluster' && l.bars.length > 0);
  const slowest = clusterLanes.reduce<Lane | undefined>((s, l) => (!s || l.bars.at(-1)!.to > s.bars.at(-1)!.to ? l : s), undefined);
  for (const b of meshLane.bars) b.critical = true;
  for (const b of slowest?.bars ?? []) b.critical = true;
  const span = (bars: StepBar[]) => (bars.length ? bars.at(-1)!.to - bars[0]!.from : 0);
  const [ca, ...meshPhase] = meshLane.bars;
  const criticalMs = (ca ? ca.to - ca.from : 0) + span(slowest?.bars ?? []) + span(meshPhase);

  const state = r.parent.closedAt === undefined ? (lanes.some((l) => l.state === 'paused') ? 'paused' : 'running') : (r.parent.resultState ?? r.parent.outcome);
  return {
    workflowId: r.workflowId,
    mesh: r.mesh,
    revision: r.revision,
    amendedTo: actions.filter((a) => a.action === 'amend' && a.revision).map((a) => a.revision!),
    state,
    startedBy: r.startedBy,
    startedAt: t0,
    durationMs: end - t0,
    open: r.parent.closedAt === undefined,
    lanes,
    pauses: lanes.flatMap((l) => l.bars.flatMap((b) => b.pauses)),
    actions,
    critical: {
      path: ['mesh/mesh-ca', ...(slowest ? [`${slowest.name} (slowest cluster)`] : []), ...meshPhase.map((b) => `mesh/${b.step}`)],
      durationMs: criticalMs,
      ...(slowest ? { slowestCluster: slowest.name } : {}),
    },
    ...(r.parent.error ? { error: r.parent.error } : {}),
  };
}
