// The worker's log as meshpilot means it: the SDK logs every failed activity attempt as a warning, but a blocked
// attempt is an expected pause — one info line (human in dev and the demo, JSON in `worker`), while transient and
// fatal failures stay warnings. Checked on the SDK's real entries, from a real worker on a real server.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { blocked, fatal } from '../../contracts/failures.ts';
import { BLOCKED_MSG, classified, classifyLogEntry, humanLogLine } from '../../workers/log-classify.ts';
import { jsonLines, type LogEntry } from '../../workers/log.ts';
import { installRuntime } from '../../workers/runtime.ts';
import { failingActivities } from '../fixtures/logs/failing-activities.ts';
import { failingWorkflow } from '../fixtures/logs/failing-workflow.ts';
import { startTemporal } from '../helpers/temporal.ts';

const entry = (meta: Record<string, unknown>): LogEntry => ({ time: '2026-01-01T00:00:00.000Z', level: 'warn', msg: 'Activity failed', activityType: 'ensureLbIpam', workflowId: 'rollout-x-cluster-europe', ...meta });

describe('classifying the worker log', () => {
  test('blocked: info, the reason and hint as fields, the raw error dropped; fatal stays a warning', () => {
    const b = classifyLogEntry(entry({ error: blocked({ reason: 'pool used up', hint: 'amend the pool', evidence: { free: 0 } }) }));
    assert.equal(b.level, 'info');
    assert.equal(b.msg, BLOCKED_MSG);
    assert.deepEqual([b.failure, b.reason, b.hint, b.evidence], ['blocked', 'pool used up', 'amend the pool', { free: 0 }]);
    assert.equal(b.error, undefined);
    assert.equal(b.activityType, 'ensureLbIpam', 'the SDK context stays');
    const f = classifyLogEntry(entry({ error: fatal('no control plane', 'add one') }));
    assert.equal(f.level, 'warn');
    assert.equal(f.failure, 'fatal');
    const other = entry({ error: new Error('boom') });
    assert.equal(classifyLogEntry(other), other, 'anything not ours is left alone');
  });

  test('the level is applied after classifying: a demoted pause is dropped where only warnings are wanted', () => {
    const seen: LogEntry[] = [];
    const e = entry({ error: blocked({ reason: 'r', hint: 'h' }) });
    classified((x) => seen.push(x), 'warn')(e);
    assert.equal(seen.length, 0);
    classified((x) => seen.push(x), 'info')(e);
    assert.equal(seen.length, 1);
  });

  test('human lines are never JSON; a pause is one line with what is blocked, why and the hint', () => {
    const pause = humanLogLine(classifyLogEntry(entry({ error: blocked({ reason: 'pool used up', hint: 'amend the pool' }) })));
    assert.equal(pause, '⏸ paused (ensureLbIpam in rollout-x-cluster-europe): pool used up — hint: amend the pool');
    const warn = humanLogLine(classifyLogEntry(entry({ error: fatal('bad\nthing'), attempt: 2 })));
    assert.match(warn, /^warn: Activity failed: bad thing \[fatal\] \(activityType=ensureLbIpam workflowId=rollout-x-cluster-europe attempt=2\)$/);
    for (const line of [pause, warn]) assert.throws(() => JSON.parse(line) as unknown);
  });
});

describe("the SDK's own entries from a real worker", () => {
  let env: TestWorkflowEnvironment;
  const entries: LogEntry[] = [];

  before(async () => {
    // the process-wide runtime, as `meshpilot dev` installs it (before the first connection)
    installRuntime({ logLevel: 'info', sink: (e) => entries.push(e) });
    env = await startTemporal();
  });
  after(async () => {
    await env?.teardown();
  });

  test('a blocked attempt is one info entry; a transient one stays a warning; `worker` writes both as JSON', async () => {
    const taskQueue = `logs-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('../fixtures/logs/failing-workflow.ts', import.meta.url)), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } }),
      activities: failingActivities,
    });
    const outcomes = await worker.runUntil(env.client.workflow.execute(failingWorkflow, { taskQueue, workflowId: `logs-${randomUUID()}` }));
    assert.deepEqual(outcomes, ['failed', 'failed']);

    const failures = entries.filter((e) => e.activityType === 'lbStaysPending' || e.activityType === 'toolTimesOut').filter((e) => e.failure);
    const pause = failures.find((e) => e.activityType === 'lbStaysPending');
    const flake = failures.find((e) => e.activityType === 'toolTimesOut');
    assert.ok(pause && flake, `both attempts were logged: ${JSON.stringify(entries.map((e) => [e.level, e.msg, e.activityType]))}`);
    assert.deepEqual([pause.level, pause.msg, pause.failure, pause.reason], ['info', BLOCKED_MSG, 'blocked', 'LoadBalancer kube-system/clustermesh-apiserver is <pending>']);
    assert.equal(entries.filter((e) => e.activityType === 'lbStaysPending' && e.level === 'warn').length, 0, 'no warning for the pause');
    assert.deepEqual([flake.level, flake.msg, flake.failure], ['warn', 'Activity failed', 'transient']);
    assert.match(humanLogLine(pause), /^⏸ paused \(lbStaysPending in logs-.*\): LoadBalancer kube-system\/clustermesh-apiserver is <pending> — hint: give the pool free addresses$/);

    let text = '';
    const json = jsonLines((t) => void (text += t));
    json(pause);
    json(flake);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as LogEntry);
    assert.deepEqual(lines.map((l) => [l.level, l.failure]), [['info', 'blocked'], ['warn', 'transient']]);
    assert.deepEqual(lines[0]!.evidence, { pool: 'europe-pool' });
  });
});
