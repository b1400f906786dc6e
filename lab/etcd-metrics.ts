import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readLabState, type LabNode, type LabState } from './state.ts';
import { isEtcdMember, isUnreachable } from './talos/stages.ts';

/**
 * The lab's stand-in for etcd's metrics listener (`--listen-metrics-urls`, :2381 on Talos with the patch):
 * real Prometheus text with etcd 3.5's metric names, labels and buckets, so `etcdLatencyGate` reads it exactly
 * as it reads a real member. Round trips come from the lab's site matrix plus `faults.slowEtcdMember`;
 * counts grow with time since the cluster bootstrapped; jitter comes from a PRNG seeded by the pair, so the
 * same state and clock always render the same text.
 */
export const LAB_ETCD = {
  /** etcd observes each peer every 30 s (two probers per peer); the lab compresses that like its Talos clocks */
  observeEveryMs: 1_000,
  /** WAL fsyncs per second of simulated life, and their typical duration on a healthy NVMe */
  fsyncPerSecond: 5,
  fsyncMs: 1.5,
  version: '3.5.16',
} as const;

// etcd 3.5 server/etcdserver/api/rafthttp/metrics.go: ExponentialBuckets(0.0001, 2, 16)
const RTT_BUCKETS = Array.from({ length: 16 }, (_, i) => 0.0001 * 2 ** i);
// etcd 3.5 server/storage/wal/metrics.go: ExponentialBuckets(0.001, 2, 14)
const FSYNC_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);
/** jitter repeats with this period so rendering a long-lived cluster stays O(period), not O(samples) */
const PATTERN = 256;

function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Go's %g-like rendering of bucket bounds: 0.0001, 0.0128, 3.2768 (no float noise such as 0.00030000000000000003). */
const fmtLe = (v: number) => String(Number(v.toPrecision(12)));

interface Rendered {
  buckets: number[];
  sum: number;
  count: number;
}

/** `count` observations drawn cyclically from a seeded pattern of `PATTERN` values around `meanSeconds`. */
function observe(seed: string, count: number, meanSeconds: number, spread: number, bounds: number[]): Rendered {
  const rand = mulberry32(seedOf(seed));
  const values = Array.from({ length: PATTERN }, () => meanSeconds * (1 - spread + 2 * spread * rand()));
  const cycles = Math.floor(count / PATTERN);
  const rest = count % PATTERN;
  const buckets = bounds.map(() => 0);
  let sum = 0;
  values.forEach((v, k) => {
    const times = cycles + (k < rest ? 1 : 0);
    if (times === 0) return;
    sum += v * times;
    bounds.forEach((b, i) => {
      if (v <= b) buckets[i]! += times;
    });
  });
  return { buckets, sum, count };
}

function histogramLines(name: string, h: Rendered, bounds: number[], label?: [string, string]): string[] {
  const l = label ? `${label[0]}="${label[1]}",` : '';
  const only = label ? `{${label[0]}="${label[1]}"}` : '';
  return [
    ...bounds.map((b, i) => `${name}_bucket{${l}le="${fmtLe(b)}"} ${h.buckets[i]}`),
    `${name}_bucket{${l}le="+Inf"} ${h.count}`,
    `${name}_sum${only} ${h.sum}`,
    `${name}_count${only} ${h.count}`,
  ];
}

function rttMs(state: LabState, a: LabNode, b: LabNode): number {
  const base = state.siteRttMs[a.site]?.[b.site] ?? state.siteRttMs[b.site]?.[a.site] ?? 1;
  const slow = state.faults.slowEtcdMember as { address: string; extraRttMs: number } | undefined;
  const extra = slow && (slow.address === a.address || slow.address === b.address) ? slow.extraRttMs : 0;
  return base + extra;
}

/** Running etcd members of this node's cluster, itself included (empty when this node is not one). */
function membersWith(state: LabState, node: LabNode, now: number): LabNode[] {
  if (!isEtcdMember(state, node, now)) return [];
  return Object.values(state.nodes)
    .filter((n) => n.cluster === node.cluster && isEtcdMember(state, n, now))
    .sort((x, y) => x.name.localeCompare(y.name));
}

