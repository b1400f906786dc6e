// `meshpilot chat`: Bolt in HTTP mode behind our gate. Listeners ack first (Slack wants an answer within 3 s),
// then work; long-running progress goes through the followers and the bot token, never the response_url.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, type Logger, type RespondFn } from '@slack/bolt';
import type { Client } from '@temporalio/client';
import type { PauseLimits } from '../contracts/steps.ts';
import type { Notifier } from '../notify/notifier.ts';
import { SlackNotifier } from '../notify/slack.ts';
import { toSlackBlocks } from '../notify/slack-blocks.ts';
import { uiLink } from '../temporal/ui-link.ts';
import { redact } from '../secrets/redact.ts';
import { AllowList } from './allow-list.ts';
import { handleClick, handleDetachClick, handleDrillClick, handleFailoverDrillClick } from './buttons.ts';
import { MUTATING, parseMeshCommand, USAGE } from './command-text.ts';
import { runMeshCommand, type Reply } from './commands.ts';
import type { ChatCore } from './core.ts';
import type { ChatEnv } from './env.ts';
import { RolloutFollowers } from './follower.ts';
import { createChatServer, SLACK_ENDPOINT } from './http-gate.ts';
import { ACTION_ABORT, ACTION_DETACH, ACTION_DRILL, ACTION_FAILOVER_DRILL, ACTION_OPEN_UI, ACTION_RESUME } from './render.ts';
import { verifyPort, type VerifyPort } from './verify-port.ts';

export const SLASH_COMMAND = '/mesh';

export interface ChatAppOptions {
  env: ChatEnv;
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Temporal Web UI base, for "Open in Temporal UI" (MESHPILOT_UI_URL wins) */
  uiUrl?: string;
  /** default: the verify client on `client` and `taskQueue` */
  verify?: VerifyPort;
  /** default: Slack through the bot token */
  notifier?: Notifier;
  limits?: PauseLimits;
  followIntervalMs?: number;
  maxFollowers?: number;
  log?: (line: string) => void;
}

export interface ChatListen {
  port: number;
  /** 0.0.0.0 in a container; tests use 127.0.0.1 */
  host?: string;
}

export interface RunningChatApp {
  /** base URL, e.g. http://127.0.0.1:3000; Slack posts to `${url}/slack/events` */
  url: string;
  port: number;
  followers: RolloutFollowers;
  stop(): Promise<void>;
}

