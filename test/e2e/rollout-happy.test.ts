// Given the seed's blueprint and a healthy lab, the rollout completes; every step is idempotent, and nothing
// secret reaches Temporal's history.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { readLabState } from '../../lab/state.ts';
import { secretRefs } from '../../activities/deps.ts';
import { historyText } from '../helpers/history.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

describe('rollout on a healthy lab', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  before(async () => {
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy' });
  });
  after(async () => {
    await lab?.stop();
    await env?.teardown();
  });

  test('both clusters run in parallel to a verified mesh', async () => {
    const started = await start(env.client, lab.plan, lab.taskQueue);
    assert.equal(started.started, true);
    const view = await waitFor(env.client, started.workflowId, isFinished, 240_000);
    assert.equal(view.state, 'completed', JSON.stringify(view.clusters.map((c) => [c.name, c.state, c.error])));
    for (const c of view.clusters) {
      assert.equal(c.state, 'completed');
      assert.ok(c.steps.every((s) => s.state === 'done'), `${c.name}: ${c.steps.map((s) => `${s.name}=${s.state}`).join(' ')}`);
      assert.match(c.outputs.apiserverAddress ?? '', /^192\.168\.(10|20)\.24[01]$/);
    }
    assert.ok(view.meshSteps.every((s) => s.state === 'done'));
    // parallel: each cluster's steps overlap in time with the other's
    const [a, b] = view.clusters;
    const span = (c: typeof a) => [Date.parse(c!.steps[0]!.startedAt!), Date.parse(c!.steps.at(-1)!.endedAt!)];
    const [as, ae] = span(a);
    const [bs, be] = span(b);
    assert.ok(as! < be! && bs! < ae!, 'cluster rollouts overlap in time');

    const calls = readCalls(lab.labDir);
    const state = readLabState(lab.labDir);
    for (const name of ['cluster-usa', 'cluster-europe']) {
      assert.equal(state.clusters[name]!.bootstrapCount, 1, `${name} bootstrapped exactly once`);
    }
    assert.equal(callsMatching(calls, 'talosctl', ['gen', 'secrets']).length, 2, 'secrets generated once per cluster');
    // The seed's workers install to /dev/sda in clusters whose role configs name /dev/nvme0n1: a per-node patch.
    const patched = callsMatching(calls, 'talosctl', ['apply-config', '--config-patch']).map((c) => c.argv[c.argv.indexOf('-n') + 1]);
    assert.deepEqual(patched.sort(), ['192.168.10.21', '192.168.20.21']);
    for (const n of Object.values(state.nodes)) assert.equal(n.stage, 'running', `${n.name} installed on its own disk`);
    const installs = calls.filter((c) => c.tool === 'helm' && c.argv.includes('upgrade') && c.argv.includes('--install'));
    assert.ok(installs.length <= 6, `at most install + enable + connect per cluster, got ${installs.length}`);
  });

  test('starting the same change again attaches or converges without redoing anything', async () => {
    const before = readCalls(lab.labDir).length;
    const again = await start(env.client, lab.plan, lab.taskQueue);
    const view = await waitFor(env.client, again.workflowId, isFinished, 240_000);
    assert.equal(view.state, 'completed');
    const calls = readCalls(lab.labDir).slice(before);
    assert.equal(callsMatching(calls, 'talosctl', ['bootstrap']).length, 0, 'no second bootstrap');
    assert.equal(callsMatching(calls, 'talosctl', ['gen', 'secrets']).length, 0, 'secrets are never generated twice');
    assert.equal(callsMatching(calls, 'talosctl', ['apply-config']).length, 0, 'installed nodes are not re-applied');
    assert.equal(readLabState(lab.labDir).clusters['cluster-usa']!.bootstrapCount, 1);
  });

  test('no secret material in any workflow history', async () => {
    const secrets: string[] = [];
    for (const c of lab.plan.clusters) {
      for (const ref of [secretRefs.talosSecrets(lab.plan.mesh, c.name), secretRefs.talosconfig(lab.plan.mesh, c.name), secretRefs.kubeconfig(lab.plan.mesh, c.name)]) {
        const value = (await lab.deps.secrets.get(ref)).toString();
        // every long token of the secret (keys, certs, tokens) must be absent from history
        secrets.push(...(value.match(/[A-Za-z0-9+/=_-]{24,}/g) ?? []));
      }
    }
    secrets.push(...((await lab.deps.secrets.get(secretRefs.meshCa(lab.plan.mesh))).toString().match(/[A-Za-z0-9+/=_-]{24,}/g) ?? []));
    assert.ok(secrets.length > 10, 'the store holds real secret material to look for');
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `MeshpilotMesh = '${lab.plan.mesh}'` })) ids.push(wf.workflowId);
    assert.ok(ids.length >= 3, `parent and both children are visible (${ids.join(', ')})`);
    for (const id of new Set(ids)) {
      const decoded = historyText(await env.client.workflow.getHandle(id).fetchHistory());
      assert.match(decoded, /cluster-usa|cluster-europe/, 'payloads were decoded');
      for (const s of secrets) assert.ok(!decoded.includes(s), `secret token found in history of ${id}`);
      assert.ok(!/BEGIN [A-Z ]*PRIVATE KEY/.test(decoded));
    }
  });
});
