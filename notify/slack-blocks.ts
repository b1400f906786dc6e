// RolloutMessage → Slack Block Kit. Pure, so the limits Slack enforces (lengths, counts) are tested here
// rather than discovered as `invalid_blocks` in production.
import { plainSummary, type MessageAction, type RolloutMessage } from './message.ts';

const STATE_EMOJI: Record<RolloutMessage['state'], string> = {
  info: ':information_source:',
  running: ':arrows_counterclockwise:',
  paused: ':double_vertical_bar:',
  completed: ':white_check_mark:',
  failed: ':x:',
  aborted: ':black_square_for_stop:',
  warning: ':warning:',
};

// Slack's documented limits for the block elements used here.
const HEADER_MAX = 150;
const SECTION_TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const BUTTONS_PER_BLOCK = 25;
const CONTEXT_MAX = 3000;
const FALLBACK_MAX = 4000;

export type SlackBlock = Record<string, unknown>;

export interface SlackRendered {
  text: string;
  blocks: SlackBlock[];
}

/** Text from a tool ("stuck in <pending>") must not turn into Slack markup: escape the three control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Our audit ids for Slack users (`slack:U123ABC`) become real mentions; everything else stays literal. */
function withMentions(escaped: string): string {
  return escaped.replace(/\bslack:([UW][A-Z0-9]{2,20})\b/g, '<@$1>');
}

function mrkdwn(text: string): string {
  return withMentions(escapeMrkdwn(text));
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function plain(text: string, max: number) {
  return { type: 'plain_text', text: clip(text, max), emoji: true };
}

function button(a: MessageAction): SlackBlock {
  return {
    type: 'button',
    action_id: a.id,
    text: plain(a.label, 75),
    ...(a.style ? { style: a.style } : {}),
    ...(a.value !== undefined ? { value: a.value } : {}),
    ...(a.url ? { url: a.url } : {}),
    ...(a.confirm
      ? {
          confirm: {
            title: plain(a.confirm.title, 100),
            text: { type: 'mrkdwn', text: clip(mrkdwn(a.confirm.text), 300) },
            confirm: plain(a.confirm.confirm, 30),
            deny: plain(a.confirm.deny, 30),
            ...(a.style === 'danger' ? { style: 'danger' } : {}),
          },
        }
      : {}),
  };
}

export function toSlackBlocks(msg: RolloutMessage): SlackRendered {
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(`${STATE_EMOJI[msg.state]} ${msg.title}`, HEADER_MAX) }];
  if (msg.text) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(mrkdwn(msg.text), SECTION_TEXT_MAX) } });
  }
  const fields = msg.fields ?? [];
  for (let i = 0; i < fields.length; i += FIELDS_PER_SECTION) {
    blocks.push({
      type: 'section',
      fields: fields.slice(i, i + FIELDS_PER_SECTION).map((f) => ({
        type: 'mrkdwn',
        text: clip(`*${escapeMrkdwn(f.label)}*\n${mrkdwn(f.value || '—')}`, FIELD_MAX),
      })),
    });
  }
  const actions = msg.actions ?? [];
  for (let i = 0; i < actions.length; i += BUTTONS_PER_BLOCK) {
    blocks.push({ type: 'actions', block_id: `meshpilot-actions-${i / BUTTONS_PER_BLOCK}`, elements: actions.slice(i, i + BUTTONS_PER_BLOCK).map(button) });
  }
  if (msg.footer) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(mrkdwn(msg.footer), CONTEXT_MAX) }] });
  return { text: clip(plainSummary(msg), FALLBACK_MAX), blocks };
}

