import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SlackNotifier } from '../../notify/slack.ts';
import { escapeMrkdwn, toSlackBlocks } from '../../notify/slack-blocks.ts';
import { NotifyError } from '../../notify/notifier.ts';
import type { RolloutMessage } from '../../notify/message.ts';
import { startFakeSlack, type FakeSlack } from './fake-slack.ts';

const paused: RolloutMessage = {
  title: 'usa-europe paused at cluster-europe/clustermesh-address',
  state: 'paused',
  text: 'clustermesh-apiserver Service stuck in <pending> & no IP\nhint: add a free pool',
  fields: [
    { label: 'Cluster', value: 'cluster-europe' },
    { label: 'Started by', value: 'slack:U2CERLKJA' },
  ],
  actions: [
    { id: 'mesh_resume', label: 'Resume', style: 'primary', value: '{"w":"rollout-x"}' },
    { id: 'mesh_abort', label: 'Abort', style: 'danger', value: '{"w":"rollout-x"}', confirm: { title: 'Abort?', text: 'Stops rollout-x', confirm: 'Abort', deny: 'Keep' } },
    { id: 'mesh_open_ui', label: 'Open in Temporal UI', url: 'http://127.0.0.1:8233/namespaces/default/workflows/rollout-x' },
  ],
  footer: 'rollout-x · started by slack:U2CERLKJA',
  channel: 'C0CHAN',
};

describe('Slack Block Kit rendering', () => {
  test('escapes Slack control characters from tool output and turns audit ids into mentions', () => {
    const { text, blocks } = toSlackBlocks(paused);
    const section = blocks.find((b) => b.type === 'section' && 'text' in b) as { text: { text: string } };
    assert.match(section.text.text, /stuck in &lt;pending&gt; &amp; no IP/);
    const fields = (blocks.find((b) => 'fields' in b) as { fields: Array<{ text: string }> }).fields;
    assert.equal(fields[1]?.text, '*Started by*\n<@U2CERLKJA>');
    assert.equal(text, 'usa-europe paused at cluster-europe/clustermesh-address: clustermesh-apiserver Service stuck in <pending> & no IP');
    assert.equal(escapeMrkdwn('<@U1>'), '&lt;@U1&gt;');
  });

  test('buttons carry action ids, values, styles, a confirm dialog on Abort and a URL on the UI link', () => {
    const actions = toSlackBlocks(paused).blocks.find((b) => b.type === 'actions') as { elements: Array<Record<string, any>> };
    assert.deepEqual(actions.elements.map((e) => e.action_id), ['mesh_resume', 'mesh_abort', 'mesh_open_ui']);
    assert.equal(actions.elements[0]?.style, 'primary');
    assert.equal(actions.elements[1]?.confirm.confirm.text, 'Abort');
    assert.equal(actions.elements[1]?.confirm.style, 'danger');
    assert.equal(actions.elements[2]?.url, paused.actions![2]!.url);
    assert.equal(actions.elements[2]?.value, undefined);
  });

  test('keeps within Block Kit limits: header 150 chars, 10 fields per section, text 3000', () => {
    const big: RolloutMessage = {
      title: 'x'.repeat(400),
      state: 'warning',
      text: 'y'.repeat(5000),
      fields: Array.from({ length: 23 }, (_, i) => ({ label: `f${i}`, value: 'z'.repeat(3000) })),
    };
    const { blocks } = toSlackBlocks(big);
    const header = blocks[0] as { text: { text: string } };
    assert.ok(header.text.text.length <= 150);
    const sections = blocks.filter((b) => 'fields' in b) as Array<{ fields: Array<{ text: string }> }>;
    assert.deepEqual(sections.map((s) => s.fields.length), [10, 10, 3]);
    assert.ok(sections.every((s) => s.fields.every((f) => f.text.length <= 2000)));
    const text = blocks.find((b) => b.type === 'section' && 'text' in b) as { text: { text: string } };
    assert.ok(text.text.text.length <= 3000);
  });
});

describe('SlackNotifier against a loopback Web API', () => {
  let slack: FakeSlack;
  before(async () => {
    slack = await startFakeSlack();
  });
  after(async () => {
    await slack.close();
  });

  test('posts with the bot token as a bearer header, then updates the same message in place', async () => {
    const n = new SlackNotifier({ token: 'xoxb-test-token', apiUrl: slack.apiUrl });
    const ref = await n.post(paused);
    assert.deepEqual({ adapter: ref.adapter, channel: ref.channel }, { adapter: 'slack', channel: 'C0CHAN' });
    const call = slack.calls.find((c) => c.method === 'chat.postMessage')!;
    assert.equal(call.authorization, 'Bearer xoxb-test-token');
    assert.match(call.contentType ?? '', /^application\/json/);
    await n.update(ref, { ...paused, state: 'running', title: 'resumed', text: 'by slack:U1', actions: [] });
    const stored = slack.messages.get(ref.id)!;
    assert.equal(stored.versions, 2);
    assert.equal(stored.text, 'resumed: by slack:U1');
    assert.equal(stored.blocks.some((b) => b.type === 'actions'), false);
  });

  test('a message without a channel and no default is refused before any call', async () => {
    const n = new SlackNotifier({ token: 'xoxb-test-token', apiUrl: slack.apiUrl });
    const before = slack.calls.length;
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => e instanceof NotifyError && !e.retryable);
    assert.equal(slack.calls.length, before);
  });

  test('classifies failures: not_in_channel needs a person (hint), 429 and 5xx are retryable', async () => {
    const n = new SlackNotifier({ token: 'xoxb-test-token', apiUrl: slack.apiUrl, defaultChannel: 'C0CHAN' });
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => !e.retryable && /invite the bot/.test(e.hint ?? ''));
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => e.retryable && e.retryAfterS === 7);
    slack.failNext('chat.postMessage', { status: 503 });
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => e.retryable);
  });

  test('a bad token fails with a hint naming SLACK_BOT_TOKEN and never echoes the token', async () => {
    const n = new SlackNotifier({ token: 'xoxp-wrong-kind-of-token', apiUrl: slack.apiUrl, defaultChannel: 'C0CHAN' });
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => {
      assert.match(e.hint ?? '', /SLACK_BOT_TOKEN/);
      assert.doesNotMatch(`${e.message} ${e.hint}`, /wrong-kind/);
      return true;
    });
  });

  test('an unreachable API is a retryable failure naming the host only', async () => {
    const n = new SlackNotifier({ token: 'xoxb-secret-1234', apiUrl: 'http://127.0.0.1:9/api/', defaultChannel: 'C0CHAN', timeoutMs: 2000 });
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => e.retryable && !e.message.includes('xoxb'));
  });
});
