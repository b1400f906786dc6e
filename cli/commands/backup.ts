// `meshpilot backup now|list|prune|schedule …`: etcd snapshots of a mesh's clusters (flags → options → validate →
// client → render). Snapshots are never printed: only their ids, sizes, checksums and members.
import path from 'node:path';
import type { Command } from 'commander';
import { planBackup } from '../../blueprint/backup-plan.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import {
  assertMesh,
  backupClusters,
  deleteBackupSchedules,
  listBackups,
  listBackupSchedules,
  parseRetention,
  pauseBackupSchedules,
  pruneBackups,
  startBackups,
  triggerBackupSchedules,
  unpauseBackupSchedules,
  updateBackupSchedules,
  upsertBackupSchedules,
} from '../../client/backup.ts';
import { getRolloutView } from '../../client/rollouts.ts';
import { parseCatchupWindow } from '../../client/schedules.ts';
import type { BackupNotifyConfig, SnapshotMeta } from '../../contracts/backup.ts';
import { BACKUP_STEPS } from '../../contracts/steps.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import { cliContext } from '../context.ts';
import { CliError, colors, printJson, type CliIO } from '../io.ts';
import { watchRollout } from '../watch.ts';
import { renderSteps } from './plan.ts';
import { actor, statusJson } from './rollout.ts';
import { cadenceFrom } from './schedule.ts';
import { notifyFromFlags, type NotifyFlags } from './verify.ts';

interface RetentionFlags {
  keepLast?: string;
  maxAge?: string;
}

const withRetention = (cmd: Command) =>
  cmd.option('--keep-last <n>', 'retention: keep the newest N snapshots per cluster (default 7 when neither flag is given)').option('--max-age <duration>', 'retention: remove snapshots older than this (e.g. 30d; the newest one always stays)');

/** Failure-only notification channels: secret references, as for verify (no reminders: a backup is not a drift). */
const withFailureNotify = (cmd: Command) =>
  cmd
    .option('--notify-webhook-ref <ref>', 'secret reference holding the webhook URL told about a paused or failed backup')
    .option('--notify-webhook-secret-ref <ref>', 'secret reference holding the webhook signing secret')
    .option('--notify-slack-channel <id>', 'Slack channel told about a paused or failed backup (with --notify-slack-token-ref)')
    .option('--notify-slack-token-ref <ref>', 'secret reference holding the Slack bot token');

