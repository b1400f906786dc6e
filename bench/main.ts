// `npm run bench`: meshpilot vs the seed's sequential runbook vs the critical path, for growing meshes, on one
// Temporal dev server in one run; prints the table and rewrites bench/README.md with it.
// `npm run bench -- --capacity`: many rollouts at once on the production stack and the dev server (bench/capacity.ts).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { projectRoot } from '../config/env.ts';
import { startTemporal } from '../test/helpers/temporal.ts';
import { benchPlan } from './blueprint.ts';
import { machineFacts } from './cpu.ts';
import { benchTempRoot } from './lab-worker.ts';
import { runMeshpilot, runRunbook, type LabSettings } from './meshpilot-run.ts';
import { table, targets, type BenchResult } from './report.ts';
import { measureResume } from './resume-latency.ts';
import { renderReadme } from './readme.ts';
import { writeBenchCharts } from './charts.ts';
import { installRuntime } from '../workers/runtime.ts';
import { runUpgrade, upgradeTable, writeUpgradeSection, type UpgradeRun } from './upgrade-run.ts';

if (process.argv.includes('--capacity')) {
  const { capacityBench } = await import('./capacity.ts');
  await capacityBench(process.argv.slice(2).filter((a) => a !== '--capacity'));
  process.exit(0);
}

const optsSchema = z.object({
  sizes: z.string().regex(/^\d+(,\d+)*$/, 'sizes: a comma-separated list of cluster counts, e.g. 2,4,8,16').transform((v) => v.split(',').map(Number)),
  latency: z.coerce.number().int().min(0).max(10_000),
  pollBudget: z.coerce.number().int().min(1_000),
  readme: z.boolean(),
  chartsOnly: z.boolean(),
});

const program = new Command('bench')
  .option('--sizes <list>', 'cluster counts', '2,4,8,16')
  .option('--latency <ms>', 'fixed latency of every simulated tool call', '500')
  .option('--poll-budget <ms>', 'how long blocking checks poll before pausing (the lab default)', '8000')
  .option('--no-readme', 'print only; leave bench/README.md alone')
  .option('--charts-only', 'run nothing: redraw the charts and bench/README.md from bench/results/latest.json', false)
  .parse();
const opts = optsSchema.parse(program.opts());
const benchDir = path.join(projectRoot, 'bench');

if (opts.chartsOnly) {
  const latest = JSON.parse(readFileSync(path.join(benchDir, 'results', 'latest.json'), 'utf8')) as BenchResult;
  process.stderr.write(`bench: wrote ${(await writeBenchCharts(latest, benchDir)).join(', ')}\n`);
  if (opts.readme) writeFileSync(path.join(benchDir, 'README.md'), renderReadme(latest, readFileSync(path.join(benchDir, 'README.md'), 'utf8')));
  process.exit(0);
}

const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
const started = Date.now();
const lab: LabSettings = { toolLatencyMs: opts.latency, pollBudgetMs: opts.pollBudget };
installRuntime({ logLevel: 'warn' });
const root = benchTempRoot();
const env = await startTemporal();
try {
  const rows: BenchResult['rows'] = [];
  for (const n of opts.sizes) {
    const plan = benchPlan(n, `${Date.now().toString(36)}`);
    log(`${n} clusters: meshpilot…`);
    const meshpilot = await runMeshpilot(env, root, plan, lab);
    log(`${n} clusters: meshpilot ${meshpilot.state} in ${meshpilot.wallMs} ms; sequential runbook…`);
    const runbook = await runRunbook(root, plan, lab);
    log(`${n} clusters: runbook ${runbook.wallMs} ms`);
    rows.push({ meshpilot, runbook });
  }
  log('resume latency (node-unreachable, 2 clusters)…');
  const resume = await measureResume(env, root, benchPlan(2, `resume-${Date.now().toString(36)}`), lab);
  // the upgrade row (issue #16): `meshpilot upgrade` of a rolled-out mesh, 2 and 8 clusters (within --sizes' range)
  const upgrade: UpgradeRun[] = [];
  for (const n of [2, 8].filter((k) => k <= Math.max(...opts.sizes))) {
    log(`${n} clusters: rollout, then meshpilot upgrade…`);
    upgrade.push(await runUpgrade(env, root, n, lab));
    log(`${n} clusters: upgrade ${upgrade.at(-1)!.state} in ${upgrade.at(-1)!.wallMs} ms`);
  }
  const result: BenchResult = { at: new Date().toISOString(), machine: machineFacts(), toolLatencyMs: opts.latency, pollBudgetMs: opts.pollBudget, rows, resume, totalMs: Date.now() - started };
  process.stdout.write(`${table(result)}\n\n${targets(result).join('\n')}\n\n${upgradeTable(upgrade)}\n`);
  writeFileSync(path.join(projectRoot, 'bench', 'results', 'latest.json'), `${JSON.stringify({ ...result, upgrade }, null, 2)}\n`, { flag: 'w' });
  log(`wrote ${(await writeBenchCharts(result, benchDir)).join(', ')}`);
  if (opts.readme) {
    const file = path.join(projectRoot, 'bench', 'README.md');
    writeFileSync(file, renderReadme(result, readFileSync(file, 'utf8')));
    writeUpgradeSection(file, upgrade, lab);
    log(`wrote ${path.relative(projectRoot, file)}`);
  }
} finally {
  await env.teardown();
  rmSync(root, { recursive: true, force: true });
}
