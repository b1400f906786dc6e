// No two address spaces in the mesh may overlap: pod and service subnets, node subnets and LB pools of every
// cluster, in both families and whatever the prefix lengths (a /16 hides a /24 just as well as a /24 does).
import type { Blueprint } from '../schema.ts';
import type { IssueSink, IssuePath } from '../issues.ts';
import { contains, formatInterval, overlaps, parseAddress, parseCidr, parseRange, type IpInterval } from '../net.ts';

type SpaceKind = 'pod subnet' | 'service subnet' | 'node subnet' | 'LB pool block';

interface Space {
  kind: SpaceKind;
  cluster: string;
  path: IssuePath;
  text: string;
  range: IpInterval;
}

function spacesOf(bp: Blueprint): Space[] {
  const out: Space[] = [];
  bp.clusters.forEach((c, ci) => {
    const add = (kind: SpaceKind, field: 'podSubnets' | 'serviceSubnets' | 'nodeSubnets') =>
      c.network[field].forEach((text, i) => {
        const range = parseCidr(text).value;
        if (range) out.push({ kind, cluster: c.name, path: ['clusters', ci, 'network', field, i], text, range });
      });
    add('pod subnet', 'podSubnets');
    add('service subnet', 'serviceSubnets');
    add('node subnet', 'nodeSubnets');
    c.loadBalancer.pool.forEach((b, i) => {
      const parsed = b.cidr !== undefined ? parseCidr(b.cidr) : parseRange(b.start ?? '', b.stop);
      const path: IssuePath = ['clusters', ci, 'loadBalancer', 'pool', i];
      if (parsed.error !== undefined) return; // reported once, by checkAddressing below
      out.push({ kind: 'LB pool block', cluster: c.name, path, text: formatInterval(parsed.value), range: parsed.value });
    });
  });
  return out;
}

/** An L2 pool is meant to sit inside its own cluster's node subnet; every other pair must be disjoint. */
function overlapAllowed(a: Space, b: Space): boolean {
  if (a.cluster !== b.cluster) return false;
  const kinds = new Set([a.kind, b.kind]);
  return kinds.has('node subnet') && kinds.has('LB pool block');
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
  for (let i = 0; i < spaces.length; i++) {
    for (let j = i + 1; j < spaces.length; j++) {
      const a = spaces[i]!;
      const b = spaces[j]!;
      if (!overlaps(a.range, b.range) || overlapAllowed(a, b)) continue;
      const where = a.cluster === b.cluster ? `of the same cluster` : `of ${a.cluster}`;
      sink.error(
        b.path,
        `${b.kind} ${b.text} of ${b.cluster} overlaps ${a.kind} ${a.text} ${where}: ` +
          `every pod, service and node subnet and LB pool in the mesh needs its own range (pick a non-overlapping one; ` +
          `renumbering after bootstrap is very hard)`,
      );
    }
  }
  checkNodeAddresses(bp, spaces, sink);
}

function checkNodeAddresses(bp: Blueprint, spaces: Space[], sink: IssueSink): void {
  const seen = new Map<string, string>();
  bp.clusters.forEach((c, ci) => {
    const subnets = spaces.filter((s) => s.cluster === c.name && s.kind === 'node subnet');
    c.nodes.forEach((n, ni) => {
      const path: IssuePath = ['clusters', ci, 'nodes', ni, 'address'];
      const addr = parseAddress(n.address).value;
      if (!addr) return;
      const key = `${addr.family}:${addr.first}`;
      const other = seen.get(key);
      if (other) sink.error(path, `address ${n.address} is already used by ${other}: every node needs its own address`);
      seen.set(key, `${c.name}/${n.name}`);
      if (!subnets.some((s) => contains(s.range, addr))) {
        sink.error(
          path,
          `address ${n.address} of ${n.name} is in none of ${c.name}'s nodeSubnets (${c.network.nodeSubnets.join(', ')}): ` +
            `add its subnet to clusters[${ci}].network.nodeSubnets or fix the address`,
        );
      }
      const pool = spaces.find((s) => s.kind === 'LB pool block' && contains(s.range, addr));
      if (pool) {
        sink.error(path, `address ${n.address} of ${n.name} lies in the LB pool ${pool.text} of ${pool.cluster}: LB-IPAM could hand it to a Service; move the pool or the node`);
      }
    });
  });
}
