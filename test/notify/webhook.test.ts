import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { WebhookNotifier, webhookPayloadSchema, webhookSignature, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from '../../notify/webhook.ts';
import { type NotifyError, type Notifier } from '../../notify/notifier.ts';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
}

describe('WebhookNotifier', () => {
  let server: Server;
  let url: string;
  const received: Received[] = [];
  let nextStatus = 200;
  before(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      received.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(nextStatus);
      res.end();
      nextStatus = 200;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T0/SECRETPATH`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('posts the generic message as JSON, then an update tied to the same ref', async () => {
    const n: Notifier = new WebhookNotifier({ url });
    const ref = await n.post({ title: 'drift on usa-europe', state: 'warning', fields: [{ label: 'cluster', value: 'cluster-usa' }], channel: 'ops' });
    await n.update(ref, { title: 'drift on usa-europe: fixed', state: 'completed' });
    const [p, u] = received.slice(-2).map((r) => webhookPayloadSchema.parse(JSON.parse(r.raw)));
    assert.equal(p?.event, 'message.posted');
    assert.equal(u?.event, 'message.updated');
    assert.equal(p?.ref.id, ref.id);
    assert.equal(u?.ref.id, ref.id);
    assert.deepEqual(p?.message.fields, [{ label: 'cluster', value: 'cluster-usa' }]);
    assert.deepEqual(u?.message.actions, []);
    assert.equal(received.at(-1)?.headers[WEBHOOK_SIGNATURE_HEADER], undefined);
  });

  test('with a secret, the receiver can verify the HMAC over timestamp and body', async () => {
    const n = new WebhookNotifier({ url, secret: 'shared-secret', now: () => new Date('2026-01-02T03:04:05Z') });
    await n.post({ title: 't', state: 'info' });
    const r = received.at(-1)!;
    const ts = String(r.headers[WEBHOOK_TIMESTAMP_HEADER]);
    assert.equal(ts, String(Date.parse('2026-01-02T03:04:05Z') / 1000));
    const got = Buffer.from(String(r.headers[WEBHOOK_SIGNATURE_HEADER]));
    const want = Buffer.from(webhookSignature('shared-secret', ts, r.raw));
    assert.ok(got.length === want.length && timingSafeEqual(got, want));
    assert.notEqual(webhookSignature('other', ts, r.raw), String(r.headers[WEBHOOK_SIGNATURE_HEADER]));
  });

  test('5xx is retryable, 4xx is not, and errors show the origin but never the secret path', async () => {
    const n = new WebhookNotifier({ url });
    nextStatus = 502;
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => e.retryable && !e.message.includes('SECRETPATH'));
    nextStatus = 403;
    await assert.rejects(n.post({ title: 't', state: 'info' }), (e: NotifyError) => !e.retryable && /secret/.test(e.hint ?? ''));
  });

  test('an update through the wrong adapter is refused', async () => {
    const n = new WebhookNotifier({ url });
    await assert.rejects(n.update({ adapter: 'slack', channel: 'C1', id: '1.2' }, { title: 't', state: 'info' }), /slack adapter/);
  });
});
