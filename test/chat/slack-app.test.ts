// The real chat app on loopback, facing a fake Slack: everything Slack-facing that needs no rollout.
// Temporal is never reached here (a lazy connection nobody uses); the rollout path is in rollout-flow.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { projectRoot } from '../../config/env.ts';
import { startChatApp, type RunningChatApp } from '../../chat/app.ts';
import { loadChatEnv } from '../../chat/env.ts';
import { startFakeSlack, type FakeSlack } from '../notify/fake-slack.ts';
import { OPS_CHANNEL, OPS_USER, startOfflineChat } from './chat-fixtures.ts';
import { blockActions, sendSigned, SIGNING_SECRET, slashCommand } from './slack-requests.ts';


describe('meshpilot chat: the Slack edge', () => {
  let slack: FakeSlack;
  let chat: RunningChatApp;
  let events: string;
  let client: Client;
  const logs: string[] = [];

  before(async () => {
    slack = await startFakeSlack();
    ({ chat, client } = await startOfflineChat(slack, path.join(projectRoot, 'examples'), (l) => logs.push(l)));
    events = `${chat.url}/slack/events`;
  });

  after(async () => {
    await chat?.stop();
    await client?.connection.close().catch(() => undefined);
    await slack?.close();
  });

  const mesh = (text: string, who: { user?: string; channel?: string } = {}) =>
    slashCommand({ text, user_id: who.user ?? OPS_USER, channel_id: who.channel ?? OPS_CHANNEL, response_url: slack.responseUrl(`cmd-${text.replace(/\W+/g, '-')}`) });

  test('checks the bot token with auth.test at start-up and binds to loopback', () => {
    assert.ok(slack.calls.some((c) => c.method === 'auth.test'));
    assert.match(chat.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('/healthz answers, unknown paths 404', async () => {
    const health = await fetch(`${chat.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', following: 0 });
    assert.equal((await fetch(`${chat.url}/nope`)).status, 404);
    assert.equal((await fetch(events)).status, 405);
  });

  test('a bad signature is refused with 401', async () => {
    const r = await sendSigned(events, mesh('help'), { secret: 'not-the-signing-secret' });
    assert.equal(r.status, 401);
    assert.match(logs.join('\n'), /refused a request to \/slack\/events: signature mismatch/);
  });

  test('a stale timestamp, and one from the future, are refused with 401', async () => {
    // 10 s past the window either way: the server's clock reads a second or more later than ours on a busy machine.
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await sendSigned(events, mesh('help'), { timestamp: now - 310 })).status, 401);
    assert.equal((await sendSigned(events, mesh('help'), { timestamp: now + 310 })).status, 401);
    assert.match(logs.join('\n'), /stale request/);
    assert.match(logs.join('\n'), /in the future/);
  });

  test('a wrong content type is refused with 415 before anything else', async () => {
    const json = JSON.stringify({ command: '/mesh', text: 'help' });
    const r = await sendSigned(events, json, { contentType: 'application/json' });
    assert.equal(r.status, 415);
    assert.match(r.text, /application\/x-www-form-urlencoded/);
    assert.equal((await sendSigned(events, mesh('help'), { contentType: 'text/plain' })).status, 415);
  });

  test("the charset form some clients send is accepted (Bolt alone would answer 400)", async () => {
    const r = await sendSigned(events, mesh('help'), { contentType: 'application/x-www-form-urlencoded; charset=utf-8' });
    assert.equal(r.status, 200);
    assert.match(String(r.json?.text), /Usage/);
  });

  test("Slack's ssl_check probe gets a 200 without a signature", async () => {
    const res = await fetch(events, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'ssl_check=1&token=x' });
    assert.equal(res.status, 200);
  });

  test('an unknown subcommand gets usage in the ack, at once', async () => {
    const started = Date.now();
    const r = await sendSigned(events, mesh('deploy everything'));
    assert.equal(r.status, 200);
    assert.ok(Date.now() - started < 3000, 'acked within Slack\'s 3 s');
    assert.equal(r.json?.response_type, 'ephemeral');
    assert.match(String(r.json?.text), /^unknown command `deploy`[\s\S]*\/mesh rollout NAME/);
  });

  test('nothing in a session is acked twice or fails after the ack', () => {
    assert.doesNotMatch(logs.join('\n'), /slack (error|warn)|multiple|could not/i);
  });

  test('another slash command pointed at the app says what it serves', async () => {
    const r = await sendSigned(events, slashCommand({ text: 'x', user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl('other'), command: '/deploy' }));
    assert.equal(r.status, 200);
    assert.match(String(r.json?.text), /serves `\/mesh` only \(got `\/deploy`\)/);
  });

  test('a user off the allow-list cannot run mutating commands; read-only ones still work', async () => {
    const refused = await sendSigned(events, mesh('rollout usa-europe', { user: 'U9STRANGER' }));
    assert.equal(refused.status, 200);
    assert.equal(refused.json?.response_type, 'ephemeral');
    assert.match(String(refused.json?.text), /not on the list of people who may change rollouts/);
    assert.match(logs.join('\n'), /refused \/mesh rollout from U9STRANGER in C1OPS/);

    const plan = await sendSigned(events, mesh('plan usa-europe', { user: 'U9STRANGER' }));
    assert.equal(plan.status, 200);
    const reply = await slack.waitFor('the plan reply', () => slack.responses.find((r) => r.id === 'cmd-plan-usa-europe'));
    assert.match(String(reply.body.text), /mesh \*usa-europe\*[\s\S]*cluster-usa\* \(id 1[\s\S]*pods 10\.1\.0\.0\/16 · services 10\.96\.0\.0\/16/);
    assert.equal(reply.body.response_type, 'ephemeral');
  });

  test('an allowed user in a channel off the allow-list is refused too', async () => {
    const r = await sendSigned(events, mesh('abort rollout-x wrong window', { channel: 'C9GENERAL' }));
    assert.match(String(r.json?.text), /SLACK_ALLOWED_CHANNELS/);
  });

  test('a button click from someone off the allow-list changes nothing', async () => {
    const before = slack.calls.length;
    const r = await sendSigned(
      events,
      blockActions({ user_id: 'U9STRANGER', channel_id: OPS_CHANNEL, message_ts: '1.2', action_id: 'mesh_resume', value: '{"w":"rollout-x","s":"boot","t":"t","n":0}', response_url: slack.responseUrl('click-stranger') }),
    );
    assert.equal(r.status, 200);
    const reply = await slack.waitFor('the refusal', () => slack.responses.find((x) => x.id === 'click-stranger'));
    assert.match(String(reply.body.text), /not on the list/);
    assert.equal(reply.body.response_type, 'ephemeral');
    assert.equal(slack.calls.length, before, 'no message posted or updated');
  });

  test('/mesh detach starts nothing: it answers with a Detach button behind a confirm dialog', async () => {
    const before = slack.calls.length;
    await sendSigned(events, mesh('detach usa-europe cluster-asia region closed'));
    const reply = await slack.waitFor('the confirm reply', () => slack.responses.find((r) => r.id === 'cmd-detach-usa-europe-cluster-asia-region-closed'));
    assert.equal(reply.body.response_type, 'ephemeral');
    const blocks = JSON.stringify(reply.body.blocks);
    assert.match(blocks, /Detach cluster-asia from usa-europe\?/);
    assert.match(blocks, /"action_id":"mesh_detach"/);
    assert.match(blocks, /"confirm":\{/);
    assert.match(blocks, /nothing is uninstalled or wiped/);
    assert.equal(slack.calls.length, before, 'nothing posted to a channel');

    await sendSigned(events, mesh('detach usa-europe Cluster_Asia region closed'));
    const bad = await slack.waitFor('the refusal', () => slack.responses.find((r) => r.id === 'cmd-detach-usa-europe-Cluster_Asia-region-closed'));
    assert.match(String(bad.body.text), /^The cluster name: "Cluster_Asia" is not a cluster name/);
  });

  test('a Detach click from someone off the allow-list starts nothing', async () => {
    await sendSigned(
      events,
      blockActions({ user_id: 'U9STRANGER', channel_id: OPS_CHANNEL, message_ts: '1.3', action_id: 'mesh_detach', value: '{"m":"usa-europe","c":"cluster-asia","r":"region closed"}', response_url: slack.responseUrl('detach-stranger') }),
    );
    const reply = await slack.waitFor('the refusal', () => slack.responses.find((x) => x.id === 'detach-stranger'));
    assert.match(String(reply.body.text), /not on the list/);
  });

  test('blueprint names are names: traversal is refused in the reply', async () => {
    await sendSigned(events, mesh('plan ../../etc/passwd'));
    const reply = await slack.waitFor('the refusal', () => slack.responses.find((r) => r.id === 'cmd-plan-etc-passwd'));
    assert.match(String(reply.body.text), /is not a blueprint name/);
  });

  test('a schedule interval that is not a duration is named in chat\'s words, not as a CLI flag', async () => {
    await sendSigned(events, mesh('schedule usa-europe soon'));
    const reply = await slack.waitFor('the schedule reply', () => slack.responses.find((r) => r.id === 'cmd-schedule-usa-europe-soon'));
    assert.equal(reply.body.text, 'The interval "soon" is not a duration like 6h, 30m or 1d12h');
  });

  test('a signed request is accepted once: the same bytes again are answered "already done" and never reach a handler (#12, case 3)', async () => {
    const body = mesh('plan usa-europe');
    const ts = Math.floor(Date.now() / 1000);
    const first = await sendSigned(events, body, { timestamp: ts });
    assert.match(String(first.json?.text), /^Working on `\/mesh plan usa-europe`/);
    const again = await sendSigned(events, body, { timestamp: ts });
    assert.equal(again.status, 200);
    assert.equal(again.json?.response_type, 'ephemeral');
    assert.match(String(again.json?.text), /^Already done: this exact request was received at .* and is not run twice\.$/);
    assert.match(logs.join('\n'), /refused a replayed request/);
  });

  test('with Temporal down, chat names Temporal and its address (#12, case 11)', { timeout: 180_000 }, async () => {
    await sendSigned(events, mesh('status'));
    // The SDK retries an unavailable server for about 20 s before giving up; Slack's response_url lasts 30 min.
    const reply = await slack.waitFor('the status reply', () => slack.responses.find((r) => r.id === 'cmd-status'), 120_000);
    assert.match(String(reply.body.text), /^Temporal at 127\.0\.0\.1:1 is not reachable \(.*ECONNREFUSED.*\): is the server up, and does TEMPORAL_ADDRESS point at it\?$/);
  });
});

describe('meshpilot chat: blueprint replies show no server paths (#12, case 11)', () => {
  let slack: FakeSlack;
  let chat: RunningChatApp;
  let client: Client;
  let root: string;
  let events: string;

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-chat-paths-'));
    const dir = path.join(root, 'blueprints');
    mkdirSync(dir);
    const seed = readFileSync(path.join(projectRoot, 'examples', 'usa-europe.yaml'), 'utf8');
    writeFileSync(path.join(dir, 'usa-europe.yaml'), seed);
    writeFileSync(path.join(dir, 'broken.yaml'), seed.replace('podSubnets: [10.2.0.0/16]', 'podSubnets: [10.1.0.0/16]'));
    writeFileSync(path.join(root, 'private.yaml'), seed);
    symlinkSync(path.join(root, 'private.yaml'), path.join(dir, 'outside.yaml'));
    slack = await startFakeSlack();
    ({ chat, client } = await startOfflineChat(slack, dir));
    events = `${chat.url}/slack/events`;
  });
  after(async () => {
    await chat?.stop();
    await client?.connection.close().catch(() => undefined);
    await slack?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const ask = async (text: string, id: string) => {
    await sendSigned(events, slashCommand({ text, user_id: OPS_USER, channel_id: OPS_CHANNEL, response_url: slack.responseUrl(id) }));
    return String((await slack.waitFor(id, () => slack.responses.find((r) => r.id === id))).body.text);
  };

  test('an invalid blueprint is reported by file name and line, never by where the server keeps it', async () => {
    const text = await ask('plan broken', 'broken');
    assert.match(text, /^Blueprint `broken` is not valid:\n• broken\.yaml:\d+: clusters\[1\]\.network\.podSubnets\[0\]: pod subnet 10\.1\.0\.0\/16 of cluster-europe overlaps/);
    assert.ok(!text.includes(root), text);
    assert.ok(!text.includes(os.tmpdir()), text);
  });

  test('"available:" names only blueprints inside the directory; a link leading out is neither listed nor read', async () => {
    assert.equal(await ask('plan nope', 'nope'), 'no blueprint named nope (available: broken, usa-europe)');
    assert.equal(await ask('plan outside', 'outside'), 'blueprint outside points outside the blueprint directory');
  });
});

describe('meshpilot chat: start-up', () => {
  test('a token Slack rejects stops start-up with a clear error that does not echo it', async () => {
    const slack = await startFakeSlack();
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    try {
      slack.failNext('auth.test', { error: 'invalid_auth' });
      await assert.rejects(
        startChatApp(
          {
            env: loadChatEnv({ SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-revoked-123', MESHPILOT_BLUEPRINT_DIR: projectRoot, SLACK_API_URL: slack.apiUrl }),
            client,
            namespace: 'default',
            taskQueue: 'unused',
            log: () => undefined,
          },
          { port: 0, host: '127.0.0.1' },
        ),
        (err: Error) => /Slack rejected SLACK_BOT_TOKEN/.test(err.message) && /invalid_auth/.test(err.message) && !err.message.includes('xoxb-revoked'),
      );
    } finally {
      await slack.close();
    }
  });

  test('settings errors name each variable and never echo secrets', () => {
    assert.throws(
      () => loadChatEnv({ SLACK_SIGNING_SECRET: 'short', SLACK_BOT_TOKEN: 'xoxp-user-token-1234', SLACK_ALLOWED_CHANNELS: 'ops', MESHPILOT_BLUEPRINT_DIR: '/does/not/exist' }),
      (err: Error) =>
        /SLACK_SIGNING_SECRET/.test(err.message) &&
        /SLACK_BOT_TOKEN: expected the bot token/.test(err.message) &&
        /SLACK_ALLOWED_CHANNELS: expected a comma list of Slack channel IDs/.test(err.message) &&
        /MESHPILOT_BLUEPRINT_DIR: not an existing directory/.test(err.message) &&
        !err.message.includes('xoxp-user') &&
        !err.message.includes('"short"'),
    );
  });
});
