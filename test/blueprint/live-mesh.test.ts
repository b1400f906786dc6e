// A blueprint held against the live mesh it changes (blueprint/live-mesh.ts): what a join refuses, naming the
// field, and what a peer-list change may not lose.
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { backendLosses, describeLiveMeshProblems, liveMeshProblems, probeRangesFor } from '../../blueprint/live-mesh.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { projectRoot } from '../../config/env.ts';
import type { LiveCluster } from '../../contracts/live-mesh.ts';

const member = (cluster: string, id: number, extra: Partial<LiveCluster> = {}): LiveCluster => ({
  cluster,
  state: 'member',
  note: 'a member',
  kubeconfigRef: `mesh/usa-europe/${cluster}/kubeconfig`,
  ciliumName: cluster,
  clusterId: id,
  maxConnectedClusters: 255,
  peers: [],
  podCidrs: [],
  rangeHits: [],
  ...extra,
});
const absent = (cluster: string): LiveCluster => ({ cluster, state: 'absent', note: 'no kubeconfig', peers: [], podCidrs: [], rangeHits: [] });

describe('live mesh problems (join pre-flight)', () => {
  let plan: RolloutPlan;
  before(async () => {
    plan = await planFromFile(path.join(projectRoot, 'examples', 'usa-europe-asia.yaml'));
  });
  const healthy = () => [member('cluster-usa', 1, { peers: ['cluster-europe'] }), member('cluster-europe', 2, { peers: ['cluster-usa'] }), absent('cluster-asia')];

  test('a first rollout (no member) and a clean join have no problem', () => {
    assert.deepEqual(
      liveMeshProblems(
        plan,
        plan.clusters.map((c) => absent(c.name)),
      ),
      [],
    );
    assert.deepEqual(liveMeshProblems(plan, healthy()), []);
  });

  test('a joining ID a member uses, and the member whose live ID differs, are both named by field', () => {
    const live = healthy();
    live[0] = member('cluster-usa', 3, { peers: ['cluster-europe'] });
    const fields = liveMeshProblems(plan, live).map((p) => p.field);
    assert.deepEqual(fields.sort(), ['clusters[0].id', 'clusters[2].id']);
    const d = describeLiveMeshProblems(liveMeshProblems(plan, live), 'rollout-x');
    assert.match(d.reason, /cluster ID 3 of joining cluster cluster-asia is in use by cluster-usa/);
    assert.match(d.hint, /meshpilot amend rollout-x FILE/);
  });

  test('a joining name in use, overlapping ranges, maxConnectedClusters and a forgotten live peer', () => {
    const live = healthy();
    live[0] = member('cluster-usa', 1, {
      peers: ['cluster-europe', 'cluster-old'],
      maxConnectedClusters: 511,
      rangeHits: [{ owner: 'cluster-asia', path: 'clusters[2].network.podSubnets[0]', cidr: '10.3.0.0/16', example: 'node usa-w-1 podCIDR 10.3.0.0/24' }],
    });
    live[1] = member('cluster-europe', 2, { peers: ['cluster-usa'], ciliumName: 'cluster-asia' });
    const byField = new Map(liveMeshProblems(plan, live).map((p) => [p.field + ' ' + p.message.slice(0, 30), p]));
    const fields = [...byField.values()].map((p) => p.field).sort();
    assert.ok(fields.includes('clusters'), 'the live peer the blueprint does not list');
    assert.ok(fields.includes('mesh.maxConnectedClusters'));
    assert.ok(fields.includes('clusters[2].network.podSubnets[0]'));
    assert.ok(fields.includes('clusters[2].name'), 'a joining name a member runs as');
    assert.ok(fields.includes('clusters[1].name'), 'a member running under another name');
    const forgotten = [...byField.values()].find((p) => p.field === 'clusters')!;
    assert.match(forgotten.fix, /meshpilot detach usa-europe cluster-old/);
  });

  test('a joining ID above the live max-connected-clusters is refused', () => {
    // a member's own ID 1 and 2 stay within a live cap of 2; the joining 3 does not (and the blueprint's 255 differs)
    const live = healthy().map((l) => (l.state === 'member' ? { ...l, maxConnectedClusters: 2 } : l));
    const problems = liveMeshProblems(plan, live).filter((p) => p.field !== 'mesh.maxConnectedClusters');
    assert.deepEqual(
      problems.map((p) => p.field),
      ['clusters[2].id'],
    );
    assert.match(problems[0]!.message, /above the live mesh's max-connected-clusters 2/);
  });

  test("probe ranges are every other cluster's, by blueprint field", () => {
    const ranges = probeRangesFor(plan, 'cluster-usa');
    assert.ok(ranges.every((r) => r.owner !== 'cluster-usa'));
    assert.ok(ranges.some((r) => r.owner === 'cluster-asia' && r.path === 'clusters[2].network.podSubnets[0]' && r.cidr === '10.3.0.0/16'));
  });
});

describe('backend losses (global services during a peer-list change)', () => {
  const before = [{ cluster: 'cluster-usa', services: [{ service: 'shop/cart', bySource: { 'cluster-usa': 2, 'cluster-europe': 3 } }] }];

  test('pod churn is not a loss; a source that vanished is', () => {
    const churn = [{ cluster: 'cluster-usa', services: [{ service: 'shop/cart', bySource: { 'cluster-usa': 1, 'cluster-europe': 5 } }] }];
    assert.deepEqual(backendLosses(before, churn, { keep: ['cluster-usa', 'cluster-europe'] }), []);
    const lost = [{ cluster: 'cluster-usa', services: [{ service: 'shop/cart', bySource: { 'cluster-usa': 2 } }] }];
    assert.deepEqual(backendLosses(before, lost, { keep: ['cluster-usa', 'cluster-europe'] }), [
      { cluster: 'cluster-usa', service: 'shop/cart', source: 'cluster-europe', before: 3, after: 0, kind: 'lost' },
    ]);
  });

  test('after a detach the leaving cluster must serve nothing', () => {
    const withAsia = [{ cluster: 'cluster-usa', services: [{ service: 'shop/cart', bySource: { 'cluster-usa': 2, 'cluster-europe': 3, 'cluster-asia': 1 } }] }];
    const losses = backendLosses(withAsia, withAsia, { keep: ['cluster-usa', 'cluster-europe'], gone: 'cluster-asia' });
    assert.deepEqual(
      losses.map((l) => l.kind),
      ['lingering'],
    );
  });
});
