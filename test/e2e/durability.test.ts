// Durability: a worker killed mid-rollout (SIGKILL) and replaced; an abort that kills the tool process that is
// running; a pause long enough to continue-as-new several times with bounded history.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { abortRollout, actOnStep } from '../../client/rollouts.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { readLabState } from '../../lab/state.ts';
import { healLab, labWorkerProcess, SEED_BLUEPRINT, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';

/** Processes whose environment points at this lab: the simulated tools a worker started. */
function labToolPids(labDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (environ.includes(`MESHPILOT_LAB_DIR=${labDir}\0`) && cmd.includes('entry.mjs')) pids.push(Number(entry));
    } catch {
      // gone already, or not ours
    }
  }
  return pids;
}

describe('durability', () => {
  const suite = useLabSuite();

  test('a worker process killed with SIGKILL mid-rollout is replaced and the rollout completes without redoing steps', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-kill-'));
    const plan = await planFromFile(SEED_BLUEPRINT);
    const labDir = path.join(dataDir, 'lab');
    createLab(labDir, fleetFromPlan(plan), { scenario: 'happy' });
    const { taskQueue, spawn: spawnWorker } = labWorkerProcess(suite.env.address, dataDir, 'kill');
    let worker = spawnWorker();
    const { workflowId } = await start(suite.env.client, plan, taskQueue);
    // let it get past bootstrap in at least one cluster, then pull the plug
    await waitFor(suite.env.client, workflowId, (v) => v.clusters.some((c) => c.steps.find((s) => s.name === 'bootstrap')?.state === 'done'));
    worker.kill('SIGKILL');
    await worker;
    worker = spawnWorker();
    try {
      const done = await waitFor(suite.env.client, workflowId, isFinished, 240_000);
      assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    } finally {
      worker.kill('SIGTERM');
      await worker;
    }
    const state = readLabState(labDir);
    assert.equal(state.clusters['cluster-usa']!.bootstrapCount, 1);
    assert.equal(state.clusters['cluster-europe']!.bootstrapCount, 1);
    assert.equal(callsMatching(readCalls(labDir), 'talosctl', ['gen', 'secrets']).length, 2, 'secrets generated once per cluster, even across the crash');
  });

  test('abort cancels the running activity and kills the tool process it started', async () => {
    const l = await suite.lab({ scenario: 'happy', toolLatencyMs: 20_000 });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    let pids: number[] = [];
    const deadline = Date.now() + 30_000;
    while ((pids = labToolPids(l.labDir)).length === 0) {
      assert.ok(Date.now() < deadline, 'a lab tool process should be running');
      await new Promise((r) => setTimeout(r, 100));
    }
    await abortRollout(suite.env.client, workflowId, { by: 'alice', via: 'test', reason: 'stop now' });
    const done = await waitFor(suite.env.client, workflowId, isFinished, 60_000);
    assert.equal(done.state, 'aborted');
    const gone = Date.now() + 10_000;
    while (pids.some((p) => labToolPids(l.labDir).includes(p)) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(pids.filter((p) => labToolPids(l.labDir).includes(p)), [], 'the tool processes are killed');
    assert.ok(done.clusters.every((c) => c.steps.some((s) => s.state === 'aborted')), 'the running step is marked aborted');
  });

  test('a long pause continues as new with bounded history and keeps its state; resume still works', async () => {
    const l = await suite.lab({ scenario: 'node-unreachable', pollBudgetMs: 200 });
    const limits = { recheckBaseMs: 100, recheckMaxMs: 200, maxHistoryEvents: 120 };
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue, limits);
    const first = await waitFor(suite.env.client, workflowId, isPaused);
    const childId = first.blocked!.workflowId;
    const since = first.blocked!.since;
    const runs = async () => {
      const out: string[] = [];
      for await (const wf of suite.env.client.workflow.list({ query: `WorkflowId = '${childId}'` })) out.push(wf.runId);
      return out;
    };
    const deadline = Date.now() + 120_000;
    while ((await runs()).length < 3) {
      assert.ok(Date.now() < deadline, 'the paused child should continue as new at least twice');
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const runId of await runs()) {
      const history = await suite.env.client.workflow.getHandle(childId, runId).fetchHistory();
      assert.ok((history.events?.length ?? 0) <= limits.maxHistoryEvents + 60, `run ${runId} has ${history.events?.length} events`);
    }
    const still = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(still.blocked!.since, since, 'the pause keeps its start time across runs');
    const boot = still.clusters.find((c) => c.name === 'cluster-usa')!.steps.find((s) => s.name === 'boot')!;
    assert.ok(boot.blocked!.rechecks >= 2, `re-checked automatically (${boot.blocked!.rechecks} re-checks, ${boot.attempts} attempts)`);
    // the continued run still takes operator actions (its validators see the carried state)
    const r = await actOnStep(suite.env.client, workflowId, 'resume', { by: 'alice', via: 'test' });
    assert.match(r.message, /re-checking boot/);
    await healLab(l.labDir, 'node-unreachable');
    const done = await waitFor(suite.env.client, workflowId, isFinished, 180_000);
    assert.equal(done.state, 'completed');
    assert.ok(done.actions.some((a) => a.action === 'resume' && a.by === 'alice'), 'the resume is in the audit of the continued run');
  });
});
