// #12, case 3 on a real Temporal dev server and a real lab worker: captured, signed Slack requests for
// /mesh rollout, resume and abort are sent again within Slack's 5-minute window, to the chat process that took
// them and to a second replica that never saw them. Nothing is done twice: the first process refuses the copy
// at its gate ("already done"); the replica reaches Temporal, where the request's idempotency key (the update id,
// the start memo) stops it. And a forged Abort button naming a made-up pause changes nothing (#12, case 9).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getRolloutView } from '../../client/rollouts.ts';
import type { RunningChatApp } from '../../chat/app.ts';
import { startTemporal } from '../helpers/temporal.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, waitFor } from '../helpers/rollout.ts';
import { startFakeSlack, type FakeSlack } from '../notify/fake-slack.ts';
import { labBlueprintDir, OPS_CHANNEL, OPS_USER, startLabChat } from './chat-fixtures.ts';
import { blockActions, sendSigned, slashCommand } from './slack-requests.ts';


/** A request captured once: the same bytes and headers every time it is sent. */
interface Captured {
  body: string;
  timestamp: number;
  replyId: string;
}

describe('Slack replays of rollout, resume and abort (lab: node-unreachable)', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let slack: FakeSlack;
  let chat: RunningChatApp;
  let replica: RunningChatApp;
  let bpDir: string;

  before(async () => {
    bpDir = labBlueprintDir();
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'node-unreachable', blueprint: path.join(bpDir, 'usa-europe.yaml') });
    slack = await startFakeSlack();
    const app = () => startLabChat(env, lab.taskQueue, slack, bpDir, { followIntervalMs: 500 });
    chat = await app();
    replica = await app();
  });

  after(async () => {
    await chat?.stop();
    await replica?.stop();
    await slack?.close();
    await lab?.stop();
    await env?.teardown();
    if (bpDir) rmSync(bpDir, { recursive: true, force: true });
  });

  const capture = (text: string, replyId: string): Captured => ({
    body: slashCommand({ text, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl(replyId) }),
    timestamp: Math.floor(Date.now() / 1000),
    replyId,
  });
  const repliesTo = (id: string) => slack.responses.filter((r) => r.id === id);

  /** Sends a captured request to one chat process; returns the ack and, when a handler ran, its reply. */
  async function send(to: RunningChatApp, req: Captured): Promise<{ ack: string; reply?: string }> {
    const before = repliesTo(req.replyId).length;
    const r = await sendSigned(`${to.url}/slack/events`, req.body, { timestamp: req.timestamp });
    assert.equal(r.status, 200);
    const ack = String(r.json?.text);
    if (!ack.startsWith('Working on')) return { ack };
    const reply = await slack.waitFor(`the reply to ${req.replyId}`, () => repliesTo(req.replyId)[before], 60_000);
    return { ack, reply: String(reply.body.text) };
  }

  test('every replay is answered, none is performed twice', { timeout: 300_000 }, async () => {
    const rollout = capture('rollout usa-europe', 'rollout');
    const started = await send(chat, rollout);
    const workflowId = started.reply?.match(/Started `(rollout-usa-europe-[a-z0-9]+)`/)?.[1];
    assert.ok(workflowId, `the start reply names the rollout: ${started.reply}`);
    assert.match((await send(chat, rollout)).ack, /^Already done: this exact request was received at /);

    const paused = await waitFor(env.client, workflowId, isPaused, 120_000);
    assert.equal(paused.blocked?.cluster, 'cluster-usa');

    // Resume: once by the process that took it; a replica that never saw it is stopped by Temporal's update id.
    const resume = capture(`resume ${workflowId} node checked`, 'resume');
    assert.match((await send(chat, resume)).reply ?? '', /^Resume accepted: re-checking /);
    assert.match((await send(chat, resume)).ack, /^Already done/);
    assert.match((await send(replica, resume)).reply ?? '', /^Already done: this request was carried out before \(re-checking /);
    const afterResume = await waitFor(env.client, workflowId, isPaused);
    assert.equal(afterResume.actions.filter((a) => a.action === 'resume').length, 1, 'one resume in the audit');

    // A signed Abort button whose value names a pause that does not exist changes nothing (case 9).
    const forged = JSON.stringify({ w: workflowId, c: 'cluster-mars', s: 'bootstrap', t: paused.blocked!.since, n: 0 });
    await sendSigned(`${chat.url}/slack/events`, blockActions({ user_id: OPS_USER, channel_id: OPS_CHANNEL, message_ts: '1.1', action_id: 'mesh_abort', value: forged, response_url: slack.responseUrl('forged') }));
    const refused = await slack.waitFor('the forged click answer', () => repliesTo('forged')[0]);
    assert.match(String(refused.body.text), /^Nothing sent: this button belongs to a pause at cluster-mars\/bootstrap that is not the rollout's pause now/);

    const abort = capture(`abort ${workflowId} change window closed`, 'abort');
    assert.match((await send(chat, abort)).reply ?? '', /^Abort accepted/);
    const aborted = await waitFor(env.client, workflowId, isFinished, 120_000);
    assert.equal(aborted.state, 'aborted');

    // The captured rollout after the abort: refused here, and at the replica the start memo says it was done.
    assert.match((await send(chat, rollout)).ack, /^Already done/);
    assert.equal((await send(replica, rollout)).reply, `Already done: this request started \`${workflowId}\` before; it is not started again.`);
    // Replayed abort and resume at the replica: Temporal kept their update ids with the run, so: already done.
    assert.match((await send(chat, abort)).ack, /^Already done/);
    assert.match((await send(replica, abort)).reply ?? '', /^Already done: this request was carried out before \(aborting/);
    assert.match((await send(replica, resume)).ack, /^Already done: this exact request/, 'the replica saw this one before');
    // A new request on the finished rollout says what it is, never "no rollout with id" (case 10).
    assert.equal((await send(replica, capture(`abort ${workflowId} once more`, 'abort-2'))).reply, `Refused: rollout ${workflowId} is aborted; nothing to abort`);

    const final = await getRolloutView(env.client, workflowId);
    assert.equal(final.state, 'aborted', 'the replayed rollout request did not start it again');
    // One resume (on cluster-usa's workflow) and one abort of the rollout (which each unfinished cluster
    // records as it stops), all by the Slack user; nothing from the forged button.
    assert.deepEqual(final.actions.filter((a) => a.action === 'resume').map((a) => [a.by, a.cluster]), [[`slack:${OPS_USER}`, 'cluster-usa']]);
    assert.deepEqual(final.actions.filter((a) => a.cluster === undefined).map((a) => [a.action, a.by]), [['abort', `slack:${OPS_USER}`]]);
    assert.ok(final.actions.every((a) => a.by === `slack:${OPS_USER}` && a.cluster !== 'cluster-mars' && a.step !== 'bootstrap'), JSON.stringify(final.actions));
    let runs = 0;
    for await (const _ of env.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs++;
    assert.equal(runs, 1, 'one run of the rollout, ever');
    assert.equal(repliesTo('rollout').length, 2, 'the start, then the replica\'s "already done"');
  });
});
