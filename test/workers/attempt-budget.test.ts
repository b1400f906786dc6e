// Worker restarts do not use up a step's retry budget: attempts lost to a stopped worker are told apart from failed
// ones through the heartbeat details, against a real Temporal server and real worker restarts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { recordFor, type AttemptRecord } from '../../activities/exec/attempts.ts';
import { transient } from '../../contracts/failures.ts';
import { activityHygiene } from '../../workers/activity-hygiene.ts';
import { startTemporal } from '../helpers/temporal.ts';

type Behaviour = 'hang' | 'fail' | 'ok';

describe('attempt budget across worker restarts', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  before(async () => {
    env = await startTemporal();
    bundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../fixtures/workers/budget-workflow.ts', import.meta.url)) });
  });
  after(async () => {
    await env?.teardown();
  });

  /** Runs the workflow; each attempt behaves as `plan` says; a `hang` attempt is ended by stopping its worker. */
  async function run(plan: (attempt: number) => Behaviour) {
    const taskQueue = `budget-${randomUUID()}`;
    const records: AttemptRecord[] = [];
    let hanging: (() => void) | undefined;
    const activities = {
      async flaky(): Promise<number> {
        const ctx = Context.current();
        records.push(recordFor(ctx.info));
        const b = plan(ctx.info.attempt);
        if (b === 'fail') throw transient(`flaky answer on attempt ${ctx.info.attempt}`);
        if (b === 'hang') {
          hanging?.();
          await ctx.cancelled;
        }
        return ctx.info.attempt;
      },
    };
    const handle = await env.client.workflow.start('budgetWorkflow', { taskQueue, workflowId: taskQueue });
    for (;;) {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: bundle,
        activities,
        interceptors: { activity: [activityHygiene] },
        maxHeartbeatThrottleInterval: '1s',
        shutdownGraceTime: '100ms',
      });
      const hung = new Promise<'hung'>((resolve) => (hanging = () => resolve('hung')));
      const running = worker.run();
      const outcome = await Promise.race([hung, handle.result()]);
      // a hanging attempt: this worker is stopped (its attempt is cancelled and reported), a new one takes over
      worker.shutdown();
      await running;
      if (outcome !== 'hung') return { result: outcome, records };
    }
  }

  test('seven attempts lost to worker restarts do not count: the eighth succeeds (the old limit was six attempts in all)', async () => {
    const { result, records } = await run((a) => (a <= 7 ? 'hang' : 'ok'));
    assert.deepEqual(result, { ok: true, attempt: 8 });
    assert.deepEqual(records.map((r) => [r.attempt, r.failed, r.lost]), [
      [1, 0, 0], [2, 0, 1], [3, 0, 2], [4, 0, 3], [5, 0, 4], [6, 0, 5], [7, 0, 6], [8, 0, 7],
    ]);
  });

  test('six failures pause the step; attempts lost before them are not among the six', async () => {
    const { result, records } = await run((a) => (a <= 2 ? 'hang' : 'fail'));
    assert.equal(result.ok, false);
    assert.equal((result as { type?: string }).type, 'MeshpilotBlocked');
    assert.match((result as { message: string }).message, /^flaky kept failing after 6 attempts \(and 2 lost to worker restarts\): flaky answer on attempt 8$/);
    assert.deepEqual(records.map((r) => [r.attempt, r.failed, r.lost]), [
      [1, 0, 0], [2, 0, 1], [3, 0, 2], [4, 1, 2], [5, 2, 2], [6, 3, 2], [7, 4, 2], [8, 5, 2],
    ]);
  });
});
