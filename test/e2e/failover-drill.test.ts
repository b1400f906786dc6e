// Given the seed's mesh rolled out on the lab: `meshpilot drill failover FILE --region us` scales the canary's
// Deployment in cluster-usa to 0, every cluster's agent is watched until its clients reach Europe's backends (timed),
// the Deployment goes back to its replicas, and report.md/report.json say so; an abort after the drain still puts
// every backend back and leaves the mesh connected; a mesh that is not whole pauses the preflight; bad input is
// refused naming the flag; and from chat,
// `/mesh drill failover` answers with a confirm button whose confirmed click starts the drill.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunningChatApp } from '../../chat/app.ts';
import { failoverDrillResult, startFailoverDrill } from '../../client/failover-drill.ts';
import { abortRollout, actOnStep } from '../../client/rollouts.ts';
import type { FailoverReport } from '../../contracts/failover.ts';
import { SA } from '../../contracts/names.ts';
import { disconnectPeer, reconnectPeer } from '../../lab/drift.ts';
import { meshLinks } from '../../lab/kube/mesh.ts';
import type { KubeObject } from '../../lab/kube/store.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { startFakeSlack, type FakeSlack, type StoredMessage } from '../notify/fake-slack.ts';
import { labBlueprintDir, OPS_CHANNEL, OPS_USER, startLabChat } from '../chat/chat-fixtures.ts';
import { blockActions, sendSigned, slashCommand } from '../chat/slack-requests.ts';
import { runCli } from '../helpers/cli.ts';
import { historyText } from '../helpers/history.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

const CANARY = 'apps/v1|Deployment|meshpilot-canary|meshpilot-canary';
const CANARY_SVC = 'v1|Service|meshpilot-canary|meshpilot-canary';
const tester = { by: 'tester', via: 'test' };

const replicas = (labDir: string, cluster: string) => Number((readLabState(labDir).clusters[cluster]!.kube[CANARY] as KubeObject).spec?.replicas);
const editCanary = (labDir: string, cluster: string, key: string, edit: (o: KubeObject) => void) =>
  withLabState(labDir, (s) => {
    edit(s.clusters[cluster]!.kube[key] as KubeObject);
  });
/** Every configured ClusterMesh link of every cluster is connected, as the lab's agents see it. */
const meshConnected = (labDir: string) => {
  const s = readLabState(labDir);
  return ['cluster-usa', 'cluster-europe'].every((c) => meshLinks(s, s.clusters[c]!, Date.now()).every((l) => l.connected));
};

