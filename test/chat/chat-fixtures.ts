// What the chat tests share: the allow-listed operator, the settings pointing at the fake Slack, and a blueprint
// directory the lab can roll out.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseDocument } from 'yaml';
import { startChatApp, type RunningChatApp } from '../../chat/app.ts';
import { loadChatEnv, type ChatEnv } from '../../chat/env.ts';
import { SEED_BLUEPRINT } from '../helpers/lab-worker.ts';
import type { FakeSlack } from '../notify/fake-slack.ts';
import { SIGNING_SECRET } from './slack-requests.ts';

export const OPS_USER = 'U1OPS';
export const OPS_CHANNEL = 'C1OPS';

/** The chat app's settings against the fake Slack, with OPS_USER in OPS_CHANNEL allowed to change things. */
export function testChatEnv(slack: FakeSlack, blueprintDir: string, extra: Record<string, string> = {}): ChatEnv {
  return loadChatEnv({
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_ALLOWED_USERS: OPS_USER,
    SLACK_ALLOWED_CHANNELS: OPS_CHANNEL,
    MESHPILOT_BLUEPRINT_DIR: blueprintDir,
    SLACK_API_URL: slack.apiUrl,
    ...extra,
  });
}

/**
 * A blueprint directory chat reads by name: the seed's usa-europe, with nodes already in Talos maintenance mode
 * (`boot.provider: none`) so an unreachable node pauses the run instead of needing BMC credentials in the lab.
 */
export function labBlueprintDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-chat-bp-'));
  const doc = parseDocument(readFileSync(SEED_BLUEPRINT, 'utf8'));
  const clusters = doc.get('clusters') as { items: Array<{ set(k: string, v: unknown): void; get(k: string): { items: Array<{ delete(k: string): void }> } }> };
  for (const c of clusters.items) {
    c.set('boot', { provider: 'none' });
    for (const n of c.get('nodes').items) n.delete('bmc');
  }
  writeFileSync(path.join(dir, 'usa-europe.yaml'), doc.toString());
  return dir;
}

/** The real chat app on loopback, rolling out on `taskQueue`; pauses are never re-checked by themselves, so only people clear them. */
export function startLabChat(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  slack: FakeSlack,
  blueprintDir: string,
  opts: { followIntervalMs?: number; extraEnv?: Record<string, string> } = {},
): Promise<RunningChatApp> {
  return startChatApp(
    {
      env: testChatEnv(slack, blueprintDir, opts.extraEnv),
      client: env.client,
      namespace: env.namespace ?? 'default',
      taskQueue,
      limits: { recheckBaseMs: 10 * 60_000, recheckMaxMs: 10 * 60_000, maxHistoryEvents: 1_500 },
      followIntervalMs: opts.followIntervalMs ?? 250,
      log: () => undefined,
    },
    { port: 0, host: '127.0.0.1' },
  );
}

/** The chat app with no Temporal behind it (a lazy connection to a closed port): the Slack edge alone. */
export async function startOfflineChat(slack: FakeSlack, blueprintDir: string, log: (line: string) => void = () => undefined): Promise<{ chat: RunningChatApp; client: Client }> {
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const chat = await startChatApp({ env: testChatEnv(slack, blueprintDir), client, namespace: 'default', taskQueue: 'unused', log }, { port: 0, host: '127.0.0.1' });
  return { chat, client };
}
