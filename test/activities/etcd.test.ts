import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { etcdLatencyGate, type EtcdGateInput } from '../../activities/etcd.ts';
import type { ActivityDeps } from '../../activities/deps.ts';
import { peerLatencies, PEER_RTT } from '../../activities/etcd/peer-latency.ts';
import { histogramDelta, histogramQuantile, histograms, parseExposition } from '../../activities/etcd/prometheus.ts';
import { blockedDetailsOf, FailureType, findApplicationFailure } from '../../contracts/failures.ts';
import { startEtcdCluster, startToxiproxy, type EtcdCluster, type ToxiProxy } from '../helpers/etcd-cluster.ts';

describe('Prometheus exposition and histogram_quantile', () => {
  const text = [
    '# HELP etcd_network_peer_round_trip_time_seconds Round-Trip-Time histogram between peers',
    '# TYPE etcd_network_peer_round_trip_time_seconds histogram',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.001"} 0',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.002"} 50',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="0.004"} 100',
    'etcd_network_peer_round_trip_time_seconds_bucket{To="8e9e05c52164694d",le="+Inf"} 100',
    'etcd_network_peer_round_trip_time_seconds_sum{To="8e9e05c52164694d"} 0.2',
    'etcd_network_peer_round_trip_time_seconds_count{To="8e9e05c52164694d"} 100',
    'odd_metric{a="x\\"y",b="line\\nbreak" , c="back\\\\slash"} -Inf 1700000000000',
    'plain 3.5e-3',
  ].join('\n');

  test('parses labels with escapes, special values and timestamps', () => {
    const samples = parseExposition(text);
    const odd = samples.find((s) => s.name === 'odd_metric');
    assert.deepEqual(odd?.labels, { a: 'x"y', b: 'line\nbreak', c: 'back\\slash' });
    assert.equal(odd?.value, -Infinity);
    assert.equal(samples.find((s) => s.name === 'plain')?.value, 0.0035);
    assert.throws(() => parseExposition('x{a="unterminated} 1'), /unterminated/);
  });

  test('p99 interpolates inside the bucket like Prometheus', () => {
    const h = histograms(parseExposition(text), PEER_RTT, 'To').get('8e9e05c52164694d')!;
    // rank 99 of 100 lies in (0.002, 0.004] holding 50: 0.002 + 0.002 * (99-50)/50
    assert.ok(Math.abs(histogramQuantile(0.99, h) - 0.00396) < 1e-12);
    // rank 25 in the first non-empty bucket (0.001, 0.002]
    assert.ok(Math.abs(histogramQuantile(0.25, h) - 0.0015) < 1e-12);
    const inInf = { buckets: [{ le: 0.1, count: 1 }, { le: Infinity, count: 10 }], sum: 0, count: 10 };
    assert.equal(histogramQuantile(0.99, inInf), 0.1, 'the +Inf bucket answers the highest finite bound');
    assert.ok(Number.isNaN(histogramQuantile(0.99, { buckets: [{ le: 1, count: 0 }, { le: Infinity, count: 0 }], sum: 0, count: 0 })));
  });

  test('the window between two scrapes wins over history; a counter reset falls back to the later scrape', () => {
    const at = (slow: number, fast: number) =>
      parseExposition(
        [
          `${PEER_RTT}_bucket{To="a",le="0.001"} ${fast}`,
          `${PEER_RTT}_bucket{To="a",le="0.1"} ${fast + slow}`,
          `${PEER_RTT}_bucket{To="a",le="+Inf"} ${fast + slow}`,
          `${PEER_RTT}_count{To="a"} ${fast + slow}`,
        ].join('\n'),
      );
    // Long history of slow samples, then only fast ones in the window.
    const r = peerLatencies([{ name: 'm1', first: at(1000, 10), second: at(1000, 20) }], new Map([['a', 'm2']]));
    assert.equal(r.peers[0]?.basis, 'window');
    assert.ok(r.peers[0]!.p99Ms <= 1, `window p99 ${r.peers[0]!.p99Ms}`);
    const h1 = histograms(at(5, 5), PEER_RTT, 'To').get('a')!;
    const h0 = histograms(at(1, 1), PEER_RTT, 'To').get('a')!;
    assert.equal(histogramDelta(h1, h0), undefined);
  });
});