/** Bolt's logger, routed to ours and redacted (it can echo request details). */
function boltLogger(log: (line: string) => void): Logger {
  let level = LogLevel.INFO;
  const order = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];
  const at = (l: typeof level) => (...msg: unknown[]) => {
    if (order.indexOf(l) >= order.indexOf(level)) log(`slack ${l}: ${redact(msg.map(String).join(' '))}`);
  };
  return {
    debug: at(LogLevel.DEBUG),
    info: at(LogLevel.INFO),
    warn: at(LogLevel.WARN),
    error: at(LogLevel.ERROR),
    setLevel: (l) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

async function sendReply(respond: RespondFn, reply: Reply): Promise<void> {
  const body = 'text' in reply ? { text: reply.text } : toSlackBlocks(reply.message);
  await respond({ response_type: 'ephemeral', replace_original: false, ...body });
}

export async function startChatApp(opts: ChatAppOptions, listen: ChatListen): Promise<RunningChatApp> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { env } = opts;
  const notifier = opts.notifier ?? new SlackNotifier({ token: env.SLACK_BOT_TOKEN, apiUrl: env.SLACK_API_URL });
  const uiBase = env.MESHPILOT_UI_URL ?? opts.uiUrl;
  const link = (id: string) => uiLink(uiBase, opts.namespace, id);
  const allow = new AllowList(env.SLACK_ALLOWED_USERS, env.SLACK_ALLOWED_CHANNELS);
  if (allow.empty) log('chat: SLACK_ALLOWED_USERS or SLACK_ALLOWED_CHANNELS is empty: nobody can change rollouts from Slack (read-only)');
  const followers = new RolloutFollowers({ client: opts.client, notifier, uiLink: link, log, intervalMs: opts.followIntervalMs, maxFollowers: opts.maxFollowers });
  const core: ChatCore = {
    client: opts.client,
    taskQueue: opts.taskQueue,
    blueprintDir: env.MESHPILOT_BLUEPRINT_DIR,
    allow,
    followers,
    notifier,
    verify: opts.verify ?? verifyPort(opts.client, { taskQueue: opts.taskQueue, uiLink: link }),
    uiLink: link,
    log,
    limits: opts.limits,
  };

  const logger = boltLogger(log);
  const receiver = new HTTPReceiver({ signingSecret: env.SLACK_SIGNING_SECRET, endpoints: SLACK_ENDPOINT, processBeforeResponse: false, logger });
  const app = new App({
    receiver,
    token: env.SLACK_BOT_TOKEN,
    logger,
    deferInitialization: true,
    clientOptions: { slackApiUrl: env.SLACK_API_URL },
  });
  // auth.test now: a wrong token or API URL fails at start-up, not on the first command.
  try {
    await app.init();
  } catch (err) {
    throw new Error(`chat: Slack rejected SLACK_BOT_TOKEN (auth.test at ${new URL(env.SLACK_API_URL).host}): ${redact((err as Error).message, [env.SLACK_BOT_TOKEN])}`);
  }

  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    const parsed = parseMeshCommand(command.text ?? '');
    if (!parsed.ok) return ack({ response_type: 'ephemeral', text: parsed.message });
    const cmd = parsed.command;
    if (cmd.kind === 'help') return ack({ response_type: 'ephemeral', text: USAGE });
    if (MUTATING.has(cmd.kind)) {
      const allowed = allow.mayChange(command.user_id, command.channel_id);
      if (!allowed.ok) {
        log(`chat: refused /mesh ${cmd.kind} from ${command.user_id} in ${command.channel_id}`);
        return ack({ response_type: 'ephemeral', text: allowed.message });
      }
    }
    await ack({ response_type: 'ephemeral', text: `Working on \`${SLASH_COMMAND} ${command.text.trim()}\`…` });
    const reply = await runMeshCommand(core, cmd, { userId: command.user_id, channelId: command.channel_id, requestId: command.trigger_id });
    await sendReply(respond, reply).catch((err: Error) => log(`chat: could not reply to ${command.user_id}: ${err.message}`));
  });

  // Any other slash command pointed at this app: say what it serves instead of letting Slack time out.
  // (Bolt runs every matching listener, so this one must not match /mesh itself.)
  app.command(/^(?!\/mesh$)/, async ({ command, ack }) => {
    await ack({ response_type: 'ephemeral', text: `This app serves \`${SLASH_COMMAND}\` only (got \`${command.command}\`).\n\n${USAGE}` });
  });

  for (const [actionId, kind] of [[ACTION_RESUME, 'resume'], [ACTION_ABORT, 'abort']] as const) {
    app.action({ type: 'block_actions', action_id: actionId }, async ({ ack, body, action, respond }) => {
      await ack();
      const answer = await handleClick(core, {
        kind,
        userId: body.user.id,
        channelId: body.channel?.id,
        messageTs: body.message?.ts,
        value: 'value' in action ? action.value : undefined,
        requestId: body.trigger_id,
      });
      await respond({ response_type: 'ephemeral', replace_original: false, text: answer }).catch((err: Error) => log(`chat: could not answer ${body.user.id}: ${err.message}`));
    });
  }
  app.action({ type: 'block_actions', action_id: ACTION_DETACH }, async ({ ack, body, action, respond }) => {
    await ack();
    const answer = await handleDetachClick(core, { userId: body.user.id, channelId: body.channel?.id, value: 'value' in action ? action.value : undefined });
    await respond({ response_type: 'ephemeral', replace_original: false, text: answer }).catch((err: Error) => log(`chat: could not answer ${body.user.id}: ${err.message}`));
  });
  app.action({ type: 'block_actions', action_id: ACTION_DRILL }, async ({ ack, body, action, respond }) => {
    await ack();
    const answer = await handleDrillClick(core, { userId: body.user.id, channelId: body.channel?.id, value: 'value' in action ? action.value : undefined });
    await respond({ response_type: 'ephemeral', replace_original: false, text: answer }).catch((err: Error) => log(`chat: could not answer ${body.user.id}: ${err.message}`));
  });
  app.action({ type: 'block_actions', action_id: ACTION_FAILOVER_DRILL }, async ({ ack, body, action, respond }) => {
    await ack();
    const answer = await handleFailoverDrillClick(core, { userId: body.user.id, channelId: body.channel?.id, value: 'value' in action ? action.value : undefined });
    await respond({ response_type: 'ephemeral', replace_original: false, text: answer }).catch((err: Error) => log(`chat: could not answer ${body.user.id}: ${err.message}`));
  });
  // A link button still sends an interaction; acknowledge it so Slack shows no error.
  app.action({ type: 'block_actions', action_id: ACTION_OPEN_UI }, async ({ ack }) => ack());

  const server: Server = createChatServer({
    signingSecret: env.SLACK_SIGNING_SECRET,
    bolt: receiver.requestListener,
    health: () => ({ following: followers.size }),
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    followers,
    async stop() {
      await followers.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
