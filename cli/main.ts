import { Command, CommanderError } from 'commander';
import * as backup from './commands/backup.ts';
import * as chat from './commands/chat.ts';
import * as codecServer from './commands/codec-server.ts';
import * as demo from './commands/demo.ts';
import * as detach from './commands/detach.ts';
import * as diagnose from './commands/diagnose.ts';
import * as drill from './commands/drill.ts';
import * as dev from './commands/dev.ts';
import * as lab from './commands/lab.ts';
import * as operate from './commands/operate.ts';
import * as plan from './commands/plan.ts';
import * as report from './commands/report.ts';
import * as restoreDrill from './commands/restore-drill.ts';
import * as rollout from './commands/rollout.ts';
import * as rotate from './commands/rotate.ts';
import * as schedule from './commands/schedule.ts';
import * as upgrade from './commands/upgrade.ts';
import * as validate from './commands/validate.ts';
import * as verify from './commands/verify.ts';
import * as worker from './commands/worker.ts';
import { ConfigError } from '../config/env.ts';
import { cliErrorOf } from './errors.ts';
import { processIO, type CliIO } from './io.ts';

/** Each command module registers itself: flags → options → validate → run, with injected I/O. */
interface CommandModule {
  register(program: Command, io: CliIO): void;
}

/** In `meshpilot --help` order. */
const COMMANDS: readonly CommandModule[] = [dev, worker, demo, lab, rollout, upgrade, operate, detach, report, diagnose, validate, plan, verify, schedule, backup, restoreDrill, drill, rotate, chat, codecServer];

export function buildProgram(io: CliIO): Command {
  const program = new Command('meshpilot')
    .description('Durable, pausable multi-region Talos + Cilium ClusterMesh rollouts on Temporal')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  for (const command of COMMANDS) command.register(program, io);
  return program;
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  try {
    await buildProgram(io).parseAsync(argv, { from: 'user' });
    return io.exitCode ?? 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    const known = cliErrorOf(err);
    if (known) {
      io.err(`error: ${known.message}\n${known.hint ? `hint: ${known.hint}\n` : ''}`);
      return known.exitCode;
    }
    io.err(`error: ${(err as Error).message}\n`);
    if (io.env.MESHPILOT_DEBUG) io.err(`${(err as Error).stack}\n`);
    return 1;
  }
}
