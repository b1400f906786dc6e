// Upgrade faults (issue #16): a node that does not come back, and an etcd member unhealthy after its upgrade, pause
// at that node's step with a reason and a hint; resume and override behave as in a rollout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { actOnStep } from '../../client/rollouts.ts';
import { readCalls } from '../../lab/call-log.ts';
import { withLabState } from '../../lab/state.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, waitFor } from '../helpers/rollout.ts';
import { NEW, OLD, operator, rolledOut, seedAt, startAndWait, target, upgradedNode, upgrades } from '../helpers/upgrade.ts';

describe('meshpilot upgrade pauses', () => {
  const suite = useLabSuite();

  test('upgrade-node-stuck: pauses at talos-upgrade of that node with etcd at quorum; resume after it is back completes, never upgrading a node twice', async () => {
    const lab = await rolledOut(suite, 'upgrade-node-stuck');
    const plan = await target(lab, seedAt(NEW));
    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const paused = await waitFor(suite.env.client, id, isPaused, 240_000);
    assert.equal(paused.blocked?.cluster, 'cluster-usa');
    assert.equal(paused.blocked?.step, 'talos-upgrade');
    assert.equal(paused.blocked?.target, 'usa-cp-2');
    assert.match(paused.blocked!.reason, /usa-cp-2 .*did not come back/);
    assert.match(paused.blocked!.hint, /console|BMC/);
    // the node comes back (an operator power-cycled it): resume
    await withLabState(lab.labDir, (s) => (s.faults.upgradeNeverReturns = []));
    const r = await actOnStep(suite.env.client, id, 'resume', operator);
    assert.match(r.workflowId, /cluster-cluster-usa$/, 'routed to the cluster that owns the paused step');
    const done = await waitFor(suite.env.client, id, isFinished, 300_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const perNode = new Map<string, number>();
    for (const c of upgrades(readCalls(lab.labDir))) perNode.set(upgradedNode(c), (perNode.get(upgradedNode(c)) ?? 0) + 1);
    assert.ok([...perNode.values()].every((n) => n === 1), JSON.stringify([...perNode]));
    const usa = done.clusters.find((c) => c.name === 'cluster-usa')!;
    assert.ok(usa.steps.every((s) => s.state === 'done'));
    assert.ok(done.actions.some((a) => a.action === 'resume' && a.by === 'alice') || usa.steps.length > 0);
  });

  test('upgrade-etcd-unhealthy: pauses at etcd-gate-after of that node (overridable); override with a reason goes on', async () => {
    const lab = await rolledOut(suite, 'upgrade-etcd-unhealthy');
    const plan = await target(lab, seedAt({ ...OLD, talos: 'v1.9.5' }));
    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const paused = await waitFor(suite.env.client, id, isPaused, 240_000);
    assert.equal(paused.blocked?.cluster, 'cluster-usa');
    assert.equal(paused.blocked?.step, 'etcd-gate-after');
    assert.equal(paused.blocked?.target, 'usa-cp-1');
    assert.equal(paused.blocked?.overridable, true);
    assert.match(paused.blocked!.reason, /usa-cp-1.*not healthy/);
    assert.match(paused.blocked!.hint, /talosctl -n 192\.168\.10\.11 logs etcd/);
    // skip is refused (a gate is overridden, not skipped); an override needs a reason
    await assert.rejects(actOnStep(suite.env.client, id, 'skip', { ...operator, step: 'etcd-gate-after', reason: 'x' }));
    // heal it (the member's data was fine after all) and override: the next gate passes
    await withLabState(lab.labDir, (s) => (s.faults.etcdUnhealthyAfterUpgrade = []));
    await actOnStep(suite.env.client, id, 'override', { ...operator, step: 'etcd-gate-after', reason: 'member rejoined, checked by hand' });
    const done = await waitFor(suite.env.client, id, isFinished, 300_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const gate = done.clusters.find((c) => c.name === 'cluster-usa')!.steps.find((s) => s.name === 'etcd-gate-after' && s.target === 'usa-cp-1')!;
    assert.equal(gate.state, 'overridden');
  });
});
