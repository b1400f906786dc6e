// CPU and memory of the processes a capacity run is about, from /proc, sampled once a second: each worker (with
// the tool shims it started and reaped), the Temporal server (with PostgreSQL and its backends on the production
// stack), and the lab process. Memory is the peak of the group's proportional set size (PSS: shared pages are
// split between the processes sharing them, so PostgreSQL's shared buffers count once, not once per backend).
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100;

function stat(pid: number): { ppid: number; cpuS: number; childrenCpuS: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(f[i] ?? 0);
    return { ppid: n(1), cpuS: (n(11) + n(12)) / TICKS_PER_S, childrenCpuS: (n(13) + n(14)) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}

function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** pid and every live descendant. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  if (stat(root)) walk(root);
  return out;
}

export interface GroupUsage {
  /** CPU seconds over the run: the group's processes, their children included */
  cpuS: number;
  /** of which the roots' own (for a worker: orchestration, without the tool processes it started) */
  ownCpuS: number;
  peakMemMb: number;
}

interface Cpu {
  total: number;
  own: number;
}

/** Samples named process groups (a root pid and its descendants) until stop(). */
export function sampleGroups(groups: Record<string, number[]>): { stop(): Record<string, GroupUsage> } {
  const cpu0 = new Map<string, Cpu>();
  const peak = new Map<string, number>();
  const cpuOf = (roots: number[]): Cpu => {
    const cpu = { total: 0, own: 0 };
    for (const root of roots) {
      for (const pid of tree(root)) {
        const s = stat(pid);
        if (!s) continue;
        // a live descendant's CPU is counted as its own; once reaped it moves into its parent's children CPU
        cpu.total += s.cpuS + (pid === root ? s.childrenCpuS : 0);
        if (pid === root) cpu.own += s.cpuS;
      }
    }
    return cpu;
  };
  const sample = () => {
    for (const [name, roots] of Object.entries(groups)) {
      const kb = roots.flatMap(tree).reduce((t, p) => t + pssKb(p), 0);
      peak.set(name, Math.max(peak.get(name) ?? 0, kb));
    }
  };
  for (const [name, roots] of Object.entries(groups)) cpu0.set(name, cpuOf(roots));
  sample();
  const timer = setInterval(sample, 1_000);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Object.fromEntries(
        Object.entries(groups).map(([name, roots]) => {
          const now = cpuOf(roots);
          const before = cpu0.get(name)!;
          return [name, { cpuS: round(now.total - before.total), ownCpuS: round(now.own - before.own), peakMemMb: Math.round(peak.get(name)! / 1024) }];
        }),
      );
    },
  };
}
