// The pause model on a real dev server: an operator action that arrives while a paused step re-checks is not lost.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { blocked } from '../../contracts/failures.ts';
import { resumeUpdate } from '../../contracts/messages.ts';
import { startTemporal } from '../helpers/temporal.ts';

const workflowsPath = fileURLToPath(new URL('./fixtures/step-runner-probe.ts', import.meta.url));

/** A promise with its resolver, so the test can hold an activity mid-call and learn when it started. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('step runner', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  it('a resume sent while the re-check runs re-checks again at once, not at the next automatic re-check', async () => {
    const started = [deferred(), deferred(), deferred()];
    const releaseSecond = deferred();
    const taskQueue = `step-runner-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath,
      activities: {
        async probe(attempt: number): Promise<void> {
          started[attempt - 1]?.resolve();
          if (attempt === 2) await releaseSecond.promise;
          if (attempt < 3) throw blocked({ reason: `still blocked at attempt ${attempt}`, hint: 'wait' });
        },
      },
    });
    await worker.runUntil(async () => {
      // Automatic re-checks 20 and 40 minutes away: only an operator's resume can bring a re-check within the test.
      const limits = { recheckBaseMs: 20 * 60_000, recheckMaxMs: 60 * 60_000, maxHistoryEvents: 1_500 };
      const handle = await env.client.workflow.start('stepRunnerProbe', { taskQueue, workflowId: `probe-${randomUUID()}`, args: [limits] });
      await within(60_000, 'first attempt', started[0]!.promise);
      await resumeWhenPaused(handle);
      await within(60_000, 'the re-check the first resume asked for', started[1]!.promise);
      // The step is still paused while its re-check runs: this resume is accepted ...
      const second = await handle.executeUpdate(resumeUpdate, { args: [{ by: 'test', reason: 'second look' }] });
      assert.equal(second.accepted, true);
      releaseSecond.resolve();
      // ... and acted on as soon as that re-check blocks again (not 40 minutes later).
      await within(60_000, 'the re-check the second resume asked for', started[2]!.promise);
      assert.equal(await within(60_000, 'the workflow result', handle.result()), 3);
    });
  });
});

/** Sends `resume` once the step has paused (its validator refuses it before). */
async function resumeWhenPaused(handle: { executeUpdate: (u: typeof resumeUpdate, o: { args: [{ by: string; reason: string }] }) => Promise<unknown> }): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await handle.executeUpdate(resumeUpdate, { args: [{ by: 'test', reason: 'first look' }] });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
