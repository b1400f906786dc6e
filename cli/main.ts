import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/env.ts';
import { CliError, processIO, type CliIO } from './io.ts';

/** Each command module registers itself here: flags → options → validate → run, with injected I/O. */
type Registrar = (program: Command, io: CliIO) => void;

const COMMAND_MODULES: Array<() => Promise<{ register: Registrar }>> = [
  () => import('./commands/dev.ts'),
  () => import('./commands/worker.ts'),
  () => import('./commands/demo.ts'),
  () => import('./commands/lab.ts'),
  () => import('./commands/rollout.ts'),
  () => import('./commands/operate.ts'),
];

/** Optional modules land as their owners finish them; a missing one is not an error. */
const OPTIONAL_MODULES = [
  './commands/validate.ts',
  './commands/plan.ts',
  './commands/verify.ts',
  './commands/schedule.ts',
  './commands/chat.ts',
  './commands/codec-server.ts',
];

export async function buildProgram(io: CliIO): Promise<Command> {
  const program = new Command('meshpilot')
    .description('Durable, pausable multi-region Talos + Cilium ClusterMesh rollouts on Temporal')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const load of COMMAND_MODULES) (await load()).register(program, io);
  for (const mod of OPTIONAL_MODULES) {
    const loaded = await import(mod).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes(mod.slice(2))) return undefined;
      throw err;
    });
    loaded?.register(program, io);
  }
  return program;
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  try {
    const program = await buildProgram(io);
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      io.err(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    io.err(`error: ${(err as Error).message}\n`);
    if (io.env.MESHPILOT_DEBUG) io.err(`${(err as Error).stack}\n`);
    return 1;
  }
}
