// The notification model every adapter renders. Generic on purpose (title, state, fields, actions): rollout
// progress, pauses and drift reports all fit it, and a new chat tool only has to render these five things.
import { z } from 'zod';

export const MESSAGE_STATES = ['info', 'running', 'paused', 'completed', 'failed', 'aborted', 'warning'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

export const messageFieldSchema = z.object({
  label: z.string().min(1),
  value: z.string(),
});
export type MessageField = z.infer<typeof messageFieldSchema>;

/** Asks "are you sure?" before an action is sent (Slack: a confirm dialog). */
export const confirmSchema = z.object({
  title: z.string().min(1),
  text: z.string().min(1),
  confirm: z.string().min(1),
  deny: z.string().min(1),
});

/**
 * A button. `url` makes it a plain link (no callback); otherwise `id` names the handler and `value` is handed
 * back to it verbatim when someone presses it (adapters without buttons show links only).
 */
export const messageActionSchema = z.object({
  id: z.string().regex(/^[a-z0-9_.:-]{1,64}$/, 'action id: lower-case letters, digits and _.:- (at most 64)'),
  label: z.string().min(1).max(75),
  style: z.enum(['primary', 'danger']).optional(),
  value: z.string().max(2000).optional(),
  url: z.url().optional(),
  confirm: confirmSchema.optional(),
});
export type MessageAction = z.infer<typeof messageActionSchema>;

export const rolloutMessageSchema = z.object({
  title: z.string().min(1),
  state: z.enum(MESSAGE_STATES),
  /** a few sentences: the reason and the hint when paused, the outcome when finished */
  text: z.string().optional(),
  fields: z.array(messageFieldSchema).default([]),
  actions: z.array(messageActionSchema).default([]),
  /** small print: who started it, the workflow id */
  footer: z.string().optional(),
  /** where to post (a Slack channel id); adapters fall back to their configured default */
  channel: z.string().optional(),
});
export type RolloutMessage = z.input<typeof rolloutMessageSchema>;

/** What `post` returns and `update` takes: enough for the adapter to find the message again. */
export const messageRefSchema = z.object({
  adapter: z.string().min(1),
  channel: z.string(),
  id: z.string().min(1),
});
export type MessageRef = z.infer<typeof messageRefSchema>;

/** The one-line form of a message: notification previews, plain-text fallbacks, logs. */
export function plainSummary(msg: RolloutMessage): string {
  return msg.text ? `${msg.title}: ${firstLine(msg.text)}` : msg.title;
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
