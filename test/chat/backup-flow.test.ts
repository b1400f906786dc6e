// `/mesh backup NAME [CLUSTER]` on a real Temporal dev server and a real worker on the lab: the command is acked,
// the reply names the backup it started, and the backup stores its snapshot; a cluster the blueprint does not have is
// refused in the chat's own words; the channel hears the outcome under the backup's own name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { backupResult } from '../../client/backup.ts';
import type { RunningChatApp } from '../../chat/app.ts';
import { startTemporal } from '../helpers/temporal.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { restoreDrillResult } from '../../client/restore-drill.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { startFakeSlack, type FakeSlack, type StoredMessage } from '../notify/fake-slack.ts';
import { labBlueprintDir, OPS_CHANNEL, OPS_USER, startLabChat } from './chat-fixtures.ts';
import { blockActions, sendSigned, slashCommand } from './slack-requests.ts';

describe('/mesh backup on a rolled-out lab mesh', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let slack: FakeSlack;
  let chat: RunningChatApp;
  let events: string;
  let bpDir: string;

  before(async () => {
    bpDir = labBlueprintDir();
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy', blueprint: path.join(bpDir, 'usa-europe.yaml') });
    slack = await startFakeSlack();
    chat = await startLabChat(env, lab.taskQueue, slack, bpDir);
    events = `${chat.url}/slack/events`;
    const rollout = await start(env.client, lab.plan, lab.taskQueue);
    assert.equal((await waitFor(env.client, rollout.workflowId, isFinished, 240_000)).state, 'completed');
  });
  after(async () => {
    await chat?.stop();
    await slack?.close();
    await lab?.stop();
    await env?.teardown();
    if (bpDir) rmSync(bpDir, { recursive: true, force: true });
  });

  test('the backup starts, stores a snapshot, and bad input is named', { timeout: 180_000 }, async () => {
    const command = (text: string, id: string) => slashCommand({ text, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl(id) });
    const ack = await sendSigned(events, command('backup usa-europe cluster-usa', 'b1'));
    assert.equal(ack.status, 200);
    const reply = await slack.waitFor('the backup reply', () => slack.responses.find((r) => r.id === 'b1'));
    const workflowId = /`(backup-usa-europe-cluster-usa-manual)`/.exec(String(reply.body.text))?.[1];
    assert.ok(workflowId, String(reply.body.text));
    assert.match(String(reply.body.text), /cluster-usa: started/);
    assert.equal((await waitFor(env.client, workflowId, isFinished, 120_000)).state, 'completed');
    const result = await backupResult(env.client, workflowId);
    assert.match(result.snapshot?.sha256 ?? '', /^[0-9a-f]{64}$/);
    // the channel hears the outcome, named as a backup (not as a rollout or a detach)
    const header = (m: StoredMessage) => String((m.blocks.find((b) => b.type === 'header')?.text as { text?: string } | undefined)?.text ?? '');
    const done = await slack.waitFor('the outcome message', () => [...slack.messages.values()].find((m) => /Backup of cluster-usa \(usa-europe\) completed$/.test(header(m))), 60_000);
    assert.match(JSON.stringify(done.blocks), new RegExp(`snapshot ${result.snapshot!.id} taken and stored encrypted`));

    await sendSigned(events, command('backup usa-europe cluster-mars', 'b2'));
    const refused = await slack.waitFor('the refusal', () => slack.responses.find((r) => r.id === 'b2'));
    assert.match(String(refused.body.text), /The cluster: "cluster-mars" is not a cluster of mesh usa-europe/);
  });

  test('/mesh drill answers with a confirm button; the confirmed click starts the drill, which restores and proves', { timeout: 240_000 }, async () => {
    const command = (text: string, id: string) => slashCommand({ text, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl(id) });
    await withLabState(lab.labDir, (s) => {
      s.clusters['drill'] = { name: 'drill', endpoint: 'https://192.168.10.89:6443', bootstrapCount: 0, kube: {}, helm: {}, extra: {} };
      s.nodes['192.168.10.90'] = { name: 'drill-cp-1', address: '192.168.10.90', site: 'usa', cluster: 'drill', role: 'controlplane', installDisk: '/dev/nvme0n1', stage: 'maintenance', stageSince: Date.now(), reachable: true, labels: {} };
    });
    await sendSigned(events, command('drill usa-europe cluster-usa drill-cp-1=192.168.10.90', 'd1'));
    const reply = await slack.waitFor('the confirm reply', () => slack.responses.find((r) => r.id === 'd1'));
    const blocks = JSON.stringify(reply.body.blocks);
    assert.match(blocks, /"action_id":"mesh_drill"/);
    assert.match(blocks, /"confirm":\{/, 'the button asks for confirmation');
    assert.equal(readLabState(lab.labDir).clusters['drill']!.bootstrapCount, 0, 'nothing started before the click');

    await sendSigned(events, command('drill usa-europe cluster-usa usa-cp-1=192.168.10.11', 'd2'));
    const refused = await slack.waitFor('the refusal', () => slack.responses.find((r) => r.id === 'd2'));
    assert.match(String(refused.body.text), /The drill node: usa-cp-1 \(192\.168\.10\.11\) is usa-cp-1 .* a drill needs a spare node/);

    const value = /"value":"((?:[^"\\]|\\.)*)"/.exec(blocks)?.[1];
    assert.ok(value, blocks);
    await sendSigned(events, blockActions({ user_id: OPS_USER, channel_id: OPS_CHANNEL, message_ts: '2.1', action_id: 'mesh_drill', value: JSON.parse(`"${value}"`) as string, response_url: slack.responseUrl('click') }));
    const answer = await slack.waitFor('the click answer', () => slack.responses.find((r) => r.id === 'click'));
    const workflowId = /`(restore-drill-usa-europe-cluster-usa-drill-cp-1)`/.exec(String(answer.body.text))?.[1];
    assert.ok(workflowId, String(answer.body.text));
    assert.equal((await waitFor(env.client, workflowId, isFinished, 180_000)).state, 'completed');
    const result = await restoreDrillResult(env.client, workflowId);
    assert.deepEqual(result.proof?.members.map((m) => m.hostname), ['drill-cp-1']);
    assert.equal(readLabState(lab.labDir).clusters['drill']!.bootstrapCount, 1);
  });
});
