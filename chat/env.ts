// The chat app's settings. Validated once at start-up; every error names the variable and never echoes a secret.
import { statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/env.ts';
import { DEFAULT_SLACK_API_URL } from '../notify/slack.ts';

const idList = (pattern: RegExp, what: string) =>
  z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((ids) => ids.every((id) => pattern.test(id)), `expected a comma list of Slack ${what} IDs (for example ${what === 'user' ? 'U2CERLKJA,W012A3CDE' : 'C0123ABCD,G8PSS9T3V'})`);

const directory = z
  .string()
  .min(1)
  .refine((p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  }, 'not an existing directory');

const chatEnvSchema = z.object({
  SLACK_SIGNING_SECRET: z.string().min(8, 'set it to the app\'s Signing Secret (Basic Information → App Credentials)'),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-[A-Za-z0-9-]+$/, 'expected the bot token (xoxb-…) from OAuth & Permissions'),
  /** who may run mutating commands (rollout, resume, abort, verify) and press buttons; empty = nobody */
  SLACK_ALLOWED_USERS: idList(/^[UW][A-Z0-9]{2,20}$/, 'user'),
  /** where mutating commands and buttons are accepted; empty = nowhere */
  SLACK_ALLOWED_CHANNELS: idList(/^[CGD][A-Z0-9]{2,20}$/, 'channel'),
  MESHPILOT_BLUEPRINT_DIR: directory,
  MESHPILOT_UI_URL: z.url().optional(),
  SLACK_API_URL: z.url().default(DEFAULT_SLACK_API_URL).transform((u) => u.replace(/\/?$/, '/')),
});

export type ChatEnv = z.infer<typeof chatEnvSchema>;

const SECRET_KEYS = new Set(['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN']);
const REQUIRED_HINT: Record<string, string> = {
  SLACK_SIGNING_SECRET: "the app's Signing Secret, from Basic Information → App Credentials",
  SLACK_BOT_TOKEN: 'the bot token (xoxb-…), from OAuth & Permissions after installing the app',
  MESHPILOT_BLUEPRINT_DIR: 'the directory /mesh reads blueprints from by name, e.g. examples',
};

export function loadChatEnv(source: NodeJS.ProcessEnv = process.env): ChatEnv {
  const picked = Object.fromEntries(
    Object.keys(chatEnvSchema.shape)
      .map((k) => [k, source[k]] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = chatEnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? 'environment');
      if (!(key in picked)) return `  ${key}: required, not set (${REQUIRED_HINT[key] ?? i.message})`;
      return `  ${key}: ${i.message} (got ${SECRET_KEYS.has(key) ? '<redacted>' : JSON.stringify(picked[key])})`;
    });
    throw new ConfigError(`invalid meshpilot chat configuration:\n${lines.join('\n')}`);
  }
  return { ...parsed.data, MESHPILOT_BLUEPRINT_DIR: path.resolve(parsed.data.MESHPILOT_BLUEPRINT_DIR) };
}
