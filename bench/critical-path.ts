// Baseline (c): the critical path of tool time, from the calls meshpilot's own run actually made.
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { CallRecord } from '../lab/call-log.ts';
import type { RolloutView } from '../contracts/status.ts';

type Interval = [number, number];

/** Length of the union of intervals: calls that overlap in time count once. */
export function unionMs(intervals: Interval[]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cur: Interval | undefined;
  for (const [s, e] of sorted) {
    if (!cur || s > cur[1]) {
      if (cur) total += cur[1] - cur[0];
      cur = [s, e];
    } else cur[1] = Math.max(cur[1], e);
  }
  return cur ? total + cur[1] - cur[0] : total;
}

const argAfter = (argv: string[], flag: string) => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};

/**
 * Which cluster a call belongs to: talosctl names the node (`-n`) or the cluster (`gen config NAME`, and
 * `validate -c` a file under that gen's output dir); kubectl/helm/cilium name the API server through the shim's
 * tag. Calls that name nothing (tool version checks, `gen secrets`) go to a cluster whose step was running then.
 */
export function attributeCalls(plan: RolloutPlan, view: RolloutView, calls: CallRecord[], tags: Map<number, string>): Map<CallRecord, string> {
  const byAddress = new Map(plan.clusters.flatMap((c) => c.nodes.map((n) => [n.address, c.name] as const)));
  const byServer = new Map(plan.clusters.map((c) => [c.endpoint.replace(/\/+$/, ''), c.name] as const));
  const genDirs = new Map<string, string>();
  const out = new Map<CallRecord, string>();
  const unnamed: CallRecord[] = [];
  for (const call of calls) {
    let cluster: string | undefined;
    if (call.tool === 'talosctl') {
      const node = argAfter(call.argv, '-n');
      if (node) cluster = byAddress.get(node);
      else if (call.argv[0] === 'gen' && call.argv[1] === 'config') {
        cluster = call.argv[2];
        const o = argAfter(call.argv, '-o');
        if (o && cluster) genDirs.set(o, cluster);
      } else if (call.argv[0] === 'validate') {
        const file = argAfter(call.argv, '-c') ?? '';
        cluster = [...genDirs].find(([dir]) => file.startsWith(dir))?.[1];
      }
    } else {
      cluster = byServer.get((tags.get(call.pid) ?? '').replace(/\/+$/, ''));
    }
    if (cluster) out.set(call, cluster);
    else unnamed.push(call);
  }
  const windows = view.clusters.flatMap((c) =>
    c.steps.filter((s) => s.startedAt).map((s) => ({ cluster: c.name, from: Date.parse(s.startedAt!), to: s.endedAt ? Date.parse(s.endedAt) : Infinity })),
  );
  const load = new Map<string, number>();
  for (const call of unnamed) {
    const candidates = windows.filter((w) => w.from <= call.startedAt && call.startedAt <= w.to).map((w) => w.cluster);
    if (candidates.length === 0) continue;
    // Clusters run the same steps: spread ambiguous calls evenly rather than piling them on one.
    const pick = candidates.sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0))[0]!;
    load.set(pick, (load.get(pick) ?? 0) + 1);
    out.set(call, pick);
  }
  return out;
}

export interface CriticalPath {
  /** the longest per-cluster union of tool time before the mesh phase */
  clusterPhaseMs: number;
  slowestCluster: string;
  /** union of tool time from the connect step on */
  meshPhaseMs: number;
  totalMs: number;
  /** calls that could not be given to a cluster (counted nowhere) */
  unattributed: number;
  /** sum of every call's duration: tool time if nothing ran in parallel */
  serialToolMs: number;
}

export function criticalPath(plan: RolloutPlan, view: RolloutView, calls: CallRecord[], tags: Map<number, string>): CriticalPath {
  // `connect` is the first mesh step that needs every cluster; steps before it (the shared CA) run at the start.
  const connect = view.meshSteps.find((s) => s.name === 'connect')?.startedAt;
  if (!connect) throw new Error('critical path: the rollout never started its connect step');
  const meshStart = Date.parse(connect);
  const clusterCalls = calls.filter((c) => c.startedAt < meshStart);
  const meshCalls = calls.filter((c) => c.startedAt >= meshStart);
  const owner = attributeCalls(plan, view, clusterCalls, tags);
  let clusterPhaseMs = 0;
  let slowestCluster = '';
  for (const c of plan.clusters) {
    const ms = unionMs(clusterCalls.filter((x) => owner.get(x) === c.name).map((x) => [x.startedAt, x.startedAt + x.durationMs]));
    if (ms > clusterPhaseMs) [clusterPhaseMs, slowestCluster] = [ms, c.name];
  }
  const meshPhaseMs = unionMs(meshCalls.map((x) => [x.startedAt, x.startedAt + x.durationMs]));
  return {
    clusterPhaseMs,
    slowestCluster,
    meshPhaseMs,
    totalMs: clusterPhaseMs + meshPhaseMs,
    unattributed: clusterCalls.length - owner.size,
    serialToolMs: calls.reduce((t, c) => t + c.durationMs, 0),
  };
}
