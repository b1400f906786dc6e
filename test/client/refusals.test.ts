// #12, case 10: an action on a finished rollout, or on a finished cluster of a running one, says what the state
// is ("rollout X is completed; nothing to abort"), never that the rollout does not exist and never an internal
// child workflow id.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { abortRollout, actOnStep, ActionRefused, amendRollout, RolloutNotFound } from '../../client/rollouts.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { projectRoot } from '../../config/env.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';

const operator = { by: 'alice', via: 'test' };
const refusedWith = (pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ActionRefused, `expected a refusal, got ${String(e)}`);
  assert.match(e.message, pattern);
  assert.doesNotMatch(e.message, /-cluster-cluster-|no rollout with id/);
  return true;
};

describe('refusals say what the state is', () => {
  const suite = useLabSuite();

  test('a finished cluster of a paused rollout, then the aborted rollout', async () => {
    const l = await suite.lab({ scenario: 'lb-pending' });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    await waitFor(suite.env.client, workflowId, (v) => isPaused(v) && v.clusters.find((c) => c.name === 'cluster-usa')?.state === 'completed', 240_000);
    await assert.rejects(
      actOnStep(suite.env.client, workflowId, 'override', { ...operator, cluster: 'cluster-usa', step: 'etcd-latency', reason: 'too late for this' }),
      refusedWith(new RegExp(`^cluster cluster-usa of rollout ${workflowId} is completed; nothing to override$`)),
    );
    await abortRollout(suite.env.client, workflowId, { ...operator, reason: 'window closed' });
    assert.equal((await waitFor(suite.env.client, workflowId, isFinished)).state, 'aborted');
    await assert.rejects(abortRollout(suite.env.client, workflowId, { ...operator, reason: 'again' }), refusedWith(new RegExp(`^rollout ${workflowId} is aborted; nothing to abort$`)));
    const fixed = await planFromFile(path.join(projectRoot, 'examples/usa-europe-pool-fixed.yaml'));
    await assert.rejects(amendRollout(suite.env.client, workflowId, { ...operator, plan: fixed }), refusedWith(new RegExp(`^rollout ${workflowId} is aborted; nothing to amend \\(amend applies to a running rollout`)));
    await assert.rejects(actOnStep(suite.env.client, workflowId, 'resume', operator), refusedWith(new RegExp(`^rollout ${workflowId} is aborted; nothing to resume`)));
  });

  test('a completed rollout', async () => {
    const l = await suite.lab({ scenario: 'happy' });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    assert.equal((await waitFor(suite.env.client, workflowId, isFinished, 240_000)).state, 'completed');
    await assert.rejects(abortRollout(suite.env.client, workflowId, { ...operator, reason: 'oops' }), refusedWith(new RegExp(`^rollout ${workflowId} is completed; nothing to abort$`)));
    await assert.rejects(amendRollout(suite.env.client, workflowId, { ...operator, plan: l.plan }), refusedWith(new RegExp(`^rollout ${workflowId} is completed; nothing to amend`)));
  });

  test('an id that was never a rollout is still "no rollout"', async () => {
    await assert.rejects(abortRollout(suite.env.client, 'rollout-nope-123', { ...operator, reason: 'nothing' }), RolloutNotFound);
  });
});
