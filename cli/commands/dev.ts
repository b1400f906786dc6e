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
      // Listen before anything starts: a Ctrl-C or SIGTERM during start-up then stops what has started, in order,
      // instead of Node's default of dying on the spot (the server would still die by its parent-death signal).
      const signalled = untilSignal();
      const stack = await startDevStack(io, { ...opts, log: (l) => io.err(`${c.dim(l)}\n`) });
      io.out(`Temporal dev server on ${stack.server.address}${stack.server.uiUrl ? `, Web UI at ${c.bold(stack.server.uiUrl)}` : ''}\n`);
      io.out('Ctrl-C stops the server and the worker.\n');
      const sig = await Promise.race([signalled, stack.worker.done.then(() => undefined)]);
      io.err(`${sig ?? 'worker stopped'}: shutting down\n`);
      await stack.stop();
    });
}
