// Upgrade fault (issue #16): the mesh disconnects once the canary's Cilium changed: the upgrade pauses at mesh-verify
// after that cluster, the next cluster does not start, and abort stops it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { abortRollout } from '../../client/rollouts.ts';
import { readCalls } from '../../lab/call-log.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, waitFor } from '../helpers/rollout.ts';
import { OLD, operator, rolledOut, seedAt, startAndWait, target } from '../helpers/upgrade.ts';

describe('meshpilot upgrade: the mesh after each cluster', () => {
  const suite = useLabSuite();

  test('upgrade-mesh-disconnect: pauses at mesh-verify after the canary; the next cluster has not started; abort stops it', async () => {
    const lab = await rolledOut(suite, 'upgrade-mesh-disconnect');
    const plan = await target(lab, seedAt({ ...OLD, cilium: '1.17.6' }));
    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const paused = await waitFor(suite.env.client, id, isPaused, 240_000);
    assert.equal(paused.blocked?.step, 'mesh-verify');
    assert.equal(paused.blocked?.target, 'cluster-usa');
    assert.equal(paused.blocked?.cluster, undefined, 'a mesh step');
    assert.match(paused.blocked!.reason, /cluster-usa|cluster-europe/);
    assert.ok(paused.blocked!.hint.length > 0);
    const calls = readCalls(lab.labDir);
    const helm = calls.filter((c) => c.tool === 'helm' && c.argv.includes('upgrade') && c.argv.includes('1.17.6'));
    assert.equal(helm.length, 1, 'only the canary was upgraded');
    await abortRollout(suite.env.client, id, { ...operator, reason: 'mesh down, rolling back by hand' });
    const done = await waitFor(suite.env.client, id, isFinished, 120_000);
    assert.equal(done.state, 'aborted');
    assert.equal(readCalls(lab.labDir).filter((c) => c.tool === 'helm' && c.argv.includes('upgrade') && c.argv.includes('1.17.6')).length, 1);
  });
});
