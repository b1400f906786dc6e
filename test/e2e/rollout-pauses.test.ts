// Given a lab scenario where reality bites, the rollout pauses at the right step with the right reason, refuses
// actions that do not apply (saying why), and completes after the operator's fix.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { actOnStep, ActionRefused, amendRollout, abortRollout } from '../../client/rollouts.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { projectRoot } from '../../config/env.ts';
import { readLabState } from '../../lab/state.ts';
import { healLab, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';
import path from 'node:path';

const operator = { by: 'alice', via: 'test' };

describe('rollout pauses', () => {
  const suite = useLabSuite();
  const lab = (scenario: Parameters<typeof suite.lab>[0]['scenario']) => suite.lab({ scenario });

  test('lb-pending: pauses at lb-ipam with Cilium\'s diagnosis; refuses skip/override/unsafe amend; a fixed pool completes it', async () => {
    const l = await lab('lb-pending');
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const paused = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(paused.blocked?.cluster, 'cluster-europe');
    assert.equal(paused.blocked?.step, 'lb-ipam');
    assert.match(paused.blocked!.reason, /out of|ran out|out_of_ips|legacy-ingress/i);
    assert.match(paused.blocked!.hint, /pool|pending/i);
    // the other cluster is not held back by this pause
    const usa = paused.clusters.find((c) => c.name === 'cluster-usa')!;
    assert.notEqual(usa.state, 'paused');

    await assert.rejects(actOnStep(suite.env.client, workflowId, 'skip', { ...operator, reason: 'try it', step: 'lb-ipam' }), (e) => e instanceof ActionRefused && /cannot be skipped/.test(e.message));
    await assert.rejects(actOnStep(suite.env.client, workflowId, 'override', { ...operator, reason: 'try it', step: 'lb-ipam' }), (e) => e instanceof ActionRefused && /not a gate/.test(e.message));
    await assert.rejects(actOnStep(suite.env.client, workflowId, 'skip', { ...operator, reason: '', step: 'lb-ipam' }), (e) => e instanceof ActionRefused && /reason/.test(e.message));
    // changing a pod CIDR mid-run is not safe
    const unsafe = structuredClone(await planFromFile(path.join(projectRoot, 'examples/usa-europe-pool-fixed.yaml')));
    unsafe.clusters[1]!.talos.patches.all = unsafe.clusters[1]!.talos.patches.all.replace('10.2.0.0/16', '10.9.0.0/16');
    unsafe.revision = 'unsafe-revision';
    await assert.rejects(amendRollout(suite.env.client, workflowId, { ...operator, plan: unsafe }), (e) => e instanceof ActionRefused && /clusters\[cluster-europe\]\.talos\.patches/.test(e.message));

    const fixed = await planFromFile(path.join(projectRoot, 'examples/usa-europe-pool-fixed.yaml'));
    const r = await amendRollout(suite.env.client, workflowId, { ...operator, reason: 'bigger pool', plan: fixed });
    assert.match(r.message, /amended/);
    const done = await waitFor(suite.env.client, workflowId, isFinished);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const europe = done.clusters.find((c) => c.name === 'cluster-europe')!;
    assert.equal(europe.outputs.apiserverAddress, '192.168.20.225');
    assert.ok(done.actions.some((a) => a.action === 'amend' && a.by === 'alice'), 'the amendment is in the audit');
  });

  test('etcd-slow: the latency gate pauses naming the slow member; override with a reason completes', async () => {
    const l = await lab('etcd-slow');
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const paused = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(paused.blocked?.step, 'etcd-latency');
    assert.equal(paused.blocked?.overridable, true);
    assert.match(paused.blocked!.reason, /usa-cp-2/);
    assert.match(paused.blocked!.reason, /10 ms/);
    await assert.rejects(actOnStep(suite.env.client, workflowId, 'override', { ...operator, step: 'etcd-latency', reason: '' }), ActionRefused);
    const r = await actOnStep(suite.env.client, workflowId, 'override', { ...operator, step: 'etcd-latency', reason: 'known slow link, accepted by SRE' });
    assert.match(r.workflowId, /cluster-cluster-usa$/, 'routed to the cluster that owns the step');
    const done = await waitFor(suite.env.client, workflowId, isFinished);
    assert.equal(done.state, 'completed');
    const gate = done.clusters.find((c) => c.name === 'cluster-usa')!.steps.find((s) => s.name === 'etcd-latency')!;
    assert.equal(gate.state, 'overridden');
    assert.match(gate.note ?? '', /alice: known slow link/);
  });

  test('node-unreachable: pauses naming the node; resume after the fix completes', async () => {
    const l = await lab('node-unreachable');
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const paused = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(paused.blocked?.cluster, 'cluster-usa');
    assert.match(paused.blocked!.step, /boot|apply-config/);
    assert.match(paused.blocked!.reason, /usa-worker-1|192\.168\.10\.21/);
    await healLab(l.labDir, 'node-unreachable');
    await actOnStep(suite.env.client, workflowId, 'resume', operator);
    const done = await waitFor(suite.env.client, workflowId, isFinished);
    assert.equal(done.state, 'completed');
    assert.ok(done.actions.some((a) => a.action === 'resume' && a.by === 'alice'));
  });

  test('skip: a skippable step is skipped with a reason (audited); the run goes on and pauses where the cause bites next', async () => {
    const l = await lab('node-unreachable');
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const paused = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(paused.blocked?.step, 'boot');
    assert.equal(paused.blocked?.skippable, true);
    const r = await actOnStep(suite.env.client, workflowId, 'skip', { ...operator, step: 'boot', reason: 'nodes booted by hand from USB' });
    assert.match(r.message, /skipping boot/);
    const next = await waitFor(suite.env.client, workflowId, (v) => isPaused(v) && v.blocked?.step !== 'boot');
    const usa = next.clusters.find((c) => c.name === 'cluster-usa')!;
    assert.equal(usa.steps.find((s) => s.name === 'boot')!.state, 'skipped');
    assert.match(usa.steps.find((s) => s.name === 'boot')!.note ?? '', /alice: nodes booted by hand/);
    assert.equal(next.blocked?.step, 'apply-config', 'the unreachable node stops the run at the next step that needs it');
    assert.match(next.blocked!.reason, /usa-worker-1/);
    await abortRollout(suite.env.client, workflowId, { ...operator, reason: 'test over' });
    await waitFor(suite.env.client, workflowId, isFinished);
  });

  test('resume is refused when nothing is paused; abort stops the rollout and is kept in the audit', async () => {
    const l = await lab('etcd-slow');
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    await waitFor(suite.env.client, workflowId, isPaused);
    await assert.rejects(abortRollout(suite.env.client, workflowId, { ...operator, reason: '' }), (e) => e instanceof ActionRefused && /reason/.test(e.message));
    await abortRollout(suite.env.client, workflowId, { ...operator, reason: 'window closed' });
    const done = await waitFor(suite.env.client, workflowId, isFinished);
    assert.equal(done.state, 'aborted');
    assert.ok(done.actions.some((a) => a.action === 'abort' && a.reason === 'window closed'));
    await assert.rejects(actOnStep(suite.env.client, workflowId, 'resume', operator), ActionRefused);
    assert.equal(readLabState(l.labDir).clusters['cluster-usa']!.bootstrapCount, 1);
  });
});
