// Given the seed's mesh rolled out on a healthy lab: a verify run (by hand or from its Schedule) reports every
// check ok; drift injected the way reality makes it turns exactly the right checks red, notifies once, stays
// quiet while nothing changes, and notifies again when it recovers.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  describeVerifySchedule,
  deleteVerifySchedule,
  listVerifySchedules,
  pauseVerifySchedule,
  triggerVerifySchedule,
  unpauseVerifySchedule,
  upsertVerifySchedule,
  VerifyScheduleNotFound,
  verifyNow,
  verifyResult,
} from '../../client/verify.ts';
import {
  breakHubbleRelay,
  healHubbleRelay,
  disableWireguardOnNode,
  disconnectPeer,
  editPolicy,
  enableWireguardOnNode,
  exhaustPool,
  reconnectPeer,
  releasePool,
  restorePolicy,
} from '../../lab/drift.ts';
import { webhookPayloadSchema, type WebhookPayload } from '../../notify/webhook.ts';
import type { VerifyNotifyConfig } from '../../contracts/verify/input.ts';
import { verdictKey, type VerifyReport } from '../../contracts/verify/report.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

const tester = { by: 'tester', via: 'test' };
const notRed = (r: VerifyReport) => r.verdicts.filter((v) => v.status !== 'ok').map(verdictKey).sort();
const explain = (r: VerifyReport) => JSON.stringify(r.verdicts.filter((v) => v.status !== 'ok').map((v) => [verdictKey(v), v.status, v.summary]), null, 1);

