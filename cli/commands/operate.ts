import type { Command } from 'commander';
import { abortRollout, actOnStep, ActionRefused, amendRollout, RolloutNotFound, type StepAction } from '../../client/rollouts.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { cliContext } from '../context.ts';
import { CliError, printJson, type CliIO } from '../io.ts';
import { actor } from './rollout.ts';

async function run(io: CliIO, json: boolean | undefined, fn: (ctx: Awaited<ReturnType<typeof cliContext>>) => Promise<{ message: string; workflowId?: string }>) {
  const ctx = await cliContext(io);
  try {
    const r = await fn(ctx);
    if (json) printJson(io, { accepted: true, ...r });
    else io.out(`${r.message}\n`);
  } catch (err) {
    if (json && (err instanceof ActionRefused || err instanceof RolloutNotFound)) {
      printJson(io, { accepted: false, reason: err.message });
      io.exitCode = 1;
      return;
    }
    throw err;
  } finally {
    await ctx.close();
  }
}

export function register(program: Command, io: CliIO): void {
  const stepCommand = (name: StepAction, description: string, needsReason: boolean) =>
    program
      .command(name)
      .description(description)
      .argument('<id>', 'rollout workflow id (see: meshpilot list)')
      .option('--step <step>', 'the paused step (default: the one that is paused)')
      .option('--cluster <name>', 'the cluster whose step it is (default: the paused one)')
      .option('--reason <text>', needsReason ? 'why (required; kept in the audit)' : 'why (kept in the audit)')
      .option('--json', 'machine-readable result')
      .action(async (id: string, opts: { step?: string; cluster?: string; reason?: string; json?: boolean }) => {
        if (needsReason && !opts.reason) throw new CliError(`--reason: ${name} needs a reason (it is kept in the rollout's audit)`, 2);
        await run(io, opts.json, (ctx) => actOnStep(ctx.client, id, name, { ...actor(io), reason: opts.reason, step: opts.step, cluster: opts.cluster }));
      });

  stepCommand('resume', 're-check the paused step now', false);
  stepCommand('skip', 'skip the paused step (only steps marked skippable)', true);
  stepCommand('override', 'accept a failed gate such as etcd-latency', true);

  program
    .command('abort')
    .description('stop the rollout: running tool calls are cancelled, nothing further runs')
    .argument('<id>', 'rollout workflow id')
    .requiredOption('--reason <text>', 'why (kept in the audit)')
    .option('--json', 'machine-readable result')
    .action(async (id: string, opts: { reason: string; json?: boolean }) => {
      await run(io, opts.json, (ctx) => abortRollout(ctx.client, id, { ...actor(io), reason: opts.reason }));
    });

  program
    .command('amend')
    .description('give a running rollout a new blueprint revision (only changes safe mid-run, e.g. a fixed LB pool)')
    .argument('<id>', 'rollout workflow id')
    .argument('<file>', 'the amended blueprint YAML')
    .option('--reason <text>', 'why (kept in the audit)')
    .option('--json', 'machine-readable result')
    .action(async (id: string, file: string, opts: { reason?: string; json?: boolean }) => {
      const plan = await planFromFile(file);
      await run(io, opts.json, (ctx) => amendRollout(ctx.client, id, { ...actor(io), reason: opts.reason, plan }));
    });
}
