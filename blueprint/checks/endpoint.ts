// The Kubernetes API endpoint every node and kubeconfig will use. An address given as an IP is the Talos VIP
// (or a control-plane node): it must sit on the cluster's own node subnet, where Talos announces it, and in no
// range anything else hands out: an LB pool, a pod or service subnet, another cluster. A DNS name (an external
// load balancer) cannot be checked offline and is taken as given.
import type { Blueprint } from '../schema.ts';
import type { IssueSink, IssuePath } from '../issues.ts';
import { IntervalIndex, parseAddress, reservedIn } from '../net.ts';
import { spacesOf } from './addressing.ts';

/** The host of an https URL as an address, or undefined for a DNS name. */
export function endpointAddress(endpoint: string): string | undefined {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return undefined;
  }
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return parseAddress(bare).value ? bare : undefined;
}

export function checkEndpoints(bp: Blueprint, sink: IssueSink): void {
  const spaces = spacesOf(bp);
  const pools = new IntervalIndex(spaces.filter((s) => s.kind === 'LB pool block'));
  const subnets = new IntervalIndex(spaces.filter((s) => s.kind !== 'LB pool block'));
  const nodeSubnetsOf = bp.clusters.map(() => [] as typeof spaces);
  for (const s of spaces) if (s.kind === 'node subnet') nodeSubnetsOf[s.clusterIndex]!.push(s);
  const byEndpoint = new Map<string, string>();
  bp.clusters.forEach((c, ci) => {
    const path: IssuePath = ['clusters', ci, 'endpoint'];
    const normalised = (() => {
      try {
        return new URL(c.endpoint).host.toLowerCase();
      } catch {
        return c.endpoint;
      }
    })();
    const twin = byEndpoint.get(normalised);
    if (twin) sink.error(path, `endpoint ${c.endpoint} is also ${twin}'s: every cluster has its own Kubernetes API`);
    byEndpoint.set(normalised, c.name);

    const host = endpointAddress(c.endpoint);
    if (!host) return;
    const addr = parseAddress(host).value!;
    const home = nodeSubnetsOf[ci]!.find((s) => s.range.family === addr.family && s.range.first <= addr.first && addr.first <= s.range.last);
    const pool = pools.holderOf(addr);
    const holder = subnets.holderOf(addr);
    if (pool) {
      sink.error(path, `endpoint ${host} lies in the LB pool ${pool.text} of ${pool.cluster}: LB-IPAM could hand the API's address to a Service; take a free address of ${c.name}'s node subnet`);
    } else if (holder && !(holder.clusterIndex === ci && holder.kind === 'node subnet')) {
      sink.error(path, `endpoint ${host} lies in ${holder.kind} ${holder.text} of ${holder.cluster === c.name ? 'the same cluster' : holder.cluster}: the API address must be an address of ${c.name}'s own node subnet`);
    } else if (!home) {
      sink.error(
        path,
        `endpoint ${host} is in none of ${c.name}'s nodeSubnets (${c.network.nodeSubnets.join(', ')}): Talos announces its VIP on the control plane's own L2 subnet; ` +
          'take an address there, or give an external load balancer by DNS name',
      );
    } else {
      const reserved = reservedIn({ ...home.range, prefix: home.prefix ?? 0 }, addr);
      if (reserved) sink.error(path, `endpoint ${host} is ${reserved}, which no host may take: pick another address`);
    }
    const worker = c.nodes.find((n) => n.role === 'worker' && parseAddress(n.address).value?.first === addr.first && parseAddress(n.address).value?.family === addr.family);
    if (worker) sink.error(path, `endpoint ${host} is the address of worker ${worker.name}: the API server runs on control-plane nodes; use the VIP or a control-plane address`);
  });
}
