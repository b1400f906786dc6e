// `meshpilot drill failover FILE --region R [--service NAMESPACE/NAME]`: take a region's backends of global Services
// out of service, prove the other regions serve, put everything back, report (flags → options → validate → client →
// render). `--plan` prints the steps and what they act on, starts nothing. A group, so more drills fit beside it.
import type { Command } from 'commander';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { failoverDrillResult, failoverTarget, startFailoverDrill } from '../../client/failover-drill.ts';
import { getRolloutView } from '../../client/rollouts.ts';
import { failoverReportMarkdown, type FailoverReport } from '../../contracts/failover.ts';
import { FAILOVER_DRILL_STEPS } from '../../contracts/steps.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import { cliContext } from '../context.ts';
import { colors, CliError, printJson, type CliIO } from '../io.ts';
import { writeOut } from '../out-dir.ts';
import { watchRollout } from '../watch.ts';
import { renderSteps } from './plan.ts';
import { actor, statusJson } from './rollout.ts';

interface FailoverOptions {
  region?: string;
  service?: string;
  wait?: boolean;
  json?: boolean;
  plan?: boolean;
  out?: string;
}

const ms = (n: number | undefined) => (n === undefined ? 'never' : `${n} ms`);

function summary(r: FailoverReport): string {
  const lines = [`failover drill of region ${r.region}: ${r.verdict.toUpperCase()}, slowest failover ${ms(r.slowestFailoverMs)}; ${r.restored ? 'every backend restored' : 'NOT every backend restored'}`];
  for (const g of r.regions) for (const o of g.observations) lines.push(`  ${g.role.padEnd(9)} ${o.cluster} ${o.service}: ${o.ok ? `${ms(o.failoverMs)}` : o.note}`);
  if (r.files) lines.push(`report on the worker: ${r.files.markdown}, ${r.files.json}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command, io: CliIO): void {
  const drill = program.command('drill').description('drills on a rolled-out mesh (restore drills: meshpilot restore-drill)');
  drill
    .command('failover')
    .description("take a region's backends of global services out of service, prove clients everywhere reach the other regions, put them back (also on abort) and report")
    .argument('<file>', 'blueprint YAML of the mesh')
    .option('--region <region>', "the region drained: a cluster's `region` in the blueprint (required)")
    .option('--service <namespace/name>', 'one global service of the blueprint (or the canary); default the canary and every global service that runs in the region and elsewhere')
    .option('--wait', 'follow the drill until it finishes (or pauses)')
    .option('--json', 'print the start result (with --wait: the final status and the report) as JSON')
    .option('--plan', 'print the steps and what they act on, start nothing')
    .option('--out <dir>', 'with --wait: also write report.md and report.json here')
    .action(async (file: string, opts: FailoverOptions) => {
      if (!opts.region) throw new CliError("--region <region> is required: the region whose backends are taken out (a cluster's `region` in the blueprint)", 2);
      if (opts.out && !opts.wait) throw new CliError('--out needs --wait: the report exists once the drill ends', 2);
      const plan = await planFromFile(file);
      const t = failoverTarget(plan, opts.region, opts.service);
      if (opts.plan) {
        const others = t.clusters.filter((c) => c.region !== t.region).map((c) => c.name);
        const details: Record<string, string[]> = {
          'failover-preflight': [`SERVICE ${t.services.join(', ')}`, `clusters ${t.clusters.map((c) => `${c.name} (${c.region})`).join(', ')}`],
          'failover-drain': [`region ${t.region}: ${t.drained.join(', ')}`],
          'failover-observe': [`surviving: ${others.join(', ')}`, `drained (its clients must reach remote backends): ${t.drained.join(', ')}`],
          'failover-restore': [`the replicas recorded at failover-preflight, in ${t.drained.join(', ')}`],
          'failover-report': ['report.md, report.json'],
        };
        const steps = FAILOVER_DRILL_STEPS.map((d) => ({ name: d.name, title: d.title, skippable: d.skippable, gate: d.gate, runs: [...d.runs], details: details[d.name] ?? [] }));
        if (opts.json) printJson(io, { mesh: plan.mesh, region: t.region, drained: t.drained, services: t.services, steps });
        else io.out(`${colors(io).bold(`failover drill: region ${t.region} (${t.drained.join(', ')}) of mesh ${plan.mesh}`)}\n${renderSteps(io, steps, (s) => FAILOVER_DRILL_STEPS.findIndex((d) => d.name === s.name) + 1)}\n`);
        return;
      }
      const ctx = await cliContext(io);
      try {
        const started = await startFailoverDrill(ctx.client, { plan, region: t.region, by: actor(io), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE, ...(opts.service ? { service: opts.service } : {}) });
        const url = uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, started.workflowId);
        if (opts.json && !opts.wait) printJson(io, { ...started, ui: url });
        if (!opts.json) io.out(`${started.started ? 'started' : 'already running:'} ${started.workflowId}${url ? `\nUI: ${url}` : ''}\n`);
        if (!opts.wait) return;
        const quiet: CliIO = opts.json ? { ...io, out: () => undefined, isTTY: false } : io;
        const view = await watchRollout(quiet, ctx.client, started.workflowId, { untilPaused: true, uiUrl: url });
        const ended = view.state === 'completed' || view.state === 'aborted' || view.state === 'failed';
        const report = ended ? (await failoverDrillResult(ctx.client, started.workflowId)).report : undefined;
        if (report && opts.out) {
          const written = await writeOut(opts.out, { 'report.md': failoverReportMarkdown(report), 'report.json': `${JSON.stringify(report, null, 2)}\n` });
          io.err(`wrote ${written.join(', ')} under ${opts.out}\n`);
        }
        if (opts.json) printJson(io, { ...statusJson(await getRolloutView(ctx.client, started.workflowId)), ...(report ? { report } : {}) });
        else if (report) io.out(summary(report));
        if (view.state !== 'completed' || report?.verdict !== 'passed') io.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
