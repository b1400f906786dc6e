// The table and bench/README.md: figures as ratios measured side by side in one run.
import type { MeshpilotRun, RunbookRun } from './meshpilot-run.ts';
import type { ResumeLatency } from './resume-latency.ts';

export interface BenchResult {
  at: string;
  machine: { cores: number; node: string; cpu: string; loadAvg1m?: number };
  toolLatencyMs: number;
  pollBudgetMs: number;
  rows: Array<{ meshpilot: MeshpilotRun; runbook: RunbookRun }>;
  resume: ResumeLatency;
  totalMs: number;
}

const s = (ms: number) => (ms / 1000).toFixed(1);
const x = (r: number) => `${r.toFixed(2)}×`;

export function table(r: BenchResult): string {
  const head = '| clusters | meshpilot s | runbook s | critical path s (clusters + mesh) | meshpilot / critical | runbook / meshpilot | tool calls (mp / rb) | max history events (parent / child) | CPU s (worker+tools / server) |';
  const lines = [head, `|${'---|'.repeat(9)}`];
  for (const { meshpilot: m, runbook: b } of r.rows) {
    lines.push(
      `| ${m.clusters} | ${s(m.wallMs)} | ${s(b.wallMs)} | ${s(m.critical.totalMs)} (${s(m.critical.clusterPhaseMs)} + ${s(m.critical.meshPhaseMs)}) | ${x(m.wallMs / m.critical.totalMs)} | ${x(b.wallMs / m.wallMs)} | ${m.toolCalls} / ${b.toolCalls} | ${m.parentEvents} / ${m.maxChildEvents} | ${m.cpu.workerAndTools.toFixed(0)} / ${m.cpu.server.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

export function targets(r: BenchResult): string[] {
  const first = r.rows[0]!.meshpilot;
  const last = r.rows.at(-1)!.meshpilot;
  const worstCritical = Math.max(...r.rows.map((x) => x.meshpilot.wallMs / x.meshpilot.critical.totalMs));
  const maxEvents = Math.max(...r.rows.flatMap((x) => [x.meshpilot.parentEvents, x.meshpilot.maxChildEvents]));
  const scale = last.wallMs / first.wallMs;
  const mark = (ok: boolean) => (ok ? 'met' : '**NOT met**');
  return [
    `- wall time within 1.15× of the critical path: worst ${x(worstCritical)} — ${mark(worstCritical <= 1.15)}`,
    `- ${last.clusters} clusters within 1.5× of ${first.clusters} clusters' time: ${x(scale)} — ${mark(scale <= 1.5)}`,
    `- no workflow history above 2,000 events: max ${maxEvents} — ${mark(maxEvents <= 2000)}`,
    `- every meshpilot run completed: ${r.rows.every((x) => x.meshpilot.state === 'completed') ? 'yes' : `**no** (${r.rows.map((x) => x.meshpilot.state).join(', ')})`}`,
    `- resume → the step checks again (step ${r.resume.step}), server clock: update accepted → re-check activity scheduled ${r.resume.acceptedToScheduledMs.toFixed(0)} ms, → started on the worker ${r.resume.acceptedToStartedMs.toFixed(0)} ms; as a client sees it (resume sent → view no longer shows the step blocked, which waits for the re-check's own tool calls at ${r.toolLatencyMs} ms each): ${r.resume.clientToUnblockedMs} ms`,
  ];
}