describe('failover drill of a rolled-out mesh', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let bpDir: string;
  let file: string;
  let slack: FakeSlack;
  let chat: RunningChatApp;
  let cliEnv: NodeJS.ProcessEnv;
  const cli = (...argv: string[]) => runCli(cliEnv, ...argv);

  before(async () => {
    bpDir = labBlueprintDir();
    file = path.join(bpDir, 'usa-europe.yaml');
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy', blueprint: file, pollBudgetMs: 6_000 });
    slack = await startFakeSlack();
    chat = await startLabChat(env, lab.taskQueue, slack, bpDir);
    cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: env.address, MESHPILOT_DATA_DIR: lab.dataDir, MESHPILOT_TASK_QUEUE: lab.taskQueue, MESHPILOT_ACTOR: 'carol', NO_COLOR: '1' };
    const rollout = await start(env.client, lab.plan, lab.taskQueue);
    assert.equal((await waitFor(env.client, rollout.workflowId, isFinished, 240_000)).state, 'completed', 'the happy rollout completes before any drill');
  });
  after(async () => {
    await chat?.stop();
    await slack?.close();
    await lab?.stop();
    await env?.teardown();
    if (bpDir) rmSync(bpDir, { recursive: true, force: true });
  });

  test('bad input is refused naming the flag, and a region that alone holds the backends is never drained', { timeout: 120_000 }, async () => {
    const mars = await cli('drill', 'failover', file, '--region', 'mars');
    assert.equal(mars.code, 2);
    assert.match(mars.err, /--region: "mars" is not a region of mesh usa-europe \(regions: eu, us\)/);
    const svc = await cli('drill', 'failover', file, '--region', 'us', '--service', 'default/frontend');
    assert.equal(svc.code, 2);
    assert.match(svc.err, /--service: default\/frontend is not a global service of mesh usa-europe \(global services: meshpilot-canary\/meshpilot-canary, default\/payment-api\)/);
    const shape = await cli('drill', 'failover', file, '--region', 'us', '--service', 'payment-api');
    assert.equal(shape.code, 2);
    assert.match(shape.err, /--service: "payment-api" is not NAMESPACE\/NAME/);
    const missing = await cli('drill', 'failover', file);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--region <region> is required/);

    // Europe's canary has no backend: region us is the only one holding any, so the drill refuses before it drains
    await editCanary(lab.labDir, 'cluster-europe', CANARY, (o) => void (o.spec!.replicas = 0));
    try {
      const only = await cli('drill', 'failover', file, '--region', 'us', '--wait', '--json');
      assert.equal(only.code, 1);
      const out = JSON.parse(only.out) as { state: string; error: string; report: FailoverReport };
      assert.equal(out.state, 'failed');
      assert.match(out.error, /--region us: region us is the only region holding backends of meshpilot-canary\/meshpilot-canary \(1 in cluster-usa\); draining it would take the service down everywhere/);
      assert.equal(out.report.verdict, 'incomplete');
      assert.deepEqual(out.report.steps.map((s) => `${s.name}=${s.state}`), ['failover-preflight=failed', 'failover-drain=pending', 'failover-observe=pending', 'failover-restore=kept', 'failover-report=done']);
      assert.equal(replicas(lab.labDir, 'cluster-usa'), 1, 'nothing was scaled');
    } finally {
      await editCanary(lab.labDir, 'cluster-europe', CANARY, (o) => void (o.spec!.replicas = 1));
    }
  });

  test('--plan names what it acts on; a drill completes: measured failover per region, report.md and report.json, every backend back', { timeout: 180_000 }, async () => {
    const plan = await cli('drill', 'failover', file, '--region', 'us', '--plan', '--json');
    assert.equal(plan.code, 0, plan.err);
    const p = JSON.parse(plan.out) as { drained: string[]; services: string[]; steps: Array<{ name: string }> };
    assert.deepEqual(p.drained, ['cluster-usa']);
    assert.deepEqual(p.services, ['meshpilot-canary/meshpilot-canary', 'default/payment-api']);
    assert.deepEqual(p.steps.map((s) => s.name), ['failover-preflight', 'failover-drain', 'failover-observe', 'failover-restore', 'failover-report']);

    await editCanary(lab.labDir, 'cluster-usa', CANARY, (o) => void (o.spec!.replicas = 2));
    const out = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-drill-'));
    try {
      const run = await cli('drill', 'failover', file, '--region', 'us', '--wait', '--json', '--out', out);
      assert.equal(run.code, 0, `${run.err}\n${run.out}`);
      const final = JSON.parse(run.out) as { state: string; report: FailoverReport };
      assert.equal(final.state, 'completed');
      const r = final.report;
      assert.equal(r.verdict, 'passed');
      assert.equal(r.restored, true);
      // payment-api has no pods in the lab: it is named as not drilled, with why
      assert.deepEqual(r.services, ['meshpilot-canary/meshpilot-canary']);
      assert.deepEqual(r.skipped, [{ service: 'default/payment-api', why: 'no ready backend in any cluster' }]);
      assert.deepEqual(r.workloads.map((w) => [w.cluster, `${w.namespace}/${w.name}`, w.replicas, w.restoredReplicas, w.readyReplicas]), [['cluster-usa', 'meshpilot-canary/meshpilot-canary', 2, 2, 2]]);
      // per region: Europe's clients only ever reach Europe now, and the drained region's clients reach Europe too
      const byRegion = Object.fromEntries(r.regions.map((g) => [g.region, g]));
      assert.equal(byRegion['us']!.role, 'drained');
      assert.equal(byRegion['eu']!.role, 'surviving');
      for (const g of r.regions) {
        assert.equal(g.observations.length, 1);
        const o = g.observations[0]!;
        assert.equal(o.ok, true, JSON.stringify(o));
        assert.ok(typeof o.failoverMs === 'number' && o.failoverMs >= 0 && o.failoverMs < 10_000, JSON.stringify(o));
        assert.deepEqual(o.bySource, { 'cluster-europe': 1 });
      }
      assert.equal(r.slowestFailoverMs, Math.max(...r.regions.map((g) => g.observations[0]!.failoverMs!)));
      // the report, on the worker and under --out: the measured time and the per-region table
      for (const md of [r.files!.markdown, path.join(out, 'report.md')]) {
        const text = readFileSync(md, 'utf8');
        assert.match(text, /^# Failover drill: region us of mesh usa-europe: PASSED/);
        assert.match(text, new RegExp(`slowest failover \\*\\*${r.slowestFailoverMs} ms\\*\\*`));
        assert.match(text, /\| us \| drained \| cluster-usa \| meshpilot-canary\/meshpilot-canary \| (≤ )?\d+ ms \| 1 in cluster-europe \| ok \|/);
        assert.match(text, /\| eu \| surviving \| cluster-europe \| meshpilot-canary\/meshpilot-canary \| (≤ )?\d+ ms \| 1 in cluster-europe \| ok \|/);
      }
      const json = JSON.parse(readFileSync(r.files!.json, 'utf8')) as FailoverReport;
      assert.equal(json.slowestFailoverMs, r.slowestFailoverMs);
      assert.ok(existsSync(path.join(out, 'report.json')));
      // every backend back: the Deployment at its replicas, both agents serving both regions' backends
      assert.equal(replicas(lab.labDir, 'cluster-usa'), 2);
      const eu = await cli('drill', 'failover', file, '--region', 'eu', '--plan');
      assert.match(eu.out, /failover drill: region eu \(cluster-europe\) of mesh usa-europe/);
      // secrets never in history: the kubeconfigs are references, resolved inside the activities
      const kubeconfig = (await lab.deps.secrets.get('mesh/usa-europe/cluster-usa/kubeconfig')).toString('utf8');
      const history = historyText(await env.client.workflow.getHandle(r.id).fetchHistory());
      assert.ok(history.includes('mesh/usa-europe/cluster-usa/kubeconfig'), 'the reference is there');
      const credentials = kubeconfig.split('\n').filter((l) => /-data:/.test(l)).map((l) => l.split(':').slice(1).join(':').trim());
      assert.ok(credentials.length >= 2);
      for (const c of credentials) assert.equal(history.includes(c), false, 'no kubeconfig credential in history');
      // visibility tells it apart from rollouts and restore drills
      const desc = await env.client.workflow.getHandle(r.id).describe();
      assert.equal(desc.typedSearchAttributes.get(SA.kind), 'failover-drill');
      assert.equal(desc.typedSearchAttributes.get(SA.cluster), 'cluster-usa');
    } finally {
      rmSync(out, { recursive: true, force: true });
      await editCanary(lab.labDir, 'cluster-usa', CANARY, (o) => void (o.spec!.replicas = 1));
    }
  });

  test('aborted after the drain: every backend is put back and the mesh stays connected; a second region is refused meanwhile', { timeout: 180_000 }, async () => {
    // Europe does not share its canary: cluster-usa's clients lose every backend once their own are gone (the
    // service.cilium.io/shared surprise), so the watch of cluster-usa keeps polling and the drill is aborted there.
    await editCanary(lab.labDir, 'cluster-europe', CANARY_SVC, (o) => void (o.metadata.annotations = { ...o.metadata.annotations, 'service.cilium.io/shared': 'false' }));
    try {
      const { workflowId } = await startFailoverDrill(env.client, { plan: lab.plan, region: 'us', by: tester, taskQueue: lab.taskQueue });
      const drained = await waitFor(env.client, workflowId, (v) => v.meshSteps.find((s) => s.name === 'failover-drain')?.state === 'done', 60_000);
      assert.equal(drained.meshSteps.find((s) => s.name === 'failover-observe')?.state, 'running');
      assert.equal(replicas(lab.labDir, 'cluster-usa'), 0, 'the region is drained');
      await assert.rejects(startFailoverDrill(env.client, { plan: lab.plan, region: 'eu', by: tester, taskQueue: lab.taskQueue }), /a failover drill of region us of mesh usa-europe is running .*one region is drilled at a time/);
      await abortRollout(env.client, workflowId, { by: 'tester', via: 'test', reason: 'drill window over' });
      const ended = await waitFor(env.client, workflowId, isFinished, 120_000);
      assert.equal(ended.state, 'aborted');
      const { report } = await failoverDrillResult(env.client, workflowId);
      assert.equal(report.verdict, 'incomplete');
      assert.equal(report.restored, true);
      assert.deepEqual(report.steps.map((s) => `${s.name}=${s.state}`), ['failover-preflight=done', 'failover-drain=done', 'failover-observe=aborted', 'failover-restore=done', 'failover-report=done']);
      assert.deepEqual(report.workloads.map((w) => [w.cluster, w.replicas, w.readyReplicas]), [['cluster-usa', 1, 1]]);
      assert.ok(report.actions.some((a) => a.action === 'abort' && a.reason === 'drill window over'));
      assert.equal(replicas(lab.labDir, 'cluster-usa'), 1, 'every backend is back');
      assert.ok(meshConnected(lab.labDir), 'the mesh is still connected');
      assert.match(readFileSync(report.files!.markdown, 'utf8'), /INCOMPLETE/);
    } finally {
      await editCanary(lab.labDir, 'cluster-europe', CANARY_SVC, (o) => {
        const { 'service.cilium.io/shared': _gone, ...rest } = o.metadata.annotations ?? {};
        o.metadata.annotations = rest;
      });
    }
  });

  test('a cancelled workflow (temporal workflow cancel) restores too', { timeout: 180_000 }, async () => {
    await editCanary(lab.labDir, 'cluster-europe', CANARY_SVC, (o) => void (o.metadata.annotations = { ...o.metadata.annotations, 'service.cilium.io/shared': 'false' }));
    try {
      const { workflowId } = await startFailoverDrill(env.client, { plan: lab.plan, region: 'us', by: tester, taskQueue: lab.taskQueue });
      await waitFor(env.client, workflowId, (v) => v.meshSteps.find((s) => s.name === 'failover-drain')?.state === 'done', 60_000);
      assert.equal(replicas(lab.labDir, 'cluster-usa'), 0);
      await env.client.workflow.getHandle(workflowId).cancel();
      const { report } = await failoverDrillResult(env.client, workflowId);
      assert.equal(report.state, 'aborted');
      assert.equal(report.restored, true);
      assert.deepEqual(report.steps.map((s) => `${s.name}=${s.state}`), ['failover-preflight=done', 'failover-drain=done', 'failover-observe=aborted', 'failover-restore=done', 'failover-report=done']);
      assert.equal(replicas(lab.labDir, 'cluster-usa'), 1, 'every backend is back');
    } finally {
      await editCanary(lab.labDir, 'cluster-europe', CANARY_SVC, (o) => {
        const { 'service.cilium.io/shared': _gone, ...rest } = o.metadata.annotations ?? {};
        o.metadata.annotations = rest;
      });
    }
  });

  test('a mesh that is not whole pauses the preflight with the reason and nothing drained; resume after the fix runs the drill', { timeout: 180_000 }, async () => {
    await disconnectPeer(lab.labDir, 'cluster-usa', 'cluster-europe');
    let healed = false;
    try {
      const limits = { recheckBaseMs: 10 * 60_000, recheckMaxMs: 10 * 60_000, maxHistoryEvents: 1_500 };
      const { workflowId } = await startFailoverDrill(env.client, { plan: lab.plan, region: 'eu', by: tester, taskQueue: lab.taskQueue, limits });
      const paused = await waitFor(env.client, workflowId, isPaused, 60_000);
      assert.equal(paused.blocked!.step, 'failover-preflight');
      assert.match(paused.blocked!.reason, /the mesh is not whole before the failover drill: cluster-usa does not reach cluster-europe/);
      assert.match(paused.blocked!.hint, /cilium clustermesh status/);
      assert.equal(replicas(lab.labDir, 'cluster-europe'), 1, 'nothing drained');
      await reconnectPeer(lab.labDir, 'cluster-usa', 'cluster-europe');
      healed = true;
      await actOnStep(env.client, workflowId, 'resume', { ...tester, reason: 'peer list fixed' });
      assert.equal((await waitFor(env.client, workflowId, isFinished, 120_000)).state, 'completed');
      const { report } = await failoverDrillResult(env.client, workflowId);
      assert.equal(report.verdict, 'passed');
      assert.equal(replicas(lab.labDir, 'cluster-europe'), 1);
    } finally {
      if (!healed) await reconnectPeer(lab.labDir, 'cluster-usa', 'cluster-europe');
    }
  });

  test('/mesh drill failover answers with a confirm button; the confirmed click starts the drill, and the outcome is posted', { timeout: 180_000 }, async () => {
    const events = `${chat.url}/slack/events`;
    const command = (text: string, id: string) => slashCommand({ text, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl(id) });
    await sendSigned(events, command('drill failover usa-europe mars', 'f0'));
    const refused = await slack.waitFor('the refusal', () => slack.responses.find((r) => r.id === 'f0'));
    assert.match(String(refused.body.text), /The region: "mars" is not a region of mesh usa-europe/);

    await sendSigned(events, command('drill failover usa-europe eu meshpilot-canary/meshpilot-canary', 'f1'));
    const reply = await slack.waitFor('the confirm reply', () => slack.responses.find((r) => r.id === 'f1'));
    const blocks = JSON.stringify(reply.body.blocks);
    assert.match(blocks, /"action_id":"mesh_failover_drill"/);
    assert.match(blocks, /"confirm":\{/, 'the button asks for confirmation');
    assert.equal(replicas(lab.labDir, 'cluster-europe'), 1, 'nothing started before the click');
    const value = /"value":"((?:[^"\\]|\\.)*)"/.exec(blocks)?.[1];
    assert.ok(value, blocks);
    await sendSigned(events, blockActions({ user_id: OPS_USER, channel_id: OPS_CHANNEL, message_ts: '3.1', action_id: 'mesh_failover_drill', value: JSON.parse(`"${value}"`) as string, response_url: slack.responseUrl('fclick') }));
    const answer = await slack.waitFor('the click answer', () => slack.responses.find((r) => r.id === 'fclick'));
    const workflowId = /`(failover-drill-usa-europe-eu)`/.exec(String(answer.body.text))?.[1];
    assert.ok(workflowId, String(answer.body.text));
    assert.equal((await waitFor(env.client, workflowId, isFinished, 120_000)).state, 'completed');
    const { report } = await failoverDrillResult(env.client, workflowId);
    assert.equal(report.verdict, 'passed');
    assert.equal(report.requestedBy.via, 'slack');
    assert.equal(replicas(lab.labDir, 'cluster-europe'), 1);
    const header = (m: StoredMessage) => String((m.blocks.find((b) => b.type === 'header')?.text as { text?: string } | undefined)?.text ?? '');
    const done = await slack.waitFor('the outcome message', () => [...slack.messages.values()].find((m) => /Failover drill of cluster-europe \(usa-europe\) completed$/.test(header(m))), 60_000);
    assert.match(JSON.stringify(done.blocks), /region eu \(cluster-europe\): PASSED, slowest failover \d+ ms; every backend restored/);
  });
});
