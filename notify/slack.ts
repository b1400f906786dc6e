// The Slack adapter: chat.postMessage / chat.update with the bot token. Long runs post and update with the
// token because a slash command's response_url takes only 5 replies in 30 minutes.
import { z } from 'zod';
import type { MessageRef, RolloutMessage } from './message.ts';
import { assertOwnRef, NotifyError, type Attachment, type Notifier } from './notifier.ts';
import { toSlackBlocks } from './slack-blocks.ts';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

export interface SlackApiOptions {
  /** bot token (xoxb-…): resolved by the caller, never logged */
  token: string;
  /** Web API base, ending in `/`; tests point it at a loopback fake */
  apiUrl?: string;
  timeoutMs?: number;
}

const slackReply = z.looseObject({ ok: z.boolean(), error: z.string().optional() });

/** Slack error codes a retry can fix, and the ones an operator has to fix (with what to do). */
const RETRYABLE = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
const HINTS: Record<string, string> = {
  invalid_auth: 'SLACK_BOT_TOKEN is not a valid bot token for this workspace (reinstall the app and copy the xoxb- token)',
  not_authed: 'set SLACK_BOT_TOKEN to the app\'s bot token (xoxb-…)',
  account_inactive: 'the app was uninstalled or its token revoked: reinstall it and update SLACK_BOT_TOKEN',
  token_revoked: 'the app was uninstalled or its token revoked: reinstall it and update SLACK_BOT_TOKEN',
  missing_scope: 'add the chat:write scope (and files:write for rollout timelines) to the app (OAuth & Permissions) and reinstall it',
  channel_not_found: 'invite the bot to the channel (/invite @meshpilot), or give it chat:write.public for public channels',
  not_in_channel: 'invite the bot to the channel (/invite @meshpilot), or give it chat:write.public for public channels',
  message_not_found: 'the message was deleted; a new one is posted on the next change',
  cant_update_message: 'only messages the bot posted can be updated',
  invalid_blocks: 'a rendered message broke a Block Kit limit: report it with the rollout id',
};

/** A minimal Web API caller (JSON over fetch): the adapter works outside Bolt, e.g. from an activity. */
export class SlackWebApi {
  private readonly base: string;
  constructor(private readonly opts: SlackApiOptions) {
    if (!opts.token) throw new NotifyError('slack: no bot token', false, 'set SLACK_BOT_TOKEN');
    this.base = (opts.apiUrl ?? DEFAULT_SLACK_API_URL).replace(/\/?$/, '/');
  }

  async call<T extends z.ZodType>(method: string, body: Record<string, unknown>, schema: T, encoding: 'json' | 'form' = 'json'): Promise<z.infer<T>> {
    let res: Response;
    try {
      // files.getUploadURLExternal refuses JSON bodies: the upload methods go form-encoded
      const form = encoding === 'form';
      res = await fetch(`${this.base}${method}`, {
        method: 'POST',
        headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json; charset=utf-8', authorization: `Bearer ${this.opts.token}` },
        body: form ? new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString() : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new NotifyError(`slack ${method}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : `cannot reach ${new URL(this.base).host}: ${(err as Error).message}`}`, true);
    }
    if (res.status === 429) {
      const after = Number(res.headers.get('retry-after') ?? '1');
      throw new NotifyError(`slack ${method}: rate limited`, true, undefined, Number.isFinite(after) ? after : 1);
    }
    if (res.status >= 500) throw new NotifyError(`slack ${method}: HTTP ${res.status}`, true);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new NotifyError(`slack ${method}: HTTP ${res.status}, not a JSON reply`, res.status >= 500);
    }
    const head = slackReply.safeParse(json);
    if (!head.success) throw new NotifyError(`slack ${method}: unexpected reply (no "ok" field)`, false);
    if (!head.data.ok) {
      const code = head.data.error ?? 'unknown_error';
      throw new NotifyError(`slack ${method}: ${code}`, RETRYABLE.has(code), HINTS[code]);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new NotifyError(`slack ${method}: unexpected reply: ${parsed.error.issues[0]?.message ?? ''}`, false);
    return parsed.data;
  }
}

const postReply = z.looseObject({ ok: z.literal(true), channel: z.string().min(1), ts: z.string().min(1) });
const uploadUrlReply = z.looseObject({ ok: z.literal(true), upload_url: z.url(), file_id: z.string().min(1) });
const okReply = z.looseObject({ ok: z.literal(true) });

export interface SlackNotifierOptions extends SlackApiOptions {
  /** where messages without a `channel` go */
  defaultChannel?: string;
}

export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  private readonly api: SlackWebApi;
  constructor(private readonly opts: SlackNotifierOptions) {
    this.api = new SlackWebApi(opts);
  }

  async post(msg: RolloutMessage): Promise<MessageRef> {
    const channel = msg.channel ?? this.opts.defaultChannel;
    if (!channel) throw new NotifyError('slack: message has no channel and no default channel is set', false, 'pass channel, or configure a default');
    const { text, blocks } = toSlackBlocks(msg);
    const r = await this.api.call('chat.postMessage', { channel, text, blocks, unfurl_links: false, unfurl_media: false }, postReply);
    return { adapter: this.name, channel: r.channel, id: r.ts };
  }

  async update(ref: MessageRef, msg: RolloutMessage): Promise<void> {
    assertOwnRef(this, ref);
    const { text, blocks } = toSlackBlocks(msg);
    await this.api.call('chat.update', { channel: ref.channel, ts: ref.id, text, blocks }, okReply);
  }

  /** Slack's external upload (files.upload is retired): reserve, send the bytes, then share in the message's thread. */
  async attach(ref: MessageRef, file: Attachment): Promise<void> {
    assertOwnRef(this, ref);
    const bytes = Buffer.from(file.content, 'utf8');
    const slot = await this.api.call('files.getUploadURLExternal', { filename: file.filename, length: String(bytes.length) }, uploadUrlReply, 'form');
    let res: Response;
    try {
      res = await fetch(slot.upload_url, { method: 'POST', body: bytes, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) });
    } catch (err) {
      throw new NotifyError(`slack file upload: ${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}`, true);
    }
    if (!res.ok) throw new NotifyError(`slack file upload: HTTP ${res.status}`, res.status >= 500);
    await this.api.call(
      'files.completeUploadExternal',
      { files: [{ id: slot.file_id, title: file.title }], channel_id: ref.channel, thread_ts: ref.id, ...(file.comment ? { initial_comment: file.comment } : {}) },
      okReply,
      'form',
    );
  }
}
