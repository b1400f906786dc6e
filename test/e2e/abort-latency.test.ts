// Abort stops the tools within seconds: measured from the server recording each activity's cancel to the tool
// process being gone, with one process per simulated call (as real tools), and no tool call starts after the abort.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import proto from '@temporalio/proto';
import { onToolEvent, type ToolEvent } from '../../activities/exec/run-tool.ts';
import { abortRollout } from '../../client/rollouts.ts';
import { clusterWorkflowId } from '../../contracts/names.ts';
import { readCalls } from '../../lab/call-log.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { describePids, labToolPids, untilNone } from '../helpers/processes.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';

const EventType = proto.temporal.api.enums.v1.EventType;

describe('abort latency', () => {
  const suite = useLabSuite();

  test('abort: every running tool is gone within 2 s of its cancel reaching the server, and no call starts after it', async () => {
    // every simulated call takes 20 s: when the abort comes, every activity is inside a call
    const l = await suite.lab({ scenario: 'happy', toolLatencyMs: 20_000, processPerCall: true });
    const events: ToolEvent[] = [];
    const off = onToolEvent((e) => events.push(e));
    try {
      const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
      // preflight's four version probes per cluster, all mid-call
      const deadline = Date.now() + 120_000;
      while (events.filter((e) => e.type === 'spawn').length < 8 || labToolPids(l.labDir).length < 8) {
        assert.ok(Date.now() < deadline, `tools running: ${labToolPids(l.labDir).length}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const running = labToolPids(l.labDir);
      const abortedAt = Date.now();
      await abortRollout(suite.env.client, workflowId, { by: 'alice', via: 'test', reason: 'stop now' });
      const done = await waitFor(suite.env.client, workflowId, isFinished, 120_000);
      assert.equal(done.state, 'aborted');
      const left = await untilNone(() => labToolPids(l.labDir), 30_000);
      assert.deepEqual(describePids(left), [], 'every tool process is gone');
      const lastGone = Math.max(...events.filter((e) => e.type === 'exit').map((e) => e.at));

      // when the server recorded each activity's cancel: ActivityTaskCancelRequested → its scheduled event → activity id
      const cancelAt = new Map<string, number>();
      for (const c of l.plan.clusters) {
        const id = clusterWorkflowId(workflowId, c.name);
        const history = await suite.env.client.workflow.getHandle(id).fetchHistory();
        const scheduled = new Map<number, string>();
        for (const e of history.events ?? []) {
          if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduled.set(Number(e.eventId), e.activityTaskScheduledEventAttributes!.activityId!);
          if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED) {
            const activityId = scheduled.get(Number(e.activityTaskCancelRequestedEventAttributes!.scheduledEventId))!;
            cancelAt.set(`${id}/${activityId}`, Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
          }
        }
      }
      const terminated = events.filter((e): e is Extract<ToolEvent, { type: 'terminate' }> => e.type === 'terminate');
      assert.deepEqual(terminated.map((t) => t.pid).sort(), [...running].sort(), 'each running tool was terminated by its activity');
      assert.ok(terminated.every((t) => t.why === 'cancelled'), 'because its activity was cancelled');
      const gone: number[] = [];
      for (const t of terminated) {
        const cancelled = cancelAt.get(`${t.activity!.workflowId}/${t.activity!.activityId}`);
        assert.ok(cancelled !== undefined, `the server recorded a cancel for ${t.activity!.activityType}`);
        const exit = events.find((e) => e.type === 'exit' && e.pid === t.pid)!;
        gone.push(exit.at - cancelled);
        assert.ok(exit.at - cancelled <= 2_000, `${t.command} (${t.activity!.activityType}) gone ${exit.at - cancelled} ms after its cancel was recorded`);
      }
      const lastCancel = Math.max(...cancelAt.values());
      // Reported for the lead: the whole path from the operator's command to the last tool process gone.
      process.stderr.write(
        `abort latency: cancel recorded → tool gone ${Math.min(...gone)}–${Math.max(...gone)} ms over ${gone.length} tools; ` +
          `abort → last cancel recorded ${lastCancel - abortedAt} ms; abort → last tool gone ${lastGone - abortedAt} ms\n`,
      );
      assert.ok(lastGone - abortedAt <= 15_000, `abort → last tool gone took ${lastGone - abortedAt} ms`);

      const spawnedAfter = events.filter((e) => e.type === 'spawn' && e.at >= abortedAt);
      assert.deepEqual(spawnedAfter, [], 'no tool call starts after the abort');
      assert.deepEqual(readCalls(l.labDir).filter((c) => c.startedAt >= abortedAt), [], 'the lab saw no call after the abort either');
    } finally {
      off();
    }
  });
});
