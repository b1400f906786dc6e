// What a failover drill request means against the blueprint, before anything starts: the region and the services it
// drills, and the refusals, each naming its argument; and the report's markdown, as the UI, report.md and chat show it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { FailoverInputError } from '../../client/errors.ts';
import { failoverTarget } from '../../client/failover-drill.ts';
import { failoverReportMarkdown, type FailoverReport } from '../../contracts/failover.ts';
import { SEED_BLUEPRINT } from '../helpers/lab-worker.ts';

const refused = (argument: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof FailoverInputError, String(e));
  assert.equal(e.argument, argument);
  assert.match(e.problem, pattern);
  return true;
};

describe('failoverTarget', () => {
  const seed = () => planFromFile(SEED_BLUEPRINT);

  test('a region drains its clusters; by default the canary and every global service running there and elsewhere', async () => {
    const t = failoverTarget(await seed(), 'us');
    assert.deepEqual(t.drained, ['cluster-usa']);
    assert.deepEqual(t.services, ['meshpilot-canary/meshpilot-canary', 'default/payment-api']);
    assert.deepEqual(t.clusters.map((c) => [c.name, c.region, c.podCidrs]), [['cluster-usa', 'us', ['10.1.0.0/16']], ['cluster-europe', 'eu', ['10.2.0.0/16']]]);
    assert.deepEqual(failoverTarget(await seed(), 'eu', 'default/payment-api').services, ['default/payment-api']);
  });

  test('an unknown region, a mesh of one region, a service that is not global or not NAMESPACE/NAME are refused', async () => {
    const plan = await seed();
    assert.throws(() => failoverTarget(plan, 'mars'), refused('region', /^"mars" is not a region of mesh usa-europe \(regions: eu, us\)$/));
    const one: RolloutPlan = { ...plan, clusters: plan.clusters.map((c) => ({ ...c, region: 'us' })) };
    assert.throws(() => failoverTarget(one, 'us'), refused('region', /us is the only region of mesh usa-europe: a failover drill needs another region/));
    assert.throws(() => failoverTarget(plan, 'us', 'default/frontend'), refused('service', /default\/frontend is not a global service of mesh usa-europe \(global services: meshpilot-canary\/meshpilot-canary, default\/payment-api\)/));
    assert.throws(() => failoverTarget(plan, 'us', 'payment-api'), refused('service', /"payment-api" is not NAMESPACE\/NAME/));
  });

  test('a service that runs only in the drained region is refused naming the region; one not there, naming the service', async () => {
    const plan = await seed();
    const usaOnly: RolloutPlan = { ...plan, meshPhase: { ...plan.meshPhase, manifestsByCluster: { ...plan.meshPhase.manifestsByCluster, 'cluster-europe': { globalServices: '', policies: '' } } } };
    assert.throws(() => failoverTarget(usaOnly, 'us', 'default/payment-api'), refused('region', /us is the only region where default\/payment-api runs \(cluster-usa\): draining it would leave the service no backend/));
    assert.throws(() => failoverTarget(usaOnly, 'eu', 'default/payment-api'), refused('service', /default\/payment-api does not run in region eu \(only in cluster-usa\)/));
    assert.deepEqual(failoverTarget(usaOnly, 'us').services, ['meshpilot-canary/meshpilot-canary'], 'the default leaves it out');
  });
});

describe('failoverReportMarkdown', () => {
  test('the verdict, the slowest failover, one row per region, cluster and service, the workloads', () => {
    const report: FailoverReport = {
      id: 'failover-drill-usa-europe-us',
      mesh: 'usa-europe',
      region: 'us',
      state: 'completed',
      verdict: 'failed',
      startedAt: '2026-12-01T00:00:00.000Z',
      endedAt: '2026-12-01T00:00:09.000Z',
      requestedBy: { by: 'carol', via: 'cli' },
      services: ['meshpilot-canary/meshpilot-canary'],
      skipped: [{ service: 'default/payment-api', why: 'no ready backend in any cluster' }],
      drainedAt: '2026-12-01T00:00:02.000Z',
      slowestFailoverMs: 420,
      regions: [
        { region: 'us', role: 'drained', clusters: ['cluster-usa'], observations: [{ cluster: 'cluster-usa', region: 'us', role: 'drained', service: 'meshpilot-canary/meshpilot-canary', bySource: {}, ok: false, note: 'its clients reach no backend' }] },
        { region: 'eu', role: 'surviving', clusters: ['cluster-europe'], observations: [{ cluster: 'cluster-europe', region: 'eu', role: 'surviving', service: 'meshpilot-canary/meshpilot-canary', failoverMs: 420, atFirstLook: true, bySource: { 'cluster-europe': 2 }, ok: true, note: 'fails over' }] },
      ],
      workloads: [{ cluster: 'cluster-usa', namespace: 'meshpilot-canary', name: 'meshpilot-canary', replicas: 3, services: ['meshpilot-canary/meshpilot-canary'], restoredReplicas: 3, readyReplicas: 3 }],
      restored: true,
      steps: [{ name: 'failover-observe', state: 'done' }],
      actions: [],
    };
    const md = failoverReportMarkdown(report);
    assert.match(md, /^# Failover drill: region us of mesh usa-europe: FAILED\n/);
    assert.match(md, /slowest failover \*\*420 ms\*\*/);
    assert.match(md, /not drilled: default\/payment-api \(no ready backend in any cluster\)/);
    assert.match(md, /\| us \| drained \| cluster-usa \| meshpilot-canary\/meshpilot-canary \| never \| none \| \*\*its clients reach no backend\*\* \|/);
    assert.match(md, /\| eu \| surviving \| cluster-europe \| meshpilot-canary\/meshpilot-canary \| ≤ 420 ms \| 2 in cluster-europe \| ok \|/);
    assert.match(md, /\| cluster-usa \| meshpilot-canary\/meshpilot-canary \| 3 \| 3 \| 3 \|/);
  });
});
