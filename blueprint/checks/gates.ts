// Gates are policy, not free numbers: the etcd latency budget is the Golden Rule (10 ms) unless a written
// waiver raises it, and no waiver raises it past the hard limit (the schema refuses that). A waiver is repeated
// as a WAIVED warning on every validate and plan, and the rollout records it in its audit when it is used.
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';
import { ETCD_BUDGET_HARD_MAX_MS, GOLDEN_RULE_ETCD_RTT_MS } from '../limits.ts';

export function checkGates(bp: Blueprint, sink: IssueSink): void {
  bp.clusters.forEach((c, ci) => {
    const budget = c.etcd.latencyBudgetMs;
    const waiver = c.waivers.etcdLatencyBudget;
    if (budget > GOLDEN_RULE_ETCD_RTT_MS) {
      if (waiver) {
        sink.warn(
          ['clusters', ci, 'waivers', 'etcdLatencyBudget'],
          `WAIVED: ${c.name}'s etcd gate accepts peer round trips up to ${budget} ms, above the Golden Rule's ${GOLDEN_RULE_ETCD_RTT_MS} ms: ${waiver}`,
        );
      } else {
        sink.error(
          ['clusters', ci, 'etcd', 'latencyBudgetMs'],
          `${budget} ms is above the Golden Rule's ${GOLDEN_RULE_ETCD_RTT_MS} ms: etcd needs its members well under 10 ms apart, and a raised gate ` +
            `lets a stretched control plane through; keep the budget, or waive it visibly with clusters[${ci}].waivers.etcdLatencyBudget: "<reason>" ` +
            `(never above ${ETCD_BUDGET_HARD_MAX_MS} ms)`,
        );
      }
    } else if (waiver) {
      sink.warn(['clusters', ci, 'waivers', 'etcdLatencyBudget'], `waiver unused: ${c.name}'s etcd budget (${budget} ms) is within the Golden Rule; remove it`);
    }
  });
}