describe('etcdLatencyGate against a real three-member etcd with peer links through toxiproxy', () => {
  let toxiproxy: ToxiProxy;
  let calm: EtcdCluster;
  let slow: EtcdCluster;
  const VICTIM = 1;

  const deps = (cluster: EtcdCluster, pollBudgetMs = 5_000): ActivityDeps => ({
    tools: { env: process.env },
    secrets: undefined as never,
    workDir: '/nonexistent',
    etcdMetricsUrl: cluster.metricsUrlFor,
    pollBudgetMs,
  });

  /**
   * etcd observes each peer's RTT 5 s after it starts probing it, then every 5 s while the peer is unhealthy and
   * every 30 s once it is healthy: a member that saw its peer unhealthy at first has its sample within ~35 s.
   */
  async function samplesPresent(cluster: EtcdCluster): Promise<void> {
    const deadline = Date.now() + 45_000;
    let last = 'no scrape yet';
    for (;;) {
      try {
        const counts = await Promise.all(
          cluster.members.map(async (m) => {
            const hs = histograms(parseExposition(await (await fetch(m.metricsUrl)).text()), PEER_RTT, 'To');
            return [...hs.values()].filter((h) => h.count > 0).length;
          }),
        );
        if (counts.every((c) => c === cluster.members.length - 1)) return;
        last = `peers with samples per member: ${JSON.stringify(counts)}`;
      } catch (err) {
        last = `scrape failed: ${String(err)}`;
      }
      if (Date.now() > deadline) throw new Error(`no peer RTT samples after 45 s (${last})\n${JSON.stringify(cluster.logs())}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function startAll(): Promise<void> {
    toxiproxy = await startToxiproxy();
    // Both clusters at once: the ~5 s wait for etcd's first observation is paid once.
    const started = await Promise.allSettled([
      startEtcdCluster({ toxiproxy, tag: 'calm' }),
      startEtcdCluster({ toxiproxy, tag: 'slow', slowMember: VICTIM, latencyMs: 40 }),
    ]);
    const [c, w] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
    calm = c!;
    slow = w!;
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all([samplesPresent(calm), samplesPresent(slow)]);
  }

  async function stopAll(): Promise<void> {
    await Promise.all([calm?.close(), slow?.close()]);
    await toxiproxy?.close();
  }

  before(async () => {
    // Ports are picked free and then handed to etcd: on a busy machine another process can take one in between.
    // That is the fixture's race, not the gate's, so a second start with fresh ports is allowed (and logged).
    try {
      await startAll();
    } catch (err) {
      console.error(`etcd fixture: first start failed, retrying with fresh ports: ${String(err)}`);
      await stopAll();
      await startAll();
    }
  });

  after(stopAll);

  const gateInput = (cluster: EtcdCluster, withIds: boolean, over: Partial<EtcdGateInput> = {}): EtcdGateInput => ({
    cluster: 'c',
    // Talos prints ids zero-padded to 16 digits; the metric's To label is unpadded.
    members: cluster.members.map((m) => ({ name: m.name, address: m.address, ...(withIds ? { memberId: m.memberId.padStart(16, '0') } : {}) })),
    metricsPort: 2381,
    budgetMs: 10,
    ...over,
  });

  test('no added latency: the gate passes and names every peer pair', async () => {
    const r = await etcdLatencyGate(deps(calm), gateInput(calm, true));
    assert.equal(r.ok, true);
    assert.equal(r.peers.length, 6, JSON.stringify(r.peers));
    const names = new Set(calm.members.map((m) => m.name));
    for (const p of r.peers) {
      assert.ok(names.has(p.from) && names.has(p.to) && p.from !== p.to, JSON.stringify(p));
      assert.ok(p.p99Ms < 10, JSON.stringify(p));
    }
    assert.ok(r.worstP99Ms < 10);
    assert.equal(typeof r.walFsyncP99Ms, 'number');
  });

  test('40 ms each way on one member: the gate trips, names that member, and is overridable', async () => {
    // No memberIds given: the gate maps ids to names through each member's own etcd_server_id gauge.
    const err = await etcdLatencyGate(deps(slow), gateInput(slow, false)).then(
      (r) => assert.fail(`expected the gate to trip, got ${JSON.stringify(r)}`),
      (e: unknown) => e,
    );
    const d = blockedDetailsOf(err);
    assert.ok(d, String(err));
    const victim = slow.members[VICTIM]!.name;
    assert.match(d.reason, new RegExp(`etcd peer round-trip p99 [0-9.]+ ms between \\S+ and \\S+ exceeds the 10 ms budget`));
    assert.match(d.reason, new RegExp(victim));
    assert.equal(d.evidence?.suspect, victim);
    assert.equal(d.evidence?.to, victim);
    assert.ok(Number(d.evidence?.p99Ms) > 10);
    assert.equal(d.overridable, true);
    assert.match(d.hint, /Golden Rule/);
  });

  test('an unreachable metrics listener: transient on early attempts, then a pause naming the Talos patch', async () => {
    const input = gateInput(calm, true);
    input.members = [...input.members, { name: 'calm-cp-missing', address: '10.77.0.99' }];
    const early = await new MockActivityEnvironment({ attempt: 1 }).run(etcdLatencyGate, deps(calm, 1_000), input).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => findApplicationFailure(e),
    );
    assert.equal(early?.type, FailureType.transient);
    assert.match(early!.message, /calm-cp-missing/);

    const late = await etcdLatencyGate(deps(calm, 1_000), input).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => blockedDetailsOf(e),
    );
    assert.match(late!.reason, /cannot read etcd metrics of calm-cp-missing \(http:\/\/127\.0\.0\.1:\d+\/metrics: ECONNREFUSED\)/);
    assert.match(late!.hint, /listen-metrics-urls: http:\/\/0\.0\.0\.0:2381/);
  });

  test('two scrapes 31 s apart: the p99 comes from the window, which holds new observations', async () => {
    const scrape = () => Promise.all(calm.members.map(async (m) => parseExposition(await (await fetch(m.metricsUrl)).text())));
    const started = Date.now();
    const [r, before] = await Promise.all([etcdLatencyGate(deps(calm), gateInput(calm, true, { sampleGapMs: 31_000 })), scrape()]);
    assert.ok(Date.now() - started >= 31_000);
    assert.equal(r.peers.length, 6);
    assert.ok(r.worstP99Ms < 10);
    const later = await scrape();
    const ids = new Map(calm.members.map((m) => [m.memberId, m.name]));
    const windowed = peerLatencies(calm.members.map((m, i) => ({ name: m.name, first: before[i], second: later[i]! })), ids);
    assert.deepEqual(new Set(windowed.peers.map((p) => p.basis)), new Set(['window']), 'etcd observed every peer again within 31 s');
  });
});
