// A worker SIGKILLed mid-activity: its successor ends the dead attempt at once, so the retry starts within seconds
// instead of after the heartbeat timeout, and the lost attempt does not count against the budget.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { startTemporal } from '../helpers/temporal.ts';

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('crash recovery', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  test("a SIGKILLed worker's attempt is retried as soon as its successor starts, and counts as lost", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-recovery-'));
    const markers = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-recovery-markers-'));
    const taskQueue = `recovery-${randomUUID()}`;
    const spawn = () => execa('node', ['--import', 'tsx', 'test/fixtures/workers/budget-worker.ts', env.address, taskQueue, dataDir, markers], { reject: false, stdio: 'inherit' });
    const handle = await env.client.workflow.start('lostAttemptWorkflow', { taskQueue, workflowId: taskQueue });
    const first = spawn();
    await until('attempt 1', () => (existsSync(path.join(markers, 'attempt-1.json')) ? true : undefined), 120_000);
    // let its keep-alive heartbeat (with the attempt record) reach the server, then pull the plug
    await new Promise((r) => setTimeout(r, 1_500));
    first.kill('SIGKILL');
    await first;
    const second = spawn();
    try {
      const restartedAt = Date.now();
      const attempt2 = await until('attempt 2', () => {
        const f = path.join(markers, 'attempt-2.json');
        return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { at: number; record: { failed: number; lost: number } }) : undefined;
      }, 90_000);
      // the heartbeat timeout is 120 s: only the successor's recovery explains a retry within a minute of its start
      assert.ok(attempt2.at - restartedAt < 60_000, `attempt 2 started ${attempt2.at - restartedAt} ms after the successor`);
      assert.deepEqual({ failed: attempt2.record.failed, lost: attempt2.record.lost }, { failed: 0, lost: 1 });
      assert.equal(await handle.result(), 2);
      const recovered = readFileSync(path.join(markers, `recovered-${second.pid}.json`), 'utf8');
      assert.deepEqual(JSON.parse(recovered).failed, 1, recovered);
    } finally {
      second.kill('SIGTERM');
      await second;
    }
  });
});