describe('verify a rolled-out mesh', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let hook: Server;
  const posts: WebhookPayload[] = [];
  let notify: VerifyNotifyConfig;

  const verify = () => verifyNow(env.client, lab.plan, tester, { notify, taskQueue: lab.taskQueue, source: 'examples/usa-europe.yaml' });

  before(async () => {
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy' });
    hook = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      posts.push(webhookPayloadSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    await lab.deps.secrets.put('notify/drift-webhook', `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/T0/SECRETPATH`);
    notify = { webhook: { urlRef: 'notify/drift-webhook' } };
    const started = await start(env.client, lab.plan, lab.taskQueue);
    const view = await waitFor(env.client, started.workflowId, isFinished, 180_000);
    assert.equal(view.state, 'completed', 'the happy rollout completes before anything is verified');
  });
  after(async () => {
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
    await lab?.stop();
    await env?.teardown();
  });

  test('the mesh schedule: create, update in place, pause, unpause, trigger a healthy run, delete', async () => {
    const opts = { plan: lab.plan, by: tester, notify, taskQueue: lab.taskQueue, source: 'examples/usa-europe.yaml' };
    const created = await upsertVerifySchedule(env.client, { ...opts, cadence: { every: '6h' } });
    assert.deepEqual(created, { scheduleId: 'verify-usa-europe', created: true, cadence: 'every 6h' });
    let view = await describeVerifySchedule(env.client, 'usa-europe');
    assert.equal(view.cadence, 'every 6h');
    assert.match(view.overlap, /SKIP/);
    assert.equal(view.catchupWindowMs, 3_600_000);

    const updated = await upsertVerifySchedule(env.client, { ...opts, cadence: { cron: '15 */4 * * *' } });
    assert.equal(updated.created, false, 're-creating updates the one schedule of the mesh');
    view = await describeVerifySchedule(env.client, 'usa-europe');
    assert.equal(view.cadence, 'cron 15 */4 * * *');
    assert.equal(new Date(view.nextRunAt!).getUTCMinutes(), 15, 'the spec itself was replaced, not only the summary');
    assert.deepEqual((await listVerifySchedules(env.client)).map((s) => s.mesh), ['usa-europe']);

    await pauseVerifySchedule(env.client, 'usa-europe', { ...tester, reason: 'maintenance' });
    view = await describeVerifySchedule(env.client, 'usa-europe');
    assert.equal(view.paused, true);
    assert.match(view.note ?? '', /paused by tester: maintenance/);
    await unpauseVerifySchedule(env.client, 'usa-europe', tester);
    assert.equal((await describeVerifySchedule(env.client, 'usa-europe')).paused, false);

    const { workflowId } = await triggerVerifySchedule(env.client, 'usa-europe');
    assert.match(workflowId, /^verify-usa-europe-scheduled-/);
    const report = await verifyResult(env.client, workflowId);
    assert.equal(report.overall, 'ok', explain(report));
    assert.equal(report.verdicts.length, 2 * 9 + 3, 'nine checks per cluster and three mesh-wide');
    assert.equal(report.drift.notified, 'none', 'a healthy first run is not news');
    assert.equal(posts.length, 0);
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    assert.ok((history.events?.length ?? 0) < 150, `history stays small (${history.events?.length} events)`);

    await deleteVerifySchedule(env.client, 'usa-europe');
    await assert.rejects(describeVerifySchedule(env.client, 'usa-europe'), VerifyScheduleNotFound);
  });

  const scenarios: Array<{ name: string; inject: () => Promise<unknown>; heal: () => Promise<unknown>; red: string[]; again?: boolean }> = [
    {
      name: 'a peer disconnected (usa dropped europe from its clustermesh config)',
      inject: () => disconnectPeer(lab.labDir, 'cluster-usa', 'cluster-europe'),
      heal: () => reconnectPeer(lab.labDir, 'cluster-usa', 'cluster-europe'),
      red: ['clustermesh-status@cluster-europe', 'clustermesh-status@cluster-usa', 'global-canary@cluster-europe', 'global-canary@cluster-usa'],
      again: true,
    },
    {
      name: "europe's LB pool exhausted by tenant LoadBalancers",
      inject: () => exhaustPool(lab.labDir, 'cluster-europe'),
      heal: () => releasePool(lab.labDir, 'cluster-europe'),
      red: ['lb-pool@cluster-europe'],
    },
    {
      name: 'WireGuard off on one europe node',
      inject: () => disableWireguardOnNode(lab.labDir, 'eu-worker-1'),
      heal: () => enableWireguardOnNode(lab.labDir, 'eu-worker-1'),
      red: ['wireguard@cluster-europe'],
    },
    {
      name: "usa's Hubble relay not ready while a strict cross-cluster policy is enforced",
      inject: () => breakHubbleRelay(lab.labDir, 'cluster-usa'),
      heal: () => healHubbleRelay(lab.labDir, 'cluster-usa'),
      red: ['hubble-relay@cluster-usa'],
    },
    {
      name: 'the cross-cluster policy edited in europe only',
      inject: () => editPolicy(lab.labDir, 'cluster-europe', { namespace: 'default', name: 'cross-cluster-db-access' }),
      heal: () => restorePolicy(lab.labDir, 'cluster-europe', { namespace: 'default', name: 'cross-cluster-db-access' }),
      red: ['policy-consistency'],
    },
  ];

  for (const s of scenarios) {
    test(`drift: ${s.name} — exactly ${s.red.join(', ')} red, notified once, and again on recovery`, async () => {
      const before = posts.length;
      await s.inject();
      try {
        const drifted = await verify();
        assert.deepEqual(notRed(drifted), s.red, explain(drifted));
        assert.ok(drifted.verdicts.filter((v) => v.status !== 'ok').every((v) => v.status === 'fail' && v.hint.length > 0));
        assert.equal(drifted.drift.notified, 'change');
        assert.equal(posts.length, before + 1, 'one notification for the change');
        const msg = posts.at(-1)!.message;
        assert.match(msg.title, /usa-europe: \d+ failing/);
        for (const key of s.red) assert.ok(msg.fields.some((f) => f.label.includes(key)), `the message names ${key}`);
        if (s.again) {
          // The notification mechanism does not depend on the check: one scenario proves "same drift, no news".
          const again = await verify();
          assert.deepEqual(notRed(again), s.red);
          assert.equal(again.drift.notified, 'none', 'the same drift is not news');
          assert.equal(again.drift.changes.length, 0);
          assert.equal(posts.length, before + 1);
          // A failing check offers a remediation; a person starts it (the message's button), the run changed nothing.
          const status = again.verdicts.find((v) => verdictKey(v) === s.red[0])!;
          assert.deepEqual(status.remediation, { kind: 'rollout', command: 'meshpilot rollout examples/usa-europe.yaml' });
          const action = msg.actions.find((a) => a.id === 'verify.remediate');
          assert.ok(action, 'the notification carries a remediation button');
          assert.equal(JSON.parse(action.value!).mesh, 'usa-europe');
        }
      } finally {
        await s.heal();
      }
      const healed = await verify();
      assert.equal(healed.overall, 'ok', explain(healed));
      assert.equal(healed.drift.notified, 'change');
      assert.equal(posts.length, before + 2, 'recovery is announced');
      assert.match(posts.at(-1)!.message.title, /all checks ok again/);
      assert.equal(posts.at(-1)!.message.state, 'completed');
    });
  }
});
