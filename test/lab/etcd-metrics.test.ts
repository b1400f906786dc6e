import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { etcdLatencyGate } from '../../activities/etcd.ts';
import type { ActivityDeps } from '../../activities/deps.ts';
import { PEER_RTT } from '../../activities/etcd/peer-latency.ts';
import { histograms, parseExposition } from '../../activities/etcd/prometheus.ts';
import { blockedDetailsOf } from '../../contracts/failures.ts';
import { renderEtcdMetrics, startLabMetricsServer } from '../../lab/etcd-metrics.ts';
import { createLab, type FleetSpec } from '../../lab/fleet.ts';
import { writeLabState, type LabState } from '../../lab/state.ts';

const FLEET: FleetSpec = {
  clusters: [
    {
      name: 'cluster-usa',
      endpoint: 'https://10.1.0.10:6443',
      nodes: [
        { name: 'usa-cp-1', address: '10.1.0.11', site: 'usa-dc1', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-cp-2', address: '10.1.0.12', site: 'usa-dc1', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-cp-3', address: '10.1.0.13', site: 'usa-dc1', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-w-1', address: '10.1.0.21', site: 'usa-dc1', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
  ],
  siteRttMs: { 'usa-dc1': { 'usa-dc1': 1 } },
};
const IDS: Record<string, string> = { '10.1.0.11': '0a1b2c3d4e5f6071', '10.1.0.12': 'b2c3d4e5f6071829', '10.1.0.13': 'c3d4e5f60718293a' };
const CPS = FLEET.clusters[0]!.nodes.filter((n) => n.role === 'controlplane');

/** A lab whose first cluster bootstrapped `ageMs` ago with every node running. */
function bootstrappedLab(dir: string, scenario: 'happy' | 'etcd-slow', now: number, ageMs = 60_000): LabState {
  const state = createLab(dir, FLEET, { scenario });
  const since = now - ageMs;
  for (const n of Object.values(state.nodes)) {
    n.stage = 'running';
    n.stageSince = since;
    n.appliedConfigSha = 'sha';
    if (n.role === 'controlplane') n.etcdMemberId = IDS[n.address];
  }
  state.clusters['cluster-usa']!.bootstrappedAt = since;
  writeLabState(dir, state);
  return state;
}

describe('lab etcd metrics listener', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshpilot-lab-etcd-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("renders etcd 3.5's metric names, buckets and unpadded To ids, deterministically, growing with time", () => {
    const now = Date.now();
    const state = bootstrappedLab(path.join(dir, 'render'), 'happy', now);
    const text = renderEtcdMetrics(state, '10.1.0.12', now);
    assert.equal(text, renderEtcdMetrics(state, '10.1.0.12', now), 'same state and clock, same text');
    assert.match(text, /^# TYPE etcd_network_peer_round_trip_time_seconds histogram$/m);
    assert.match(text, /^etcd_network_peer_round_trip_time_seconds_bucket\{To="a1b2c3d4e5f6071",le="0\.0001"\} \d+$/m);
    assert.match(text, /^etcd_network_peer_round_trip_time_seconds_bucket\{To="a1b2c3d4e5f6071",le="3\.2768"\} \d+$/m);
    assert.match(text, /^etcd_disk_wal_fsync_duration_seconds_bucket\{le="8\.192"\} \d+$/m);
    assert.match(text, /^etcd_server_id\{server_id="b2c3d4e5f6071829"\} 1$/m);
    const les = [...text.matchAll(/To="c3d4e5f60718293a",le="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(les, ['0.0001', '0.0002', '0.0004', '0.0008', '0.0016', '0.0032', '0.0064', '0.0128', '0.0256', '0.0512', '0.1024', '0.2048', '0.4096', '0.8192', '1.6384', '3.2768', '+Inf']);

    const count = (t: string) => histograms(parseExposition(t), PEER_RTT, 'To').get('a1b2c3d4e5f6071')!.count;
    assert.ok(count(renderEtcdMetrics(state, '10.1.0.12', now + 10_000)) > count(text), 'observations accumulate');
    assert.equal(renderEtcdMetrics(state, '10.1.0.21', now), '', 'workers run no etcd');
    delete state.clusters['cluster-usa']!.bootstrappedAt;
    assert.equal(renderEtcdMetrics(state, '10.1.0.12', now), '', 'no etcd before bootstrap');
  });

  test('the same etcdLatencyGate passes on a healthy lab cluster and trips on etcd-slow naming the member', async () => {
    const now = Date.now();
    const healthyDir = path.join(dir, 'healthy');
    const slowDir = path.join(dir, 'slow');
    bootstrappedLab(healthyDir, 'happy', now);
    const slowState = bootstrappedLab(slowDir, 'etcd-slow', now);
    const victim = Object.values(slowState.nodes).find((n) => n.address === (slowState.faults.slowEtcdMember as { address: string }).address)!;
    const [healthy, slow] = await Promise.all([startLabMetricsServer(healthyDir), startLabMetricsServer(slowDir)]);
    try {
      const deps = (urlFor: (a: string, p: number) => string): ActivityDeps => ({
        tools: { env: {} },
        secrets: undefined as never,
        workDir: dir,
        etcdMetricsUrl: urlFor,
        pollBudgetMs: 1_000,
      });
      const input = { cluster: 'cluster-usa', members: CPS.map((n) => ({ name: n.name, address: n.address })), metricsPort: 2381, budgetMs: 10 };

      const ok = await etcdLatencyGate(deps(healthy.urlFor), input);
      assert.equal(ok.peers.length, 6);
      assert.ok(ok.worstP99Ms > 0.5 && ok.worstP99Ms < 2, `same site ~1 ms, got ${ok.worstP99Ms}`);
      assert.ok(ok.peers.every((p) => CPS.some((c) => c.name === p.to)), 'ids mapped to names via etcd_server_id');
      assert.ok(ok.walFsyncP99Ms !== undefined && ok.walFsyncP99Ms < 10);

      const d = await etcdLatencyGate(deps(slow.urlFor), input).then(
        (r) => assert.fail(`expected a trip, got ${JSON.stringify(r)}`),
        (e: unknown) => blockedDetailsOf(e),
      );
      assert.match(d!.reason, /exceeds the 10 ms budget/);
      assert.match(d!.reason, new RegExp(victim.name));
      assert.equal(d!.evidence?.suspect, victim.name);
      assert.ok(Number(d!.evidence?.p99Ms) > 25);
    } finally {
      await Promise.all([healthy.close(), slow.close()]);
    }
  });

  test('404 for an unknown node, 503 where no etcd listens; the gate pauses naming the Talos patch', async () => {
    const lab = path.join(dir, 'codes');
    bootstrappedLab(lab, 'happy', Date.now());
    const server = await startLabMetricsServer(lab);
    try {
      assert.equal((await fetch(server.urlFor('10.9.9.9', 2381))).status, 404);
      assert.equal((await fetch(server.urlFor('10.1.0.21', 2381))).status, 503);
      const res = await fetch(server.urlFor('10.1.0.11', 2381));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /version=0\.0\.4/);
      const d = await etcdLatencyGate(
        { tools: { env: {} }, secrets: undefined as never, workDir: lab, etcdMetricsUrl: server.urlFor, pollBudgetMs: 500 },
        { cluster: 'cluster-usa', members: [...CPS, FLEET.clusters[0]!.nodes[3]!].map((n) => ({ name: n.name, address: n.address })), metricsPort: 2381, budgetMs: 10 },
      ).then(
        () => assert.fail('expected a pause'),
        (e: unknown) => blockedDetailsOf(e),
      );
      assert.match(d!.reason, /usa-w-1 \(.*HTTP 503\)/);
      assert.match(d!.hint, /listen-metrics-urls/);
    } finally {
      await server.close();
    }
  });
});
