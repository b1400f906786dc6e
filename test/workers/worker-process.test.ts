// `meshpilot worker` as a supervisor runs it: JSON lines on stderr (Core SDK messages included), and a prompt exit on
// SIGTERM while simulated tool calls are in flight, leaving no tool process behind.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { SEED_BLUEPRINT, useLabSuite } from '../helpers/lab-worker.ts';
import { describePids, labToolPids, spawnMeshpilotWorker, untilNone, untilSome } from '../helpers/processes.ts';
import { start } from '../helpers/rollout.ts';

/** Every line parses as one JSON object with time, level and msg; no terminal colours anywhere. */
function assertJsonLines(stderr: string): Array<Record<string, unknown>> {
  assert.doesNotMatch(stderr, /\x1b\[/, 'no ANSI escape codes');
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        assert.fail(`not a JSON line: ${line}`);
      }
      assert.equal(typeof entry.time, 'string', line);
      assert.match(String(entry.level), /^(trace|debug|info|warn|error)$/, line);
      assert.equal(typeof entry.msg, 'string', line);
      return entry;
    });
}

describe('meshpilot worker process', () => {
  const suite = useLabSuite();

  for (const mode of ['in-process tool server', 'one process per call'] as const) {
    test(`lab worker (${mode}): SIGTERM with calls in flight stops it within seconds, no tool left; stderr is JSON lines`, async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-worker-'));
      const labDir = path.join(dataDir, 'lab');
      const plan = await planFromFile(SEED_BLUEPRINT);
      plan.revision = `${plan.revision}-${randomUUID().slice(0, 6)}`;
      // every simulated call takes 20 s: whatever runs when the signal comes is mid-call
      createLab(labDir, fleetFromPlan(plan), { scenario: 'happy', toolLatencyMs: 20_000 });
      const taskQueue = `worker-${randomUUID()}`;
      const worker = spawnMeshpilotWorker({
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: suite.env.address,
        MESHPILOT_DATA_DIR: dataDir,
        MESHPILOT_TASK_QUEUE: taskQueue,
        MESHPILOT_SECRET_KEY: randomBytes(32).toString('hex'),
        MESHPILOT_LAB_PROCESS_PER_CALL: mode === 'one process per call' ? '1' : '0',
        ...(process.env.MESHPILOT_CACHE_DIR ? { MESHPILOT_CACHE_DIR: process.env.MESHPILOT_CACHE_DIR } : {}),
      });
      try {
        await worker.ready;
        await start(suite.env.client, plan, taskQueue);
        assert.notDeepEqual(await untilSome(() => labToolPids(labDir), 60_000), [], 'a simulated call is running');
        const signalled = Date.now();
        worker.child.kill('SIGTERM');
        const r = await worker.child;
        const stopMs = Date.now() - signalled;
        assert.equal(r.exitCode, 0, worker.stderr().slice(-2000));
        // 3 s of grace for calls about to finish, then cancel + terminate; generous for a loaded machine
        assert.ok(stopMs < 15_000, `stopped ${stopMs} ms after SIGTERM`);
        assert.deepEqual(describePids(await untilNone(() => labToolPids(labDir), 2_000)), [], 'no simulated tool outlives the worker');
      } finally {
        worker.child.kill('SIGKILL');
      }
      const lines = assertJsonLines(worker.stderr());
      assert.ok(lines.some((l) => l.sdkComponent === 'core'), 'Core SDK messages are forwarded as JSON too');
      assert.ok(lines.some((l) => /^SIGTERM: shutting down/.test(String(l.msg))));
      assert.ok(lines.some((l) => l.msg === 'worker stopped'));
    });
  }
});
