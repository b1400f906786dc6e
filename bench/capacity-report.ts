// The capacity table (terminal and bench/README.md) and its section of the README, which `npm run bench -- --capacity`
// rewrites and the main benchmark keeps.
import type { CapacityRow } from './capacity-run.ts';

export interface CapacityResult {
  at: string;
  machine: { cores: number; cpu: string; node: string; loadAvg1mStart: number; loadAvg1mEnd: number };
  toolLatencyMs: number;
  workerEnv: Record<string, string>;
  /** CPU seconds each server used over 30 s with nothing running (background work: shard timers, pollers) */
  idleServerCpuS: Record<string, number>;
  rows: CapacityRow[];
  totalMs: number;
}

export const CAPACITY_START = '<!-- capacity:start (npm run bench -- --capacity rewrites this section) -->';
export const CAPACITY_END = '<!-- capacity:end -->';

/** "defaults", or the MESHPILOT_WORKER_* settings without their prefix: "WORKFLOW_TASK_SLOTS=4, ACTIVITY_SLOTS=320". */
export function tuningLabel(env: Record<string, string> | undefined): string {
  const parts = Object.entries(env ?? {}).map(([k, v]) => `${k.replace(/^MESHPILOT_WORKER_/, '')}=${v}`);
  return parts.length > 0 ? parts.join(', ') : 'defaults';
}

const s = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

export function capacityTable(r: CapacityResult): string {
  const head =
    '| rollouts | server | worker sizing | completed | wall | WFT timeouts (sticky / start-to-close) | workflow task schedule-to-start p50 / p99 / max | activity schedule-to-start p50 / p99 / max | events per rollout (avg) / largest parent / largest child | workers: peak memory (largest) / CPU s (both) | server: peak memory / CPU s | lab: CPU s | load (1 min) |';
  const rows = r.rows.map(
    (x) =>
      `| ${x.n} | ${x.backend} | ${tuningLabel(x.workerEnv)} | ${x.completed}/${x.n} | ${s(x.wallS * 1000)} | ${x.wftTimeouts.scheduleToStart} / ${x.wftTimeouts.startToClose} | ${s(x.workflowTaskWaitMs.p50)} / ${s(x.workflowTaskWaitMs.p99)} / ${s(x.workflowTaskWaitMs.max)} | ${s(x.activityWaitMs.p50)} / ${s(x.activityWaitMs.p99)} / ${s(x.activityWaitMs.max)} | ${x.events.perRolloutAvg} / ${x.events.parentMax} / ${x.events.childMax} | ${x.workers.peakMemMb} MB / ${x.workers.cpuS} | ${x.server.peakMemMb} MB / ${x.server.cpuS} | ${x.lab.cpuS} | ${x.loadAvg1m} |`,
  );
  return [head, `|${'---|'.repeat(14)}`, ...rows].join('\n');
}

/**
 * What one rollout costs, from the largest run on each server: CPU seconds of the two workers, of the server (with
 * PostgreSQL) and of the lab, and worker memory per rollout in flight — the figures docs/deployment.md sizes with.
 */
export function perRolloutTable(r: CapacityResult): string {
  const key = (x: CapacityRow) => `${x.backend}\u0000${tuningLabel(x.workerEnv)}`;
  const rows = [...new Set(r.rows.map(key))].map((k) => {
    const x = r.rows.filter((y) => key(y) === k).reduce((a, b) => (b.n > a.n ? b : a));
    const per = (v: number) => (v / x.n).toFixed(2);
    return `| ${x.backend} | ${tuningLabel(x.workerEnv)} | ${x.n} | ${per(x.workers.orchestrationCpuS)} + ${per(x.workers.cpuS - x.workers.orchestrationCpuS)} | ${per(x.server.cpuS)} | ${per(x.lab.cpuS)} | ${((x.workers.cpuS + x.server.cpuS) / x.wallS).toFixed(2)} | ${x.workers.peakMemMb} MB |`;
  });
  return [
    '| server | worker sizing | rollouts | worker CPU s per rollout (orchestration + tool shims) | server CPU s per rollout | lab CPU s per rollout | cores busy (workers + server) over the run | peak memory of one worker |',
    `|${'---|'.repeat(8)}`,
    ...rows,
  ].join('\n');
}

/** The 250-rollout target of issue #18, judged per server. */
/** Why rollouts did not complete, one line per row that has any (the first few of each). */
export function notCompletedNotes(r: CapacityResult): string[] {
  return r.rows
    .filter((x) => x.notCompleted?.length)
    .map((x) => `- ${x.n} rollouts on ${x.backend}, workers with ${tuningLabel(x.workerEnv)}: not completed: ${x.notCompleted!.map((o) => `${o.state}${o.error ? ` (${o.error.slice(0, 160)})` : ''}`).join('; ')}`);
}

export function capacityVerdicts(r: CapacityResult): string[] {
  return r.rows
    .filter((x) => x.n === Math.max(...r.rows.map((y) => y.n)))
    .map((x) => {
      const timeouts = x.wftTimeouts.scheduleToStart + x.wftTimeouts.startToClose;
      const ok = x.completed === x.n && timeouts === 0 && x.workflowTaskWaitMs.p99 < 1000 && x.activityWaitMs.p99 < 1000;
      return `- ${x.n} rollouts on ${x.backend}, workers with ${tuningLabel(x.workerEnv)}: ${x.completed}/${x.n} completed, ${timeouts} workflow-task timeouts, schedule-to-start p99 ${s(x.workflowTaskWaitMs.p99)} (workflow tasks) / ${s(x.activityWaitMs.p99)} (activities) — ${ok ? 'target met' : 'target not met'}`;
    });
}

export function capacitySection(r: CapacityResult, method: string): string {
  const sizings = [...new Set(r.rows.map((x) => tuningLabel(x.workerEnv ?? r.workerEnv)))];
  const tuning = sizings.length === 1 ? `\`${sizings[0]}\`` : `${sizings.length} sizings (one row each)`;
  return [
    CAPACITY_START,
    '## Capacity: many rollouts at once',
    '',
    `Latest run: ${r.at}, ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}; fixed tool latency ${r.toolLatencyMs} ms per call; two workers with ${tuning}; whole run ${(r.totalMs / 60_000).toFixed(1)} min; load average (1 min) ${r.machine.loadAvg1mStart} at the start, ${r.machine.loadAvg1mEnd} at the end. Idle server CPU over 30 s: ${Object.entries(r.idleServerCpuS).map(([k, v]) => `${k} ${v} s`).join(', ')}.`,
    '',
    capacityTable(r),
    '',
    ...capacityVerdicts(r),
    ...notCompletedNotes(r),
    '',
    'Per rollout, from the largest run on each server:',
    '',
    perRolloutTable(r),
    '',
    method,
    CAPACITY_END,
  ].join('\n');
}

/** The README with its capacity section replaced (or appended when it has none). */
export function withCapacitySection(readme: string, section: string): string {
  const a = readme.indexOf(CAPACITY_START);
  const b = readme.indexOf(CAPACITY_END);
  if (a >= 0 && b > a) return `${readme.slice(0, a)}${section}${readme.slice(b + CAPACITY_END.length)}`;
  return `${readme.replace(/\n*$/, '')}\n\n${section}\n`;
}

/** The capacity section of a README, for the main benchmark to carry over when it rewrites the file. */
export function capacitySectionOf(readme: string): string | undefined {
  const a = readme.indexOf(CAPACITY_START);
  const b = readme.indexOf(CAPACITY_END);
  return a >= 0 && b > a ? readme.slice(a, b + CAPACITY_END.length) : undefined;
}
