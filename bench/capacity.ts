// `npm run bench -- --capacity`: how many rollouts at once one machine's worth of meshpilot carries, on the
// production stack (Temporal server + PostgreSQL) and on the dev server, side by side in one run. Not a test: it
// prints the table, writes bench/results/capacity.json and rewrites the capacity section of bench/README.md.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { loadEnv, projectRoot, workerEnvKeys } from '../config/env.ts';
import { startBackend, type BackendName, type CapacityBackend } from './capacity-backends.ts';
import { sampleGroups } from './capacity-procs.ts';
import { capacitySection, capacityTable, capacityVerdicts, perRolloutTable, tuningLabel, withCapacitySection, type CapacityResult } from './capacity-report.ts';
import { runCapacity, type CapacityRow } from './capacity-run.ts';

const METHOD = `How it is measured (\`bench/capacity*.ts\`): for each N and each server, N independent 2-cluster meshes (the
benchmark's blueprint, 1 control plane + 1 worker per cluster, each mesh under its own name with its own lab) are
started at once on one task queue served by **two worker processes** (\`bench/capacity-worker.ts\`: the real
worker — workflows, activities, payload encryption, the \`MESHPILOT_WORKER_*\` sizing — with no lab of its own).
Every simulated tool call goes through the lab's shims to a **separate lab process** (\`bench/capacity-lab.ts\`:
the lab tool server and the etcd metrics endpoints), so the workers' figures are orchestration alone. The same
run measures both servers: the production stack (\`scripts/prod-stack.sh up --no-workers\`: the server built from
\`go.temporal.io/server\` with \`deploy/temporal/server.yaml\`, 512 history shards, on PostgreSQL) and the
\`temporal\` CLI dev server (SQLite) that \`meshpilot dev\` runs.

- **completed**: rollouts whose result is \`completed\` within the time limit; **wall**: first start → last close
  on the server's clock.
- **schedule-to-start** (the time a task waited for a worker to take it), from every history of the run (parent
  and both children): WorkflowTaskScheduled → WorkflowTaskStarted, and ActivityTaskScheduled → ActivityTaskStarted
  of first attempts. **WFT timeouts**: WorkflowTaskTimedOut events — *sticky* ones (a task for a worker's cache
  not picked up within 5 s, then moved to the shared queue) and *start-to-close* (a worker held a task past 10 s).
- **memory**: peak proportional set size (PSS) sampled every second, per worker process (the larger of the two),
  and for the server (the \`temporal-server\` process + PostgreSQL and its backends; the dev server's one process).
  **CPU**: seconds used during the run, workers including the tool shims they started.
- **events**: history events per rollout (parent + children), and the largest parent and child history.

Options: \`npm run bench -- --capacity --rollouts 25,100,250 --latency 500 --servers prod,dev --timeout-min 45
--no-readme\`; worker sizing from \`MESHPILOT_WORKER_*\` in the environment, or one row per sizing with
\`--tuning defaults --tuning WORKFLOW_TASK_SLOTS=4,ACTIVITY_SLOTS=320\` (each N and server runs once per \`--tuning\`,
in the same run). Raw figures:
\`bench/results/capacity.json\`; \`--render a.json,b.json\` rewrites this section from saved runs (their rows side by
side) without running anything.`;

const optsSchema = z.object({
  rollouts: z
    .string()
    .regex(/^\d+(,\d+)*$/, '--rollouts: a comma-separated list of rollout counts, e.g. 25,100,250')
    .transform((v) => v.split(',').map(Number))
    .refine((v) => v.every((n) => n >= 1 && n <= 1000), '--rollouts: each count from 1 to 1000'),
  latency: z.coerce.number().int().min(0).max(10_000),
  servers: z
    .string()
    .transform((v) => v.split(','))
    .refine((v): v is BackendName[] => v.length > 0 && v.every((x) => x === 'prod' || x === 'dev'), '--servers: prod, dev or prod,dev'),
  timeoutMin: z.coerce.number().min(1).max(240),
  readme: z.boolean(),
  tuning: z.array(z.string()),
  render: z.string().optional(),
});

const WORKER_PREFIX = 'MESHPILOT_WORKER_';

/** One `--tuning` spec as MESHPILOT_WORKER_* variables, checked by the worker's own env schema. */
export function parseTuning(spec: string): Record<string, string> {
  if (spec.trim() === 'defaults') return {};
  const known = workerEnvKeys();
  const env: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const m = /^([A-Z_]+)=(.+)$/.exec(part.trim());
    if (!m) throw new Error(`--tuning ${spec}: "${part}" is not KEY=VALUE (e.g. WORKFLOW_TASK_SLOTS=4)`);
    const key = `${WORKER_PREFIX}${m[1]!.replace(/^MESHPILOT_WORKER_/, '')}`;
    if (!known.includes(key)) throw new Error(`--tuning ${spec}: unknown setting ${m[1]} (one of ${known.map((k) => k.slice(WORKER_PREFIX.length)).join(', ')})`);
    env[key] = m[2]!;
  }
  try {
    loadEnv(env);
  } catch (err) {
    throw new Error(`--tuning ${spec}: ${(err as Error).message}`);
  }
  return env;
}

