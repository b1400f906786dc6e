// The cluster's identity as it runs: Cilium's cluster ID/name (cilium-config) and the addresses actually in use
// (node pod CIDRs, pod IPs, Service ClusterIPs) against the blueprint, and against every other cluster's ranges.
// Overlaps cannot be repaired in place; the check exists so a mistake is seen before traffic is misrouted.
import { Address4, Address6 } from 'ip-address';
import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import { listOf } from '../kube/objects.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { kubectlGet, onCluster, verdict, type ClusterCheckInput, type Evidence } from './verdicts.ts';

export interface ClusterRanges {
  name: string;
  id: number;
  podCidrs: string[];
  serviceCidrs: string[];
}

const configMapSchema = z.object({ data: z.record(z.string(), z.string()).optional() });
const nodeSchema = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ podCIDR: z.string().optional(), podCIDRs: z.array(z.string()).optional() }).default({}),
  status: z.object({ addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional() }).optional(),
});
const podSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z.object({ hostNetwork: z.boolean().optional() }).default({}),
  status: z.object({ podIP: z.string().optional() }).optional(),
});
const serviceSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z.object({ clusterIP: z.string().optional(), clusterIPs: z.array(z.string()).optional() }).default({}),
});

function parse(addr: string): Address4 | Address6 | undefined {
  try {
    return addr.includes(':') ? new Address6(addr) : new Address4(addr);
  } catch {
    return undefined;
  }
}

/** An address or CIDR inside one of the ranges (same family only). */
export function within(addr: string, cidrs: string[]): boolean {
  const a = parse(addr);
  if (!a) return false;
  return cidrs.some((c) => {
    const net = parse(c);
    return net !== undefined && (a instanceof Address4) === (net instanceof Address4) && a.isInSubnet(net as never);
  });
}

export async function checkClusterIdentity(deps: ActivityDeps, i: ClusterCheckInput & { self: ClusterRanges; others: ClusterRanges[] }): Promise<Verdict> {
  const check = 'cluster-identity';
  return onCluster(deps, i, async (access) => {
    const [cm, nodes, pods, services] = await Promise.all([
      kubectlGet(deps, access, ['configmap', 'cilium-config', '-n', 'kube-system'], configMapSchema),
      kubectlGet(deps, access, ['nodes'], listOf(nodeSchema)),
      kubectlGet(deps, access, ['pods', '-A'], listOf(podSchema)),
      kubectlGet(deps, access, ['services', '-A'], listOf(serviceSchema)),
    ]);
    const problems: string[] = [];
    const evidence: Evidence = {};
    const liveId = cm?.data?.['cluster-id'];
    const liveName = cm?.data?.['cluster-name'];
    evidence['cluster-id'] = liveId ?? 'absent';
    evidence['cluster-name'] = liveName ?? 'absent';
    if (!cm) problems.push('cilium-config is missing');
    else {
      if (liveId !== String(i.self.id)) problems.push(`cilium-config cluster-id is ${liveId ?? 'absent'}, the blueprint says ${i.self.id}`);
      if (liveName !== i.self.name) problems.push(`cilium-config cluster-name is ${liveName ?? 'absent'}, the blueprint says ${i.self.name}`);
      const clash = i.others.find((o) => String(o.id) === liveId);
      if (clash) problems.push(`cluster-id ${liveId} is also ${clash.name}'s: identities would collide across the mesh`);
    }

    // What is in use: node pod CIDRs (IPAM kubernetes), pod IPs (host-network pods use node IPs), Service ClusterIPs.
    const nodeIps = new Set((nodes?.items ?? []).flatMap((n) => (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)));
    const podRanges = (nodes?.items ?? []).flatMap((n) => n.spec.podCIDRs ?? (n.spec.podCIDR ? [n.spec.podCIDR] : [])).map((c) => ({ what: `node podCIDR ${c}`, addr: c.split('/')[0]! }));
    const podIps = (pods?.items ?? [])
      .filter((p) => !p.spec.hostNetwork && p.status?.podIP && !nodeIps.has(p.status.podIP))
      .map((p) => ({ what: `pod ${p.metadata.namespace ?? 'default'}/${p.metadata.name} ${p.status!.podIP}`, addr: p.status!.podIP! }));
    const svcIps = (services?.items ?? []).flatMap((s) =>
      (s.spec.clusterIPs ?? (s.spec.clusterIP ? [s.spec.clusterIP] : []))
        .filter((ip) => ip && ip !== 'None')
        .map((ip) => ({ what: `service ${s.metadata.namespace ?? 'default'}/${s.metadata.name} ${ip}`, addr: ip })),
    );
    evidence.podAddresses = podRanges.length + podIps.length;
    evidence.serviceAddresses = svcIps.length;
    const judge = (items: { what: string; addr: string }[], own: string[], kind: 'pod' | 'service') => {
      const outside = items.filter((x) => !within(x.addr, own));
      if (outside.length) problems.push(`${outside.length} ${kind} address(es) outside the blueprint's ${kind} CIDRs ${own.join(',')} (e.g. ${outside[0]!.what})`);
      for (const o of i.others) {
        const theirs = kind === 'pod' ? o.podCidrs : o.serviceCidrs;
        const hit = items.filter((x) => within(x.addr, theirs));
        if (hit.length) problems.push(`${hit.length} ${kind} address(es) inside ${o.name}'s ${kind} CIDRs ${theirs.join(',')} (e.g. ${hit[0]!.what}): the ranges overlap`);
      }
    };
    judge([...podRanges, ...podIps], i.self.podCidrs, 'pod');
    judge(svcIps, i.self.serviceCidrs, 'service');
    if (problems.length) {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: ${problems.join('; ')}`,
        'cluster IDs and CIDRs cannot change in place: find who changed cilium-config or the Talos network settings; a real overlap needs a planned re-addressing (new cluster), not a re-run',
        evidence, { kind: 'manual', command: `kubectl --context ${i.cluster} -n kube-system get configmap cilium-config -o yaml` });
    }
    return verdict(check, i.cluster, 'ok', `${i.cluster}: cluster id ${liveId}, pod and service addresses inside the blueprint's CIDRs, no overlap with ${i.others.length} other cluster(s)`, '', evidence);
  });
}
