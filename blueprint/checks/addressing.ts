// No two address spaces in the mesh may overlap: pod and service subnets, node subnets and LB pools of every
// cluster, in both families and whatever the prefix lengths (a /16 hides a /24 just as well as a /24 does).
// Sort and sweep, never all pairs: n·log n however many clusters repeat the same ranges, and at most one
// overlap reported per range.
import type { Blueprint } from '../schema.ts';
import type { IssueSink, IssuePath } from '../issues.ts';
import { compareIntervals, formatInterval, IntervalIndex, parseAddress, parseCidr, parseRange, reservedIn, type IpInterval } from '../net.ts';

export type SpaceKind = 'pod subnet' | 'service subnet' | 'node subnet' | 'LB pool block';

export interface Space {
  kind: SpaceKind;
  cluster: string;
  clusterIndex: number;
  path: IssuePath;
  text: string;
  range: IpInterval;
  /** prefix length, for subnets */
  prefix?: number;
  /** position in the document, so a report lands on the later of two ranges */
  order: number;
}

export function spacesOf(bp: Blueprint): Space[] {
  const out: Space[] = [];
  const push = (s: Omit<Space, 'order'>) => out.push({ ...s, order: out.length });
  bp.clusters.forEach((c, ci) => {
    const add = (kind: SpaceKind, field: 'podSubnets' | 'serviceSubnets' | 'nodeSubnets') =>
      c.network[field].forEach((text, i) => {
        const range = parseCidr(text).value;
        if (range) push({ kind, cluster: c.name, clusterIndex: ci, path: ['clusters', ci, 'network', field, i], text, range, prefix: range.prefix });
      });
    add('pod subnet', 'podSubnets');
    add('service subnet', 'serviceSubnets');
    add('node subnet', 'nodeSubnets');
    c.loadBalancer.pool.forEach((b, i) => {
      const parsed = b.cidr !== undefined ? parseCidr(b.cidr) : parseRange(b.start ?? '', b.stop);
      if (parsed.error !== undefined) return; // reported once, by checkAddressing below
      const path: IssuePath = ['clusters', ci, 'loadBalancer', 'pool', i];
      push({ kind: 'LB pool block', cluster: c.name, clusterIndex: ci, path, text: formatInterval(parsed.value), range: parsed.value });
    });
  });
  return out;
}

/** The one kind of range a space may overlap: an L2 pool sits inside its own cluster's node subnet. */
const keyOf = (s: Space) => `${s.clusterIndex}:${s.kind}`;
function allowedPartnerKey(s: Space): string | undefined {
  if (s.kind === 'node subnet') return `${s.clusterIndex}:LB pool block`;
  if (s.kind === 'LB pool block') return `${s.clusterIndex}:node subnet`;
  return undefined;
}

/**
 * Sweep in order of start address, keeping the range that reaches furthest and the furthest-reaching one of
 * any other (cluster, kind): whichever of the two a space is not allowed to overlap is the only candidate that
 * can prove an overlap, so each space costs O(1) after the sort.
 */
function reportOverlaps(spaces: Space[], sink: IssueSink): void {
  const sorted = [...spaces].sort((a, b) => compareIntervals(a.range, b.range) || a.order - b.order);
  const reported = new Set<Space>();
  let best: Space | undefined;
  let other: Space | undefined; // furthest-reaching with keyOf !== keyOf(best)
  for (const s of sorted) {
    if (best && best.range.family !== s.range.family) best = other = undefined;
    const excluded = allowedPartnerKey(s);
    const candidate = best && keyOf(best) !== excluded ? best : other;
    if (candidate && candidate.range.last >= s.range.first) {
      const [a, b] = candidate.order < s.order ? [candidate, s] : [s, candidate];
      if (!reported.has(b)) {
        reported.add(b);
        const where = a.cluster === b.cluster ? 'of the same cluster' : `of ${a.cluster}`;
        sink.error(
          b.path,
          `${b.kind} ${b.text} of ${b.cluster} overlaps ${a.kind} ${a.text} ${where}: ` +
            `every pod, service and node subnet and LB pool in the mesh needs its own range (pick a non-overlapping one; ` +
            `renumbering after bootstrap is very hard)`,
        );
      }
    }
    if (!best || s.range.last > best.range.last) {
      if (best && keyOf(best) !== keyOf(s)) other = best;
      best = s;
    } else if (keyOf(s) !== keyOf(best) && (!other || s.range.last > other.range.last)) {
      other = s;
    }
  }
}

export function checkAddressing(bp: Blueprint, sink: IssueSink): void {
  const spaces = spacesOf(bp);
  bp.clusters.forEach((c, ci) =>
    c.loadBalancer.pool.forEach((b, i) => {
      if (b.start === undefined) return;
      const r = parseRange(b.start, b.stop);
      if (r.error !== undefined) sink.error(['clusters', ci, 'loadBalancer', 'pool', i], `${r.error}: fix the range`);
    }),
  );
  reportOverlaps(spaces, sink);
  checkNodeAddresses(bp, spaces, sink);
}

function checkNodeAddresses(bp: Blueprint, spaces: Space[], sink: IssueSink): void {
  const seen = new Map<string, string>();
  const pools = new IntervalIndex(spaces.filter((s) => s.kind === 'LB pool block'));
  const nodeSubnetsOf: Space[][] = bp.clusters.map(() => []);
  for (const s of spaces) if (s.kind === 'node subnet') nodeSubnetsOf[s.clusterIndex]!.push(s);
  bp.clusters.forEach((c, ci) => {
    const subnets = nodeSubnetsOf[ci]!;
    c.nodes.forEach((n, ni) => {
      const path: IssuePath = ['clusters', ci, 'nodes', ni, 'address'];
      const addr = parseAddress(n.address).value;
      if (!addr) return;
      const key = `${addr.family}:${addr.first}`;
      const other = seen.get(key);
      if (other) sink.error(path, `address ${n.address} is already used by ${other}: every node needs its own address`);
      seen.set(key, `${c.name}/${n.name}`);
      const home = subnets.find((s) => s.range.family === addr.family && s.range.first <= addr.first && addr.first <= s.range.last);
      if (!home) {
        sink.error(
          path,
          `address ${n.address} of ${n.name} is in none of ${c.name}'s nodeSubnets (${c.network.nodeSubnets.join(', ')}): ` +
            `add its subnet to clusters[${ci}].network.nodeSubnets or fix the address`,
        );
      } else {
        const reserved = reservedIn({ ...home.range, prefix: home.prefix ?? 0 }, addr);
        if (reserved) sink.error(path, `address ${n.address} of ${n.name} is ${reserved}, which no host may take: pick another address`);
      }
      const pool = pools.holderOf(addr);
      if (pool) {
        sink.error(path, `address ${n.address} of ${n.name} lies in the LB pool ${pool.text} of ${pool.cluster}: LB-IPAM could hand it to a Service; move the pool or the node`);
      }
    });
  });
}
