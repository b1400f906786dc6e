// How long from an operator's `resume` to the paused step checking again: node-unreachable pauses the first
// cluster at boot/apply-config; the bench heals the lab and resumes, then reads the time two ways.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { abortRollout, actOnStep, getRolloutView } from '../client/rollouts.ts';
import { healLab } from '../test/helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../test/helpers/rollout.ts';
import type { LabSettings } from './meshpilot-run.ts';
import { startBenchWorker } from './lab-worker.ts';

export interface ResumeLatency {
  step: string;
  /** client: actOnStep(resume) called → the view no longer shows the step blocked (includes query round trips) */
  clientToUnblockedMs: number;
  /** server clock: the update's Accepted event → the next activity scheduled (same workflow task: ~0) */
  acceptedToScheduledMs: number;
  /** server clock: the update's Accepted event → that activity started on the worker */
  acceptedToStartedMs: number;
}

type HistoryEvent = { eventTime?: { seconds?: unknown; nanos?: number | null } | null } & Record<string, unknown>;
const eventMs = (e: HistoryEvent) => Number(String(e.eventTime?.seconds ?? 0)) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;

export async function measureResume(env: TestWorkflowEnvironment, root: string, plan: RolloutPlan, lab: LabSettings): Promise<ResumeLatency> {
  const w = await startBenchWorker(env.nativeConnection, env.namespace ?? 'default', root, plan, { scenario: 'node-unreachable', ...lab });
  const operator = { by: 'bench', via: 'bench' };
  let workflowId = '';
  try {
    ({ workflowId } = await start(env.client, plan, w.taskQueue));
    const paused = await waitFor(env.client, workflowId, isPaused, 5 * 60_000);
    const blocked = paused.blocked!;
    await healLab(w.labDir, 'node-unreachable');
    const t0 = Date.now();
    await actOnStep(env.client, workflowId, 'resume', { ...operator, reason: 'bench: node fixed' });
    const stillBlocked = async () => {
      const v = await getRolloutView(env.client, workflowId);
      return v.clusters.find((c) => c.workflowId === blocked.workflowId)?.steps.find((s) => s.name === blocked.step)?.state === 'blocked';
    };
    while (await stillBlocked()) {
      if (Date.now() - t0 > 120_000) throw new Error(`resume: ${blocked.step} still blocked after 2 min`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const clientToUnblockedMs = Date.now() - t0;
    const events = ((await env.client.workflow.getHandle(blocked.workflowId).fetchHistory()).events ?? []) as HistoryEvent[];
    const accepted = events.findLastIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    const scheduled = events.findIndex((e, i) => i > accepted && e.activityTaskScheduledEventAttributes);
    const started = events.findIndex((e, i) => i > accepted && e.activityTaskStartedEventAttributes);
    if (accepted < 0 || scheduled < 0 || started < 0) throw new Error('resume: no accepted update followed by an activity in the child history');
    const at = eventMs(events[accepted]!);
    return { step: blocked.step, clientToUnblockedMs, acceptedToScheduledMs: eventMs(events[scheduled]!) - at, acceptedToStartedMs: eventMs(events[started]!) - at };
  } finally {
    // The figure is taken; the rest of this rollout is not measured.
    if (workflowId) {
      await abortRollout(env.client, workflowId, { ...operator, reason: 'bench: measured' }).catch(() => {});
      await waitFor(env.client, workflowId, isFinished, 60_000).catch(() => {});
    }
    await w.stop();
    w.remove();
  }
}
