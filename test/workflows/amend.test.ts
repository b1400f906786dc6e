// Which amendments a running rollout takes (workflows/amend.ts, pure): a gate may be tightened mid-run, never
// raised (#12, case 1: `amend` used to pass a paused etcd gate without `override`).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planRollout } from '../../blueprint/plan.ts';
import { blueprintSchema } from '../../blueprint/schema.ts';
import { assertSafeAmendment } from '../../workflows/amend.ts';
import { example, type Doc } from '../blueprint/fixtures.ts';

const planOf = (change: (d: Doc) => void = () => {}) => {
  const d = example('usa-europe');
  change(d);
  return planRollout(blueprintSchema.parse(d));
};

describe('amend and the etcd gate', () => {
  test('raising the etcd budget mid-run is refused and points to override, even with a waiver', () => {
    const current = planOf();
    const raised = planOf((d) => {
      d.clusters[0].etcd = { latencyBudgetMs: 40 };
      d.clusters[0].waivers = { etcdLatencyBudget: 'metro link between two halls, 30 ms p99' };
    });
    assert.throws(
      () => assertSafeAmendment(current, raised),
      (e: Error) => /raises a gate \(clusters\[cluster-usa\]\.etcd\.latencyBudgetMs 10 → 40 ms\)/.test(e.message) && /meshpilot override .* --step etcd-latency --reason/.test(e.message),
    );
  });
  test('lowering it is a safe amendment', () => {
    assert.doesNotThrow(() => assertSafeAmendment(planOf(), planOf((d) => (d.clusters[0].etcd = { latencyBudgetMs: 5 }))));
  });
});
