import { histogramDelta, histogramQuantile, histograms, type Histogram, type Sample } from './prometheus.ts';

/**
 * From scraped etcd metrics to per-peer p99s. etcd (3.3-3.5, rafthttp) observes each peer's smoothed RTT into
 * `etcd_network_peer_round_trip_time_seconds{To="<member id, unpadded hex>"}`; `etcd_server_id{server_id}`
 * (3.4+) says which member is speaking; `etcd_disk_wal_fsync_duration_seconds` is the disk signal.
 */
export const PEER_RTT = 'etcd_network_peer_round_trip_time_seconds';
export const WAL_FSYNC = 'etcd_disk_wal_fsync_duration_seconds';
export const SERVER_ID = 'etcd_server_id';

/** Talos prints `%016x`, the `To` label is unpadded: compare ids as unpadded lower-case hex. */
export function normaliseMemberId(id: string): string {
  const hex = id.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new Error(`member id ${JSON.stringify(id)} is not a hex etcd member id`);
  return hex.replace(/^0+(?=.)/, '');
}

export function ownServerId(samples: Sample[]): string | undefined {
  const s = samples.find((x) => x.name === SERVER_ID && x.value === 1 && x.labels.server_id);
  return s ? normaliseMemberId(s.labels.server_id!) : undefined;
}

export interface MemberScrape {
  name: string;
  /** the earlier scrape, when the gate sampled twice */
  first?: Sample[];
  second: Sample[];
}

export interface PeerLatency {
  from: string;
  /** the peer's member name, or its hex id when no member maps to it */
  to: string;
  toId: string;
  p99Ms: number;
  /** observations the p99 was computed from */
  samples: number;
  /** 'window': only observations between the two scrapes; 'cumulative': everything since the member started */
  basis: 'window' | 'cumulative';
}

/**
 * The window between two scrapes when it holds observations (the verdict reflects now, not a week-old spike);
 * otherwise everything since the member started (a fresh member, or a gap shorter than etcd's 30 s cadence).
 */
function pick(first: Histogram | undefined, second: Histogram): { h: Histogram; basis: PeerLatency['basis'] } {
  if (first && first.count > 0) {
    const d = histogramDelta(first, second);
    if (d && d.count > 0) return { h: d, basis: 'window' };
  }
  return { h: second, basis: 'cumulative' };
}

const ms = (seconds: number) => Math.round(seconds * 1000 * 1000) / 1000;

export function peerLatencies(scrapes: MemberScrape[], idToName: Map<string, string>): { peers: PeerLatency[]; walFsyncP99Ms?: number } {
  const peers: PeerLatency[] = [];
  let wal: number | undefined;
  for (const s of scrapes) {
    const before = s.first ? histograms(s.first, PEER_RTT, 'To') : undefined;
    for (const [rawTo, h] of histograms(s.second, PEER_RTT, 'To')) {
      const { h: used, basis } = pick(before?.get(rawTo), h);
      const p99 = histogramQuantile(0.99, used);
      if (Number.isNaN(p99)) continue;
      const toId = normaliseMemberId(rawTo);
      peers.push({ from: s.name, to: idToName.get(toId) ?? toId, toId, p99Ms: ms(p99), samples: used.count, basis });
    }
    const walNow = histograms(s.second, WAL_FSYNC).get('');
    if (walNow) {
      const { h } = pick(s.first ? histograms(s.first, WAL_FSYNC).get('') : undefined, walNow);
      const p99 = histogramQuantile(0.99, h);
      if (!Number.isNaN(p99)) wal = Math.max(wal ?? 0, ms(p99));
    }
  }
  peers.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  return { peers, ...(wal === undefined ? {} : { walFsyncP99Ms: wal }) };
}

/** The member in every over-budget pair (the one behind the bad link), when there is exactly one such member. */
export function commonSuspect(over: PeerLatency[]): string | undefined {
  if (over.length === 0) return undefined;
  const sets = over.map((p) => new Set([p.from, p.to]));
  const common = [...sets[0]!].filter((m) => sets.every((s) => s.has(m)));
  return common.length === 1 ? common[0] : undefined;
}
