import path from 'node:path';
import type { Command } from 'commander';
import {
  assertMeshName,
  cadenceSpec,
  deleteVerifySchedule,
  listVerifySchedules,
  parseCatchupWindow,
  pauseVerifySchedule,
  triggerVerifySchedule,
  unpauseVerifySchedule,
  upsertVerifySchedule,
  type Cadence,
} from '../../client/verify.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { cliContext } from '../context.ts';
import { CliError, printJson, type CliIO } from '../io.ts';
import { actor } from './rollout.ts';
import { certWarnDaysFromFlags, notifyFromFlags, withNotifyFlags, type NotifyFlags } from './verify.ts';

/** Client errors reach cli/main.ts, which says them in the CLI's words (cli/errors.ts). */
async function run<T>(io: CliIO, fn: (ctx: Awaited<ReturnType<typeof cliContext>>) => Promise<T>): Promise<T> {
  const ctx = await cliContext(io);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

/** Flags → a validated cadence, before anything talks to Temporal. */
export function cadenceFrom(opts: { every?: string; cron?: string }): Cadence {
  if (opts.every && opts.cron) throw new CliError('give one of --every or --cron, not both', 2);
  const cadence: Cadence | undefined = opts.every ? { every: opts.every } : opts.cron ? { cron: opts.cron } : undefined;
  if (!cadence) throw new CliError('--every <duration> (e.g. 6h) or --cron <expr> (e.g. "0 */6 * * *") is required', 2);
  cadenceSpec(cadence);
  return cadence;
}

export function register(program: Command, io: CliIO): void {
  const schedule = program.command('schedule').description('scheduled verify runs (Temporal Schedules, one per mesh)');

  withNotifyFlags(
    schedule
      .command('create')
      .description("create the mesh's verify schedule, or update it when it exists")
      .argument('<file>', 'blueprint YAML of the mesh')
      .option('--every <duration>', 'run every DURATION (e.g. 6h, 30m, 1d)')
      .option('--cron <expr>', 'run on a 5-field cron expression (UTC)')
      .option('--catchup <duration>', 'after an outage, start a missed run only if at most this late', '1h')
      .option('--json', 'machine-readable result'),
  ).action(async (file: string, opts: NotifyFlags & { every?: string; cron?: string; catchup: string; json?: boolean }) => {
    const cadence = cadenceFrom(opts);
    const notify = notifyFromFlags(opts);
    const certs = certWarnDaysFromFlags(opts);
    parseCatchupWindow(opts.catchup);
    const plan = await planFromFile(file);
    const r = await run(io, (ctx) =>
      upsertVerifySchedule(ctx.client, { plan, cadence, by: actor(io), catchupWindow: opts.catchup, source: path.relative(process.cwd(), path.resolve(file)) || file, ...(notify ? { notify } : {}), ...certs }),
    );
    if (opts.json) printJson(io, r);
    else io.out(`${r.created ? 'created' : 'updated'} ${r.scheduleId}: verify ${plan.mesh} ${r.cadence} (overlap: skip, catch-up ${opts.catchup})${notify ? '' : ' — no notification channel: reports only'}\n`);
  });

  schedule
    .command('list')
    .description('every mesh verify schedule: cadence, paused, next and last run')
    .option('--json', 'machine-readable list')
    .action(async (opts: { json?: boolean }) => {
      const rows = await run(io, (ctx) => listVerifySchedules(ctx.client));
      if (opts.json) printJson(io, rows);
      else if (!rows.length) io.out('no verify schedules\n');
      else {
        for (const s of rows) {
          io.out(`${s.mesh.padEnd(20)} ${s.cadence.padEnd(18)} ${s.paused ? 'paused ' : 'active '} next ${s.nextRunAt ?? '-'}  last ${s.lastRun?.workflowId ?? '-'}${s.note ? `  (${s.note})` : ''}\n`);
        }
      }
    });

  const simple = (name: string, description: string, fn: (ctx: Awaited<ReturnType<typeof cliContext>>, mesh: string, reason?: string) => Promise<string>) =>
    schedule
      .command(name)
      .description(description)
      .argument('<mesh>', 'mesh name (metadata.name of the blueprint)')
      .option('--reason <text>', 'why (kept in the schedule note)')
      .option('--json', 'machine-readable result')
      .action(async (mesh: string, opts: { reason?: string; json?: boolean }) => {
        assertMeshName(mesh);
        const message = await run(io, (ctx) => fn(ctx, mesh, opts.reason));
        if (opts.json) printJson(io, { mesh, message });
        else io.out(`${message}\n`);
      });

  simple('pause', 'stop scheduled runs (a paused schedule keeps its definition)', async (ctx, mesh, reason) => {
    await pauseVerifySchedule(ctx.client, mesh, { ...actor(io), ...(reason ? { reason } : {}) });
    return `paused verify-${mesh}`;
  });
  simple('unpause', 'resume scheduled runs', async (ctx, mesh) => {
    await unpauseVerifySchedule(ctx.client, mesh, actor(io));
    return `unpaused verify-${mesh}`;
  });
  simple('trigger', 'run the scheduled verify now (skipped when one is running)', async (ctx, mesh) => {
    const { workflowId } = await triggerVerifySchedule(ctx.client, mesh);
    return `started ${workflowId}`;
  });
  simple('delete', 'delete the mesh verify schedule', async (ctx, mesh) => {
    await deleteVerifySchedule(ctx.client, mesh);
    return `deleted verify-${mesh}`;
  });
}