/** What `GET http://<address>:2381/metrics` would answer now: '' when no etcd runs at this address. */
export function renderEtcdMetrics(state: LabState, address: string, now: number): string {
  const self = state.nodes[address];
  if (!self) return '';
  const members = membersWith(state, self, now);
  if (members.length === 0) return '';
  const bootstrappedAt = state.clusters[self.cluster]!.bootstrappedAt!;
  const alive = (n: LabNode) => Math.max(0, now - Math.max(bootstrappedAt, n.stageSince));
  const id = self.etcdMemberId!;
  const out: string[] = [];

  const fsyncCount = Math.floor((alive(self) / 1000) * LAB_ETCD.fsyncPerSecond) + 10;
  out.push(
    '# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.',
    '# TYPE etcd_disk_wal_fsync_duration_seconds histogram',
    ...histogramLines('etcd_disk_wal_fsync_duration_seconds', observe(`fsync|${address}`, fsyncCount, LAB_ETCD.fsyncMs / 1000, 0.5, FSYNC_BUCKETS), FSYNC_BUCKETS),
  );

  out.push(
    '# HELP etcd_network_peer_round_trip_time_seconds Round-Trip-Time histogram between peers',
    '# TYPE etcd_network_peer_round_trip_time_seconds histogram',
  );
  for (const peer of members) {
    if (peer.address === self.address) continue;
    // Two probers per peer (raft message + snapshot round-trippers), each observing once per interval.
    const count = 2 * (1 + Math.floor(Math.min(alive(self), alive(peer)) / LAB_ETCD.observeEveryMs));
    const mean = rttMs(state, self, peer) / 1000;
    const to = BigInt(`0x${peer.etcdMemberId}`).toString(16);
    out.push(...histogramLines('etcd_network_peer_round_trip_time_seconds', observe(`rtt|${self.address}|${peer.address}`, count, mean, 0.15, RTT_BUCKETS), RTT_BUCKETS, ['To', to]));
  }

  const leader = members[0]!.address === self.address ? 1 : 0;
  out.push(
    '# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.',
    '# TYPE etcd_server_has_leader gauge',
    'etcd_server_has_leader 1',
    "# HELP etcd_server_id Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    '# TYPE etcd_server_id gauge',
    `etcd_server_id{server_id="${BigInt(`0x${id}`).toString(16)}"} 1`,
    '# HELP etcd_server_is_leader Whether or not this member is a leader. 1 if is, 0 otherwise.',
    '# TYPE etcd_server_is_leader gauge',
    `etcd_server_is_leader ${leader}`,
    '# HELP etcd_server_version Which version is running. 1 for \'server_version\' label with current version.',
    '# TYPE etcd_server_version gauge',
    `etcd_server_version{server_version="${LAB_ETCD.version}"} 1`,
  );
  return out.join('\n') + '\n';
}

/**
 * One loopback server standing in for every node's :2381 listener: `/nodes/<address>/metrics`. Unknown address →
 * 404; a node where no etcd listens (off, rebooting, unreachable, worker, not bootstrapped) → 503, which the gate
 * treats like a refused connection.
 */
export async function startLabMetricsServer(labDir: string): Promise<{ urlFor: (address: string, port: number) => string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const m = /^\/nodes\/([^/]+)\/(metrics|health)$/.exec(req.url ?? '');
    if (!m || req.method !== 'GET') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    let state: LabState;
    try {
      state = readLabState(labDir);
    } catch (err) {
      return void res.writeHead(500, { 'content-type': 'text/plain' }).end(`lab state unreadable: ${(err as Error).message}\n`);
    }
    const address = decodeURIComponent(m[1]!);
    if (!state.nodes[address]) return void res.writeHead(404, { 'content-type': 'text/plain' }).end(`no lab node ${address}\n`);
    const text = isUnreachable(state, address) ? '' : renderEtcdMetrics(state, address, Date.now());
    if (!text) return void res.writeHead(503, { 'content-type': 'text/plain' }).end(`connection refused: no etcd metrics listener on ${address}\n`);
    if (m[2] === 'health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"health":"true"}');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    // The real port (2381) is part of the address on metal; here one server answers for every node.
    urlFor: (address) => `http://127.0.0.1:${port}/nodes/${encodeURIComponent(address)}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
