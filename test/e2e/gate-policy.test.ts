// #12, case 1 end to end: the etcd gate cannot be switched off by a blueprint number. On the lab's etcd-slow
// scenario (one member +25 ms), a budget raised with a written waiver still pauses when the measured p99 is over
// it, cannot be raised further by `amend`, and when the gate passes only thanks to the waiver the run records
// that in its audit and on the step, instead of completing silently.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { actOnStep, ActionRefused, amendRollout } from '../../client/rollouts.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { withLabState } from '../../lab/state.ts';
import { SEED_BLUEPRINT, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';

const operator = { by: 'alice', via: 'test' };
const WAIVER = 'two halls on one campus, dark fibre measured at 20 ms p99 by SRE';

/** The seed blueprint with cluster-usa's etcd budget (and, when given, its waiver) changed. */
function seedWith(budgetMs: number, waiver?: string): string {
  const doc = parseDocument(readFileSync(SEED_BLUEPRINT, 'utf8'));
  doc.setIn(['clusters', 0, 'etcd'], { latencyBudgetMs: budgetMs });
  if (waiver) doc.setIn(['clusters', 0, 'waivers'], { etcdLatencyBudget: waiver });
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-gate-')), 'usa-europe.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

describe('the etcd gate as policy', () => {
  const suite = useLabSuite();

  test('a raised budget without a waiver never reaches a rollout; 150 ms is refused even with one', async () => {
    await assert.rejects(planFromFile(seedWith(40)), /latencyBudgetMs: 40 ms is above the Golden Rule's 10 ms/);
    await assert.rejects(planFromFile(seedWith(150, WAIVER)), /latencyBudgetMs: at most 50 ms, waiver or not/);
  });

  test('etcd-slow with a waived 40 ms budget pauses over it; amend cannot raise it; passing under the waiver is audited', async () => {
    const l = await suite.lab({ scenario: 'etcd-slow', blueprint: seedWith(40, WAIVER) });
    assert.match(l.plan.warnings.join('\n'), /WAIVED: cluster-usa's etcd gate accepts peer round trips up to 40 ms/);
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);

    const paused = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(paused.blocked?.step, 'etcd-latency');
    assert.match(paused.blocked!.reason, /exceeds the 40 ms budget/);
    assert.ok(!paused.actions.some((a) => a.action === 'waiver'), 'nothing was waived: the gate did not pass');

    // The old way around the gate: amend the budget up. Refused, pointing at override.
    const raised = await planFromFile(seedWith(50, WAIVER));
    raised.revision = `${l.plan.revision}-raised`;
    await assert.rejects(
      amendRollout(suite.env.client, workflowId, { ...operator, reason: 'raise it', plan: raised }),
      (e) => e instanceof ActionRefused && /raises a gate .*latencyBudgetMs 40 → 50 ms.*meshpilot override/.test(e.message),
    );

    // The link improves to ~12 ms p99: over the Golden Rule, within the waived budget.
    await withLabState(l.labDir, (s) => {
      (s.faults.slowEtcdMember as { extraRttMs: number }).extraRttMs = 10;
    });
    await actOnStep(suite.env.client, workflowId, 'resume', operator);
    const done = await waitFor(suite.env.client, workflowId, isFinished, 240_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const usa = done.clusters.find((c) => c.name === 'cluster-usa')!;
    const gate = usa.steps.find((s) => s.name === 'etcd-latency')!;
    assert.equal(gate.state, 'done');
    assert.match(gate.note ?? '', /^WAIVED: peer p99 [\d.]+ ms is above the Golden Rule's 10 ms, within the blueprint's 40 ms budget: two halls/);
    const waived = done.actions.filter((a) => a.action === 'waiver');
    assert.equal(waived.length, 1);
    assert.deepEqual({ cluster: waived[0]!.cluster, step: waived[0]!.step, via: waived[0]!.via }, { cluster: 'cluster-usa', step: 'etcd-latency', via: 'blueprint' });
    assert.match(waived[0]!.by, /^blueprint revision /);
    // The other cluster kept the Golden Rule and waived nothing.
    assert.equal(done.clusters.find((c) => c.name === 'cluster-europe')!.steps.find((s) => s.name === 'etcd-latency')!.note, undefined);
  });
});
