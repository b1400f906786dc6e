// The generic webhook adapter: POST the message as JSON to any URL (an incident tool, a Teams/Mattermost
// bridge, a log sink). An optional shared secret signs each body so the receiver can trust it.
import { createHmac, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { rolloutMessageSchema, type MessageRef, type RolloutMessage } from './message.ts';
import { assertOwnRef, NotifyError, type Notifier } from './notifier.ts';

export const WEBHOOK_SIGNATURE_HEADER = 'x-meshpilot-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-meshpilot-timestamp';

/** What the receiver gets: `ref.id` ties an update to the message it replaces. */
export const webhookPayloadSchema = z.object({
  event: z.enum(['message.posted', 'message.updated']),
  ref: z.object({ adapter: z.literal('webhook'), channel: z.string(), id: z.string().min(1) }),
  message: rolloutMessageSchema,
  sentAt: z.iso.datetime(),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/**
 * `v1=` + hex HMAC-SHA256(secret, `<timestamp>.<body>`): the timestamp is signed too, so a receiver can refuse
 * replays the way Slack's scheme does.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface WebhookNotifierOptions {
  url: string;
  /** shared secret for the signature header; resolved by the caller, never logged */
  secret?: string;
  timeoutMs?: number;
  now?: () => Date;
}

export class WebhookNotifier implements Notifier {
  readonly name = 'webhook';
  private readonly url: URL;
  constructor(private readonly opts: WebhookNotifierOptions) {
    try {
      this.url = new URL(opts.url);
    } catch {
      throw new NotifyError('webhook: url is not a valid URL', false, 'set an http(s) URL');
    }
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') throw new NotifyError('webhook: url must be http or https', false);
  }

  async post(msg: RolloutMessage): Promise<MessageRef> {
    const ref: MessageRef = { adapter: this.name, channel: msg.channel ?? '', id: randomUUID() };
    await this.send('message.posted', ref, msg);
    return ref;
  }

  async update(ref: MessageRef, msg: RolloutMessage): Promise<void> {
    assertOwnRef(this, ref);
    await this.send('message.updated', ref, msg);
  }

  private async send(event: WebhookPayload['event'], ref: MessageRef, msg: RolloutMessage): Promise<void> {
    const now = (this.opts.now ?? (() => new Date()))();
    const payload: WebhookPayload = { event, ref: { adapter: 'webhook', channel: ref.channel, id: ref.id }, message: rolloutMessageSchema.parse(msg), sentAt: now.toISOString() };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'meshpilot-notify' };
    if (this.opts.secret) {
      const ts = String(Math.floor(now.getTime() / 1000));
      headers[WEBHOOK_TIMESTAMP_HEADER] = ts;
      headers[WEBHOOK_SIGNATURE_HEADER] = webhookSignature(this.opts.secret, ts, body);
    }
    // Only the origin goes into errors: webhook paths often embed a token (Slack, Teams, Mattermost hooks).
    const where = this.url.origin;
    let res: Response;
    try {
      res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000) });
    } catch (err) {
      throw new NotifyError(`webhook ${where}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : `unreachable: ${(err as Error).message}`}`, true);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return;
    const retryable = res.status === 429 || res.status >= 500 || res.status === 408;
    const after = Number(res.headers.get('retry-after'));
    throw new NotifyError(
      `webhook ${where}: HTTP ${res.status}`,
      retryable,
      res.status === 401 || res.status === 403 ? 'the receiver refused the request: check the shared secret' : undefined,
      Number.isFinite(after) && after > 0 ? after : undefined,
    );
  }
}
