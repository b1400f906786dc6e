// CPU seconds spent by this process, its reaped children (every tool process, once execa has waited for it) and
// the Temporal dev server, from /proc: on 2 cores CPU, not the fixed tool latency, can be what limits a big mesh.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Linux USER_HZ: 100 on every mainstream kernel build. */
const TICKS_PER_S = 100;

function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "(comm)"; comm may hold spaces
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime+stime (+cutime+cstime with `children`) of a process, in seconds. */
function cpuOf(pid: number | 'self', children: boolean): number {
  const f = statFields(pid);
  if (!f) return 0;
  // after the comm: [0]=state ... utime is field 14 overall → index 11 here
  const n = (i: number) => Number(f[i] ?? 0);
  return (n(11) + n(12) + (children ? n(13) + n(14) : 0)) / TICKS_PER_S;
}

/** Live child processes of this process whose command line names `temporal` (the dev server). */
function temporalServerPids(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (!f || Number(f[1]) !== process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('temporal')) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

export interface CpuSample {
  bench: number;
  server: number;
}

export function sampleCpu(): CpuSample {
  return { bench: cpuOf('self', true), server: temporalServerPids().reduce((t, p) => t + cpuOf(p, false), 0) };
}

/** CPU seconds between two samples: worker + workflows + tool processes, and the Temporal server. */
export function cpuSince(a: CpuSample): { workerAndTools: number; server: number } {
  const b = sampleCpu();
  return { workerAndTools: b.bench - a.bench, server: b.server - a.server };
}

/** Load average at the end of the run: the machine may be shared, and the figures mean less when it was busy. */
export const machineFacts = () => ({
  cores: os.availableParallelism(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  loadAvg1m: Number(os.loadavg()[0]!.toFixed(1)),
});
