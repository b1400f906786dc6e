import type { Command } from 'commander';
import { colors, type CliIO } from '../io.ts';

export function register(program: Command, io: CliIO): void {
  program
    .command('dev')
    .description('run the embedded Temporal dev server (SQLite, Web UI) and a worker in one process tree')
    .option('--lab', "serve lab rollouts with the simulated fleet (meshpilot rollout FILE --lab SCENARIO)")
    .option('--headless', 'no Web UI')
    .action(async (opts: { lab?: boolean; headless?: boolean }) => {
      const c = colors(io);
      const { startDevStack } = await import('../dev-stack.ts');
      const { untilSignal } = await import('../../workers/run.ts');
      const stack = await startDevStack(io, { ...opts, log: (l) => io.err(`${c.dim(l)}\n`) });
      io.out(`Temporal dev server on ${stack.server.address}${stack.server.uiUrl ? `, Web UI at ${c.bold(stack.server.uiUrl)}` : ''}\n`);
      io.out('Ctrl-C stops the server and the worker.\n');
      const sig = await Promise.race([untilSignal(), stack.worker.done.then(() => undefined)]);
      io.err(`${sig ?? 'worker stopped'}: shutting down\n`);
      await stack.stop();
    });
}
