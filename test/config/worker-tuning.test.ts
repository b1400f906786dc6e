// Worker sizing comes from MESHPILOT_WORKER_*: validated like every setting, and only what is set overrides the SDK.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadEnv, workerTuning } from '../../config/env.ts';

test('unset: 64 activity slots, everything else left to the SDK', () => {
  assert.deepEqual(workerTuning(loadEnv({})), { maxConcurrentActivityTaskExecutions: 64 });
});

test('set: each variable reaches its worker option', () => {
  const tuning = workerTuning(
    loadEnv({
      MESHPILOT_WORKER_ACTIVITY_SLOTS: '400',
      MESHPILOT_WORKER_WORKFLOW_TASK_SLOTS: '80',
      MESHPILOT_WORKER_MAX_CACHED_WORKFLOWS: '1000',
      MESHPILOT_WORKER_WORKFLOW_POLLERS: '16',
      MESHPILOT_WORKER_ACTIVITY_POLLERS: '8',
    }),
  );
  assert.deepEqual(tuning, {
    maxConcurrentActivityTaskExecutions: 400,
    maxConcurrentWorkflowTaskExecutions: 80,
    maxCachedWorkflows: 1000,
    maxConcurrentWorkflowTaskPolls: 16,
    maxConcurrentActivityTaskPolls: 8,
  });
});

test('a malformed value is refused naming the variable', () => {
  assert.throws(
    () => loadEnv({ MESHPILOT_WORKER_ACTIVITY_SLOTS: 'lots', MESHPILOT_WORKER_WORKFLOW_POLLERS: '1' }),
    (err: Error) => err instanceof ConfigError && /MESHPILOT_WORKER_ACTIVITY_SLOTS/.test(err.message) && /MESHPILOT_WORKER_WORKFLOW_POLLERS/.test(err.message),
  );
});
