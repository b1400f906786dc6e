// Requests the way Slack sends them: form bodies, signed with the app's signing secret.
import { randomBytes } from 'node:crypto';
import { slackSignature } from '../../chat/signature.ts';

/** Slack gives every command and click its own trigger_id (meshpilot's idempotency key for it). */
const triggerId = () => `398738663015.47445629121.${randomBytes(16).toString('hex')}`;

export const SIGNING_SECRET = 'test-signing-secret-0123456789';

export interface SendOptions {
  secret?: string;
  /** unix seconds; default now */
  timestamp?: number;
  contentType?: string;
  signature?: string;
}

export async function sendSigned(url: string, body: string, opts: SendOptions = {}): Promise<{ status: number; text: string; json?: Record<string, unknown> }> {
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': opts.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': opts.signature ?? slackSignature(opts.secret ?? SIGNING_SECRET, ts, body),
    },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export function slashCommand(fields: { text: string; user_id: string; channel_id: string; response_url: string; command?: string }): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T0FAKE',
    team_domain: 'fake',
    channel_id: fields.channel_id,
    channel_name: 'ops',
    user_id: fields.user_id,
    user_name: 'operator',
    command: fields.command ?? '/mesh',
    text: fields.text,
    api_app_id: 'A0FAKE',
    response_url: fields.response_url,
    trigger_id: triggerId(),
  }).toString();
}

/** A button click: Slack posts `payload=<json>` with type block_actions. */
export function blockActions(fields: { user_id: string; channel_id: string; message_ts: string; action_id: string; value?: string; response_url: string }): string {
  const payload = {
    type: 'block_actions',
    user: { id: fields.user_id, username: 'operator', name: 'operator', team_id: 'T0FAKE' },
    api_app_id: 'A0FAKE',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: fields.message_ts, channel_id: fields.channel_id, is_ephemeral: false },
    trigger_id: triggerId(),
    team: { id: 'T0FAKE', domain: 'fake' },
    channel: { id: fields.channel_id, name: 'ops' },
    message: { type: 'message', ts: fields.message_ts, user: 'U0BOT', bot_id: 'B0BOT', text: '', blocks: [] },
    response_url: fields.response_url,
    actions: [
      {
        type: 'button',
        action_id: fields.action_id,
        block_id: 'meshpilot-actions-0',
        text: { type: 'plain_text', text: 'Resume' },
        ...(fields.value !== undefined ? { value: fields.value } : {}),
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