const resultSchema = z.object({
  at: z.string(),
  machine: z.object({ cores: z.number(), cpu: z.string(), node: z.string(), loadAvg1mStart: z.number(), loadAvg1mEnd: z.number() }),
  toolLatencyMs: z.number(),
  workerEnv: z.record(z.string(), z.string()),
  idleServerCpuS: z.record(z.string(), z.number()),
  rows: z.array(z.custom<CapacityRow>((v) => typeof v === 'object' && v !== null && 'backend' in v && 'n' in v)),
  totalMs: z.number(),
});

/** Saved runs (bench/results/capacity.json of each) as one result: rows in the order given, the widest load range. */
function mergeResults(files: string[]): CapacityResult {
  const runs = files.map((f) => {
    const parsed = resultSchema.safeParse(JSON.parse(readFileSync(f, 'utf8')));
    if (!parsed.success) throw new Error(`--render ${f}: not a capacity result (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
    return parsed.data;
  });
  const last = runs[runs.length - 1]!;
  return {
    ...last,
    machine: {
      ...last.machine,
      loadAvg1mStart: Math.min(...runs.map((r) => r.machine.loadAvg1mStart)),
      loadAvg1mEnd: Math.max(...runs.map((r) => r.machine.loadAvg1mEnd)),
    },
    rows: runs.flatMap((r) => r.rows.map((row) => ({ ...row, workerEnv: row.workerEnv ?? r.workerEnv }))).sort((a, b) => a.n - b.n),
    totalMs: runs.reduce((t, r) => t + r.totalMs, 0),
  };
}

export async function capacityBench(argv: string[]): Promise<void> {
  const program = new Command('bench --capacity')
    .option('--rollouts <list>', 'concurrent rollout counts', '25,100,250')
    .option('--latency <ms>', 'fixed latency of every simulated tool call', '500')
    .option('--servers <list>', 'which Temporal servers, in this order', 'prod,dev')
    .option('--timeout-min <minutes>', 'cut a run after this long (what has not finished counts as not completed)', '45')
    .option('--no-readme', 'print only; leave bench/README.md alone')
    .option('--tuning <spec>', 'worker sizing for one set of rows: "defaults" or KEY=VALUE,… of MESHPILOT_WORKER_* without the prefix; repeat to compare', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--render <files>', 'run nothing: rewrite the README section from saved results (comma-separated JSON files)')
    .parse(argv, { from: 'user' });
  const parsed = optsSchema.safeParse(program.opts());
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('\n'));
  const opts = parsed.data;
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  if (opts.render) {
    const result = mergeResults(opts.render.split(','));
    process.stdout.write(`${capacityTable(result)}\n\n${capacityVerdicts(result).join('\n')}\n\n${perRolloutTable(result)}\n`);
    const file = path.join(projectRoot, 'bench', 'README.md');
    writeFileSync(file, withCapacitySection(readFileSync(file, 'utf8'), capacitySection(result, METHOD)));
    log(`wrote ${path.relative(projectRoot, file)}`);
    return;
  }
  const started = Date.now();
  const loadAvg1mStart = Number(os.loadavg()[0]!.toFixed(1));
  const fromEnv = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith(WORKER_PREFIX) && v)) as Record<string, string>;
  const tunings = opts.tuning.length > 0 ? opts.tuning.map(parseTuning) : [fromEnv];

  const backends: CapacityBackend[] = [];
  try {
    for (const name of opts.servers) backends.push(await startBackend(name, log));
    log('idle servers: 30 s of background CPU…');
    const idle = sampleGroups(Object.fromEntries(backends.map((b) => [b.name, b.serverPids()])));
    await new Promise((r) => setTimeout(r, 30_000));
    const idleUsage = idle.stop();
    const rows: CapacityRow[] = [];
    for (const n of opts.rollouts) {
      for (const workerEnv of tunings) {
        for (const backend of backends) {
          const row = await runCapacity(backend, n, { toolLatencyMs: opts.latency, timeoutMs: opts.timeoutMin * 60_000, workerEnv }, log);
          rows.push(row);
          log(`${backend.name} N=${n} (${tuningLabel(workerEnv)}): ${row.completed}/${n} completed in ${row.wallS} s, WFT p99 ${row.workflowTaskWaitMs.p99} ms, activity p99 ${row.activityWaitMs.p99} ms`);
        }
      }
    }
    const result: CapacityResult = {
      at: new Date().toISOString(),
      machine: { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAvg1mStart, loadAvg1mEnd: Number(os.loadavg()[0]!.toFixed(1)) },
      toolLatencyMs: opts.latency,
      workerEnv: tunings.length === 1 ? tunings[0]! : {},
      idleServerCpuS: Object.fromEntries(backends.map((b) => [b.label, idleUsage[b.name]!.cpuS])),
      rows,
      totalMs: Date.now() - started,
    };
    process.stdout.write(`${capacityTable(result)}\n\n${capacityVerdicts(result).join('\n')}\n\n${perRolloutTable(result)}\n`);
    writeFileSync(path.join(projectRoot, 'bench', 'results', 'capacity.json'), `${JSON.stringify(result, null, 2)}\n`);
    if (opts.readme) {
      const file = path.join(projectRoot, 'bench', 'README.md');
      writeFileSync(file, withCapacitySection(readFileSync(file, 'utf8'), capacitySection(result, METHOD)));
      log(`wrote ${path.relative(projectRoot, file)}`);
    }
  } finally {
    for (const b of backends.reverse()) await b.stop();
  }
}