function failureNotify(f: NotifyFlags): BackupNotifyConfig | undefined {
  const cfg = notifyFromFlags(f);
  return cfg ? { ...(cfg.webhook ? { webhook: cfg.webhook } : {}), ...(cfg.slack ? { slack: cfg.slack } : {}) } : undefined;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

export function renderSnapshots(rows: SnapshotMeta[]): string {
  if (!rows.length) return 'no snapshots stored\n';
  const table = [['CLUSTER', 'ID', 'TAKEN', 'SIZE', 'SHA256', 'REVISION', 'KEYS', 'FROM', 'MEMBERS']];
  for (const s of rows) {
    table.push([s.cluster, s.id, s.takenAt.replace(/\.\d+Z$/, 'Z'), mib(s.sizeBytes), `${s.sha256.slice(0, 12)}…`, String(s.etcd.revision), String(s.etcd.totalKeys), s.node.name, s.members.map((m) => m.hostname).join(',')]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return `${table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`;
}

/** `MESH|FILE`: a path to a YAML file, or a mesh name. */
const looksLikeFile = (arg: string) => /\.ya?ml$/i.test(arg) || arg.includes('/') || arg.includes(path.sep);

export function register(program: Command, io: CliIO): void {
  const backup = program.command('backup').description('etcd snapshots of every cluster, stored encrypted, with a retention policy (Temporal Schedules)');

  withFailureNotify(
    withRetention(
      backup
        .command('now')
        .description("take an etcd snapshot of each cluster of the blueprint (or one) now; stored encrypted in meshpilot's secret store")
        .argument('<file>', 'blueprint YAML of the mesh')
        .option('--cluster <name>', 'only this cluster')
        .option('--wait', 'follow each backup until it finishes (or pauses)')
        .option('--json', 'print the start result (with --wait: the final statuses) as JSON')
        .option('--plan', 'print the steps it will run, start nothing'),
    ),
  ).action(async (file: string, opts: RetentionFlags & NotifyFlags & { cluster?: string; wait?: boolean; json?: boolean; plan?: boolean }) => {
    const retention = parseRetention(opts);
    const notify = failureNotify(opts);
    const plan = await planFromFile(file);
    const clusters = backupClusters(plan, opts.cluster);
    if (opts.plan) {
      const steps = clusters.map((c) => ({ cluster: c.name, steps: planBackup(plan.mesh, c, retention) }));
      if (opts.json) printJson(io, { mesh: plan.mesh, retention, clusters: steps });
      else {
        const number = (s: { name: string }) => BACKUP_STEPS.findIndex((d) => d.name === s.name) + 1;
        for (const c of steps) io.out(`${colors(io).bold(`backup ${c.cluster} (mesh ${plan.mesh})`)}\n${renderSteps(io, c.steps, number)}\n`);
      }
      return;
    }
    const ctx = await cliContext(io);
    try {
      const started = await startBackups(ctx.client, { plan, ...(opts.cluster ? { cluster: opts.cluster } : {}), retention, by: actor(io), ...(notify ? { notify } : {}), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE });
      const withUi = started.map((s) => ({ ...s, ui: uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, s.workflowId) }));
      if (opts.json && !opts.wait) printJson(io, withUi);
      if (!opts.json) for (const s of withUi) io.out(`${s.started ? 'started' : 'already running:'} ${s.workflowId}${s.ui ? `  UI: ${s.ui}` : ''}\n`);
      if (!opts.wait) return;
      const quiet: CliIO = opts.json ? { ...io, out: () => undefined, isTTY: false } : { ...io, isTTY: false };
      const finals = [];
      for (const s of withUi) {
        const view = await watchRollout(quiet, ctx.client, s.workflowId, { untilPaused: true });
        finals.push(statusJson(await getRolloutView(ctx.client, s.workflowId)));
        if (view.state !== 'completed') io.exitCode = 1;
      }
      if (opts.json) printJson(io, finals);
      else if (io.exitCode === 1) io.out('a backup did not complete: meshpilot status ID shows why (resume or abort a paused one)\n');
    } finally {
      await ctx.close();
    }
  });

  backup
    .command('list')
    .description("the mesh's stored snapshots, newest first per cluster: id, time, size, sha256, etcd revision and members")
    .argument('<mesh>', 'mesh name (metadata.name of the blueprint)')
    .option('--cluster <name>', 'only this cluster')
    .option('--json', 'machine-readable list')
    .action(async (mesh: string, opts: { cluster?: string; json?: boolean }) => {
      assertMesh(mesh);
      const ctx = await cliContext(io);
      try {
        const rows = await listBackups(ctx.client, mesh, { ...(opts.cluster ? { cluster: opts.cluster } : {}), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE });
        if (opts.json) printJson(io, rows);
        else io.out(renderSnapshots(rows));
      } finally {
        await ctx.close();
      }
    });

  withRetention(
    backup
      .command('prune')
      .description('apply a retention policy to the stored snapshots now (the newest one of each cluster always stays)')
      .argument('<mesh>', 'mesh name (metadata.name of the blueprint)')
      .option('--cluster <name>', 'only this cluster')
      .option('--dry-run', 'say what would be removed, remove nothing')
      .option('--json', 'machine-readable result'),
  ).action(async (mesh: string, opts: RetentionFlags & { cluster?: string; dryRun?: boolean; json?: boolean }) => {
    assertMesh(mesh);
    const retention = parseRetention(opts);
    const ctx = await cliContext(io);
    try {
      const out = await pruneBackups(ctx.client, mesh, { retention, by: actor(io), ...(opts.cluster ? { cluster: opts.cluster } : {}), ...(opts.dryRun ? { dryRun: true } : {}), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE });
      if (opts.json) printJson(io, { mesh, retention, dryRun: Boolean(opts.dryRun), clusters: out });
      else if (!out.length) io.out(`no snapshots stored for ${mesh}\n`);
      else for (const c of out) io.out(`${c.cluster}: ${opts.dryRun ? 'would remove' : 'removed'} ${c.deleted.length ? c.deleted.join(', ') : 'nothing'}; ${c.kept.length} kept\n`);
    } finally {
      await ctx.close();
    }
  });

  const schedule = backup.command('schedule').description('scheduled backups (Temporal Schedules, one per cluster)');
  withFailureNotify(
    withRetention(
      schedule
        .command('create')
        .description("create each cluster's backup schedule from a blueprint, or update the mesh's existing schedules by name")
        .argument('<mesh|file>', 'blueprint YAML (creates or updates), or a mesh name (updates the cadence/retention of its schedules)')
        .option('--cluster <name>', 'only this cluster')
        .option('--every <duration>', 'run every DURATION (e.g. 1d, 6h)')
        .option('--cron <expr>', 'run on a 5-field cron expression (UTC)')
        .option('--catchup <duration>', 'after an outage, start a missed run only if at most this late', '1h')
        .option('--json', 'machine-readable result'),
    ),
  ).action(async (target: string, opts: RetentionFlags & NotifyFlags & { cluster?: string; every?: string; cron?: string; catchup: string; json?: boolean }) => {
    const cadence = cadenceFrom(opts);
    parseCatchupWindow(opts.catchup);
    const retention = parseRetention(opts);
    const notify = failureNotify(opts);
    const byFile = looksLikeFile(target);
    if (!byFile) {
      assertMesh(target);
      if (notify) throw new CliError('--notify-* flags need the blueprint FILE (they are part of what the schedule starts)', 2);
    }
    const plan = byFile ? await planFromFile(target) : undefined;
    const ctx = await cliContext(io);
    try {
      const rows = plan
        ? await upsertBackupSchedules(ctx.client, { plan, cadence, retention, by: actor(io), catchupWindow: opts.catchup, ...(opts.cluster ? { cluster: opts.cluster } : {}), ...(notify ? { notify } : {}), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE })
        : await updateBackupSchedules(ctx.client, target, { cadence, by: actor(io), catchupWindow: opts.catchup, ...(opts.keepLast || opts.maxAge ? { retention } : {}), ...(opts.cluster ? { cluster: opts.cluster } : {}) });
      if (opts.json) printJson(io, rows);
      else for (const r of rows) io.out(`${r.created ? 'created' : 'updated'} ${r.scheduleId}: backup ${r.cluster} ${r.cadence} (overlap: skip, catch-up ${opts.catchup})\n`);
    } finally {
      await ctx.close();
    }
  });

  schedule
    .command('list')
    .description('every backup schedule: cluster, cadence, paused, next and last run')
    .argument('[mesh]', 'only this mesh')
    .option('--json', 'machine-readable list')
    .action(async (mesh: string | undefined, opts: { json?: boolean }) => {
      if (mesh !== undefined) assertMesh(mesh);
      const ctx = await cliContext(io);
      try {
        const rows = await listBackupSchedules(ctx.client, mesh);
        if (opts.json) printJson(io, rows);
        else if (!rows.length) io.out('no backup schedules\n');
        else for (const s of rows) io.out(`${s.mesh.padEnd(20)} ${s.cluster.padEnd(20)} ${s.cadence.padEnd(14)} ${s.paused ? 'paused ' : 'active '} next ${s.nextRunAt ?? '-'}  last ${s.lastRun?.workflowId ?? '-'}\n`);
      } finally {
        await ctx.close();
      }
    });

  const simple = (name: string, description: string, fn: (ctx: Awaited<ReturnType<typeof cliContext>>, mesh: string, cluster?: string, reason?: string) => Promise<string[]>) =>
    schedule
      .command(name)
      .description(description)
      .argument('<mesh>', 'mesh name (metadata.name of the blueprint)')
      .option('--cluster <name>', 'only this cluster')
      .option('--reason <text>', 'why (kept in the schedule note)')
      .option('--json', 'machine-readable result')
      .action(async (mesh: string, opts: { cluster?: string; reason?: string; json?: boolean }) => {
        assertMesh(mesh);
        const ctx = await cliContext(io);
        try {
          const lines = await fn(ctx, mesh, opts.cluster, opts.reason);
          if (opts.json) printJson(io, { mesh, results: lines });
          else io.out(`${lines.join('\n')}\n`);
        } finally {
          await ctx.close();
        }
      });
  simple('trigger', 'run the scheduled backups now (a backup still running is not doubled)', async (ctx, mesh, cluster) =>
    (await triggerBackupSchedules(ctx.client, mesh, cluster ? { cluster } : {})).map((r) => `started ${r.workflowId}`),
  );
  simple('pause', 'stop scheduled backups (the schedules keep their definition)', async (ctx, mesh, cluster, reason) =>
    (await pauseBackupSchedules(ctx.client, mesh, { ...actor(io), ...(reason ? { reason } : {}) }, cluster)).map((id) => `paused ${id}`),
  );
  simple('unpause', 'resume scheduled backups', async (ctx, mesh, cluster) => (await unpauseBackupSchedules(ctx.client, mesh, actor(io), cluster)).map((id) => `unpaused ${id}`));
  simple('delete', "delete the mesh's backup schedules (stored snapshots stay)", async (ctx, mesh, cluster) => (await deleteBackupSchedules(ctx.client, mesh, cluster)).map((id) => `deleted ${id}`));
}
