import type { Command } from 'commander';
import { CliError, type CliIO } from '../io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('chat')
    .description('run the Slack app: /mesh slash command and pause buttons (HTTP mode; see docs/slack.md)')
    .option('--port <port>', 'listen on this port', '3000')
    .option('--host <address>', 'listen on this address', '0.0.0.0')
    .action(async (opts: { port: string; host: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('--port: expected a port number (0-65535)', 2);
      // Settings first, so a missing variable is reported before anything connects.
      const { loadChatEnv } = await import('../../chat/env.ts');
      const chatEnv = loadChatEnv(io.env);
      const { cliContext } = await import('../context.ts');
      const { startChatApp } = await import('../../chat/app.ts');
      const { untilSignal } = await import('../../workers/run.ts');
      const ctx = await cliContext(io);
      try {
        const app = await startChatApp(
          {
            env: chatEnv,
            client: ctx.client,
            namespace: ctx.env.TEMPORAL_NAMESPACE,
            taskQueue: ctx.env.MESHPILOT_TASK_QUEUE,
            uiUrl: ctx.uiUrl,
            log: (line) => io.err(`${line}\n`),
          },
          { port, host: opts.host },
        );
        io.err(`chat: listening on ${app.url} (Slack request URL: <public base>/slack/events, health: /healthz)\n`);
        const sig = await untilSignal();
        io.err(`${sig}: stopping the chat app\n`);
        await app.stop();
      } finally {
        await ctx.close();
      }
    });
}
