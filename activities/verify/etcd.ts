// etcd peer latency, through the rollout's own gate: the same p99 and budget. A gate that would pause a
// rollout is a `fail` here — verify never pauses, it reports.
import { blockedDetailsOf } from '../../contracts/failures.ts';
import type { ActivityDeps } from '../deps.ts';
import { etcdLatencyGate } from '../etcd.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { verdict, type ClusterCheckInput } from './verdicts.ts';

/**
 * The p99 covers a 35 s window by default (etcd observes each peer every 30 s), so a slow link now is not hidden by
 * months of good history; a lab worker sets deps.verifyEtcdWindowMs to 0 (its metrics are synthetic).
 */
const DEFAULT_WINDOW_MS = 35_000;

export async function checkEtcdLatency(
  deps: ActivityDeps,
  i: ClusterCheckInput & { members: Array<{ name: string; address: string }>; metricsPort: number; budgetMs: number },
): Promise<Verdict> {
  const check = 'etcd-latency';
  try {
    const r = await etcdLatencyGate(deps, {
      cluster: i.cluster,
      members: i.members,
      metricsPort: i.metricsPort,
      budgetMs: i.budgetMs,
      sampleGapMs: deps.verifyEtcdWindowMs ?? DEFAULT_WINDOW_MS,
    });
    const evidence = { worstP99Ms: r.worstP99Ms, budgetMs: i.budgetMs, peers: r.peers.length, ...(r.walFsyncP99Ms !== undefined ? { walFsyncP99Ms: r.walFsyncP99Ms } : {}) };
    return verdict(check, i.cluster, 'ok', `${i.cluster}: etcd peer p99 ${r.worstP99Ms} ms within ${i.budgetMs} ms`, '', evidence);
  } catch (err) {
    const b = blockedDetailsOf(err);
    if (!b) throw err;
    return verdict(check, i.cluster, 'fail', b.reason, b.hint, b.evidence ?? {});
  }
}
