import path from 'node:path';
import type { Command } from 'commander';
import { parseEvery, ScheduleInputError, verifyNow } from '../../client/verify.ts';
import type { VerifyNotifyConfig } from '../../contracts/verify/input.ts';
import { sortVerdicts, verdictKey, type VerifyReport } from '../../contracts/verify/report.ts';
import { loadBlueprintFile } from '../../blueprint/load.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { topologyModel } from '../../pictures/topology/model.ts';
import { topologySvg } from '../../pictures/topology/render.ts';
import { cliContext } from '../context.ts';
import { colors, CliError, printJson, type CliIO } from '../io.ts';
import { outDir, writeOut } from '../out-dir.ts';
import { actor } from './rollout.ts';

export interface NotifyFlags {
  notifyWebhookRef?: string;
  notifyWebhookSecretRef?: string;
  notifySlackChannel?: string;
  notifySlackTokenRef?: string;
  remindAfter?: string;
  certWarnDays?: string;
}

/** Notification flags shared by `verify` and `schedule create`: secret references only, never URLs or tokens. */
export function withNotifyFlags(cmd: Command): Command {
  return cmd
    .option('--notify-webhook-ref <ref>', 'secret reference holding the webhook URL drift notifications go to')
    .option('--notify-webhook-secret-ref <ref>', 'secret reference holding the webhook signing secret')
    .option('--notify-slack-channel <id>', 'Slack channel for drift notifications (with --notify-slack-token-ref)')
    .option('--notify-slack-token-ref <ref>', 'secret reference holding the Slack bot token')
    .option('--remind-after <duration>', 'repeat a persisting failure after this long (e.g. 24h; 0 = never)')
    .option('--cert-warn-days <n>', 'fail clustermesh-certs when a ClusterMesh certificate or its CA expires within N days (default 30)');
}

/** `--cert-warn-days`: a whole number of days, 1 to 3650. */
export function certWarnDaysFromFlags(f: NotifyFlags): { certWarnDays?: number } {
  if (f.certWarnDays === undefined) return {};
  const n = Number(f.certWarnDays);
  if (!/^\d+$/.test(f.certWarnDays) || n < 1 || n > 3650) throw new CliError(`--cert-warn-days: expected a whole number of days from 1 to 3650, got ${JSON.stringify(f.certWarnDays)}`, 2);
  return { certWarnDays: n };
}

export function notifyFromFlags(f: NotifyFlags): VerifyNotifyConfig | undefined {
  if (Boolean(f.notifySlackChannel) !== Boolean(f.notifySlackTokenRef)) throw new CliError('--notify-slack-channel and --notify-slack-token-ref go together', 2);
  if (f.notifyWebhookSecretRef && !f.notifyWebhookRef) throw new CliError('--notify-webhook-secret-ref needs --notify-webhook-ref', 2);
  let remindAfterMs: number | undefined;
  if (f.remindAfter !== undefined) {
    try {
      remindAfterMs = f.remindAfter === '0' ? 0 : parseEvery(f.remindAfter);
    } catch (err) {
      if (err instanceof ScheduleInputError) throw new CliError(`--remind-after: ${err.problem}`, 2);
      throw err;
    }
  }
  const cfg: VerifyNotifyConfig = {
    ...(f.notifyWebhookRef ? { webhook: { urlRef: f.notifyWebhookRef, ...(f.notifyWebhookSecretRef ? { secretRef: f.notifyWebhookSecretRef } : {}) } } : {}),
    ...(f.notifySlackChannel && f.notifySlackTokenRef ? { slack: { channel: f.notifySlackChannel, tokenRef: f.notifySlackTokenRef } } : {}),
    ...(remindAfterMs !== undefined ? { remindAfterMs } : {}),
  };
  return cfg.webhook || cfg.slack ? cfg : undefined;
}

/** The human report: one line per check, failures first, with the hint and remedy under each one that is not ok. */
export function renderReport(io: CliIO, r: VerifyReport): string {
  const c = colors(io);
  const paint = (s: string) => (s === 'ok' ? c.green(s) : s === 'warn' ? c.yellow(s) : c.red(s));
  const lines = [`${c.bold(`verify ${r.mesh}`)}  revision ${r.revision}  ${paint(r.overall)}  (${r.counts.ok} ok, ${r.counts.warn} warn, ${r.counts.fail} fail)  ${r.workflowId}`];
  const width = Math.max(...r.verdicts.map((v) => verdictKey(v).length));
  for (const v of sortVerdicts(r.verdicts)) {
    lines.push(`  ${paint(v.status.padEnd(4))}  ${verdictKey(v).padEnd(width)}  ${v.summary}`);
    if (v.status !== 'ok') {
      lines.push(`        hint: ${v.hint}`);
      if (v.remediation) lines.push(`        remedy (${v.remediation.kind}): ${v.remediation.command}`);
    }
  }
  const d = r.drift;
  lines.push(`drift: ${d.changes.length ? d.changes.map((x) => `${verdictKey(x)} ${x.from ?? 'new'}→${x.to ?? 'gone'}`).join(', ') : 'no change since the previous run'}; notified: ${d.notified}${d.notifyError ? ` (failed: ${d.notifyError})` : ''}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, io: CliIO): void {
  withNotifyFlags(
    program
      .command('verify')
      .description('check a rolled-out mesh once now (read-only) and print the report; exit 1 when a check fails')
      .argument('<file>', 'blueprint YAML of the mesh')
      .option('--json', 'print the report as JSON')
      .option('--out <dir>', 'also write topology.svg: the mesh coloured by the verdicts'),
  ).action(async (file: string, opts: NotifyFlags & { json?: boolean; out?: string }) => {
    const notify = notifyFromFlags(opts);
    const certs = certWarnDaysFromFlags(opts);
    const plan = await planFromFile(file);
    if (opts.out) await outDir(opts.out); // a bad --out fails before anything runs
    const ctx = await cliContext(io);
    try {
      if (!opts.json) io.err(`verifying ${plan.mesh} (${plan.clusters.map((x) => x.name).join(', ')})…\n`);
      const report = await verifyNow(ctx.client, plan, actor(io), { ...(notify ? { notify } : {}), ...certs, taskQueue: ctx.env.MESHPILOT_TASK_QUEUE, source: path.relative(process.cwd(), path.resolve(file)) || file });
      if (opts.json) printJson(io, report);
      else io.out(renderReport(io, report));
      if (opts.out) {
        const loaded = await loadBlueprintFile(file);
        if (!loaded.blueprint) throw new CliError(`${file} changed while verifying and no longer parses`, 1, `run: meshpilot validate ${file}`);
        const model = topologyModel(loaded.blueprint, { warnings: loaded.warnings, verdicts: report.verdicts, revision: report.revision });
        const written = await writeOut(opts.out, { 'topology.svg': await topologySvg(model) });
        io.err(`wrote ${written.join(', ')} under ${opts.out}\n`);
      }
      if (report.overall === 'fail') io.exitCode = 1;
    } finally {
      await ctx.close();
    }
  });
}
