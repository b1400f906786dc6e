// The whole Slack path on a real Temporal dev server and a real worker on the lab:
// /mesh rollout → a paused message with buttons → the lab is healed → a Resume click → the completion message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { getRolloutView } from '../../client/rollouts.ts';
import type { RunningChatApp } from '../../chat/app.ts';
import { startTemporal } from '../helpers/temporal.ts';
import { healLab, startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { startFakeSlack, type FakeSlack, type StoredMessage } from '../notify/fake-slack.ts';
import { labBlueprintDir, OPS_CHANNEL, OPS_USER, startLabChat } from './chat-fixtures.ts';
import { blockActions, sendSigned, slashCommand } from './slack-requests.ts';


type Button = { action_id: string; value?: string; url?: string; confirm?: unknown };
const buttons = (m: StoredMessage): Button[] => m.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements as Button[]);
const header = (m: StoredMessage): string => String((m.blocks.find((b) => b.type === 'header')?.text as { text?: string } | undefined)?.text ?? '');

describe('Slack happy path on a real rollout (lab: node-unreachable)', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let slack: FakeSlack;
  let chat: RunningChatApp;
  let events: string;
  let bpDir: string;

  before(async () => {
    bpDir = labBlueprintDir();
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'node-unreachable', blueprint: path.join(bpDir, 'usa-europe.yaml') });
    slack = await startFakeSlack();
    chat = await startLabChat(env, lab.taskQueue, slack, bpDir, { extraEnv: { MESHPILOT_UI_URL: 'http://127.0.0.1:8233' } });
    events = `${chat.url}/slack/events`;
  });

  after(async () => {
    await chat?.stop();
    await slack?.close();
    await lab?.stop();
    await env?.teardown();
    if (bpDir) rmSync(bpDir, { recursive: true, force: true });
  });

  test('rollout, pause with buttons, Resume click, completion — every action audited with the Slack user', { timeout: 120_000 }, async () => {
    const command = (text: string, id: string) => slashCommand({ text, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl(id) });

    // 1. The command is acked at once; the result follows through response_url.
    const ack = await sendSigned(events, command('rollout usa-europe', 'start'));
    assert.equal(ack.status, 200);
    assert.match(String(ack.json?.text), /^Working on `\/mesh rollout usa-europe`/);
    const started = await slack.waitFor('the start reply', () => slack.responses.find((r) => r.id === 'start'));
    const workflowId = String(started.body.text).match(/Started `(rollout-usa-europe-[a-z0-9]+)`/)?.[1];
    assert.ok(workflowId, `start reply names the rollout: ${String(started.body.text)}`);

    // 2. The pause arrives as its own message: reason, hint, Resume / Abort (confirm) / Open in Temporal UI.
    const paused = await slack.waitFor(
      'the paused message',
      () => {
        const all = [...slack.messages.values()];
        const ended = all.find((m) => /Rollout usa-europe (failed|aborted)/.test(header(m)));
        if (ended) throw new Error(`the rollout ended instead of pausing: ${JSON.stringify(ended.blocks)}`);
        return all.find((m) => buttons(m).some((b) => b.action_id === 'mesh_resume'));
      },
      60_000,
    );
    assert.equal(paused.channel, OPS_CHANNEL);
    // The scenario's unreachable node is in the first cluster; which step notices first (boot, apply-config) is the lab's business.
    const step = header(paused).match(/usa-europe paused at cluster-usa\/([a-z-]+)$/)?.[1];
    assert.ok(step, `paused in cluster-usa: ${header(paused)}`);
    assert.match(JSON.stringify(paused.blocks), /Reason: .*192\.168\.10\./);
    assert.match(JSON.stringify(paused.blocks), /Hint: /);
    const [resume, abort, ui] = buttons(paused);
    assert.equal(abort?.action_id, 'mesh_abort');
    assert.ok(abort?.confirm, 'Abort asks for confirmation');
    assert.equal(ui?.url, `http://127.0.0.1:8233/namespaces/default/workflows/${workflowId}`);

    // 3. Starting the same change again attaches instead of starting a second rollout.
    await sendSigned(events, command('rollout usa-europe', 'again'));
    const again = await slack.waitFor('the second start reply', () => slack.responses.find((r) => r.id === 'again'));
    // Same id, so the same rollout (the client's "started" flag cannot always tell a fresh start from an attach).
    assert.match(String(again.body.text), new RegExp(`(Started|already rolling out:) \`${workflowId}\``));

    // 4. Someone fixes the node; a Resume click re-checks now. A double click sends nothing more.
    await healLab(lab.labDir, 'node-unreachable');
    const click = (id: string) =>
      sendSigned(events, blockActions({ user_id: OPS_USER, channel_id: OPS_CHANNEL, message_ts: paused.ts, action_id: 'mesh_resume', value: resume?.value, response_url: slack.responseUrl(id) }));
    assert.equal((await click('click-1')).status, 200);
    const first = await slack.waitFor('the click answer', () => slack.responses.find((r) => r.id === 'click-1'));
    assert.match(String(first.body.text), new RegExp(`^Resume sent for cluster-usa/${step}`));
    assert.equal(first.body.response_type, 'ephemeral');
    await click('click-2');
    const second = await slack.waitFor('the second click answer', () => slack.responses.find((r) => r.id === 'click-2'));
    assert.equal(second.body.text, `Nothing sent: already resumed by slack:${OPS_USER}.`);

    // 5. Completion is posted; the pause message now says who resumed it and has no buttons left.
    const done = await slack.waitFor('the completion message', () => [...slack.messages.values()].find((m) => header(m).includes('Rollout usa-europe completed')), 90_000);
    assert.equal(done.channel, OPS_CHANNEL);
    const cleared = slack.messages.get(paused.ts)!;
    assert.equal(header(cleared), `:arrows_counterclockwise: usa-europe cluster-usa/${step}: resumed`);
    assert.match(JSON.stringify(cleared.blocks), new RegExp(`resumed by <@${OPS_USER}> at `));
    assert.deepEqual(buttons(cleared).map((b) => b.action_id), ['mesh_open_ui']);

    // The rollout's timeline is attached in the outcome message's thread.
    const timeline = await slack.waitFor('the timeline upload', () => [...slack.files.values()].find((f) => f.threadTs === done.ts), 30_000);
    assert.equal(timeline.channel, OPS_CHANNEL);
    assert.match(timeline.filename, /^timeline-rollout-usa-europe-.*\.svg$/);
    assert.match(timeline.content, /^<svg[\s\S]*data-lane="cluster-usa"[\s\S]*data-action="resume"[\s\S]*<\/svg>$/);
    assert.match(timeline.comment ?? '', /^completed in .*1 pause\(s\), 1 operator action\(s\).*meshpilot report rollout-usa-europe-/);

    // Updated in place, not spammed: one status message, one pause message, one outcome message.
    const posts = slack.calls.filter((c) => c.method === 'chat.postMessage');
    assert.equal(posts.length, 3, `posted: ${posts.map((p) => p.body.text).join(' | ')}`);
    const status = [...slack.messages.values()].find((m) => header(m).startsWith(':white_check_mark: Rollout usa-europe: completed'));
    assert.ok(status && status.versions > 1, 'the status message was updated in place to completed');
    assert.ok(slack.calls.every((c) => c.authorization === 'Bearer xoxb-test-token'));

    // 6. The audit holds the Slack user for the start and for exactly one resume.
    const view = await getRolloutView(env.client, workflowId);
    assert.equal(view.state, 'completed');
    assert.deepEqual(view.startedBy, { by: `slack:${OPS_USER}`, via: 'slack' });
    const resumes = view.actions.filter((a) => a.action === 'resume');
    assert.deepEqual(
      resumes.map((a) => ({ by: a.by, via: a.via, cluster: a.cluster, step: a.step })),
      [{ by: `slack:${OPS_USER}`, via: 'slack', cluster: 'cluster-usa', step }],
    );
  });
});
