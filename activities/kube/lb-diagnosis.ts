import { Address4 } from 'ip-address';
import type { BlockedDetails } from '../../contracts/failures.ts';
import { conditionOf, ingressIps, internalIp, selectorMatches, serviceLabels, type L2Policy, type Lease, type Node, type Pool, type Service } from './objects.ts';

/**
 * Why a LoadBalancer Service has no reachable address, from what the cluster itself says (Cilium 1.16
 * LB-IPAM conditions, pools, L2 policies, leases, node labels). One function serves every check that waits
 * for an LB address, so the operator always gets the same diagnosis for the same cluster state.
 */
export const SEED_HINT = 'on bare metal a LoadBalancer stays <pending> unless an IP pool and L2 announcements or BGP are configured';
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const TALOS_KEEP_LB_PATCH =
  'machine:\n  nodeLabels:\n    node.kubernetes.io/exclude-from-external-load-balancers:\n      $patch: delete';
const IPAM_CONDITIONS = ['cilium.io/IPAMRequestSatisfied', 'io.cilium/lb-ipam-request-satisfied'];

export interface LbFacts {
  /** undefined: the Service does not exist */
  service?: Service;
  pools: Pool[];
  /** undefined: the CRD is not served (Cilium not installed or operator not up) */
  policies?: L2Policy[];
  nodes: Node[];
  leases: Lease[];
  services: Service[];
  /** cilium-config `enable-l2-announcements` */
  l2Enabled?: boolean;
  bgpConfigured?: boolean;
}

export type LbVerdict = { ok: true; address: string; announcedBy?: string } | { ok: false; details: BlockedDetails };

const toInt = (ip: string) => Number(new Address4(ip).bigInt());
function blockRange(b: { cidr?: string; start?: string; stop?: string }): [number, number] | undefined {
  try {
    if (b.cidr) {
      const a = new Address4(b.cidr);
      return [Number(a.startAddress().bigInt()), Number(a.endAddress().bigInt())];
    }
    if (b.start) return [toInt(b.start), toInt(b.stop ?? b.start)];
  } catch {
    return undefined;
  }
  return undefined;
}
const poolHolds = (p: Pool, ip: string) => {
  try {
    const n = toInt(ip);
    return (p.spec.blocks ?? []).some((b) => {
      const r = blockRange(b);
      return r !== undefined && n >= r[0] && n <= r[1];
    });
  } catch {
    return false;
  }
};
const poolCount = (p: Pool, type: string) => conditionOf(p, type)?.message;
const sameSlash24 = (a: string, b: string) => {
  try {
    return new Address4(`${a}/24`).startAddress().correctForm() === new Address4(`${b}/24`).startAddress().correctForm();
  } catch {
    return false;
  }
};
const svcId = (s: Service) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
const hint = (what: string) => `${what} (${SEED_HINT})`;

export function diagnoseLoadBalancer(f: LbFacts, want: { namespace: string; name: string }): LbVerdict {
  const id = `${want.namespace}/${want.name}`;
  const blockedBy = (reason: string, h: string, evidence: Record<string, string | number | boolean> = {}): LbVerdict => ({
    ok: false,
    details: { reason, hint: hint(h), evidence: { service: id, ...evidence } },
  });
  const s = f.service;
  if (!s) return blockedBy(`Service ${id} does not exist`, 'enable the clustermesh-apiserver (clustermesh.useAPIServer: true) in the Cilium values');
  if (s.spec.type !== 'LoadBalancer') {
    return blockedBy(`Service ${id} is of type ${s.spec.type ?? 'ClusterIP'}, not LoadBalancer`, 'set clustermesh.apiserver.service.type: LoadBalancer');
  }
  if (s.spec.loadBalancerClass && s.spec.loadBalancerClass !== 'io.cilium/l2-announcer') {
    return blockedBy(`Service ${id} asks for loadBalancerClass ${s.spec.loadBalancerClass}, which Cilium LB-IPAM ignores`, 'remove loadBalancerClass or run the controller that serves it');
  }
  const ips = ingressIps(s);
  const cond = conditionOf(s, ...IPAM_CONDITIONS);
  const condText = cond ? `${cond.type}=${cond.status} reason=${cond.reason ?? ''}` : 'none';
  if (!ips.length) {
    const enabled = f.pools.filter((p) => !p.spec.disabled);
    const selecting = enabled.filter((p) => selectorMatches(p.spec.serviceSelector, serviceLabels(s)));
    const poolEvidence = Object.fromEntries(f.pools.slice(0, 5).map((p) => [`pool.${p.metadata.name}.IPsAvailable`, poolCount(p, 'cilium.io/IPsAvailable') ?? '?']));
    const evidence = { condition: condText, message: cond?.message ?? '', ...poolEvidence };
    if (f.pools.length === 0) {
      return blockedBy(`LoadBalancer ${id} is <pending>: there is no CiliumLoadBalancerIPPool in the cluster`, 'add an IP pool (clusters[].loadBalancer.pool in the blueprint) for this cluster', evidence);
    }
    if (!cond) {
      return blockedBy(`LoadBalancer ${id} is <pending> and Cilium LB-IPAM has not processed it`, 'check that cilium-operator is running (cilium status)', evidence);
    }
    switch (cond.reason) {
      case 'no_pool':
        if (!enabled.length) return blockedBy(`LoadBalancer ${id} is <pending>: no enabled CiliumLoadBalancerIPPool exists (${cond.message})`, 'add an IP pool for this cluster', evidence);
        return blockedBy(
          `LoadBalancer ${id} is <pending>: no enabled IP pool selects it (pools: ${enabled.map((p) => p.metadata.name).join(', ')})`,
          `fix the pool's serviceSelector so it matches ${id} (labels ${JSON.stringify(s.metadata.labels ?? {})})`,
          evidence,
        );
      case 'pool_selector_mismatch':
        return blockedBy(`LoadBalancer ${id} is <pending>: ${cond.message}`, 'make the pool holding the requested IP select this Service, or request an IP from a pool that does', evidence);
      case 'already_allocated': {
        const wanted = /'([^']+)'/.exec(cond.message ?? '')?.[1];
        const holder = f.services.find((o) => o !== s && svcId(o) !== id && wanted && ingressIps(o).includes(wanted));
        return blockedBy(
          `LoadBalancer ${id} is <pending>: its requested IP ${wanted ?? ''} is already held by ${holder ? svcId(holder) : 'another Service'}`,
          'request a free IP (lbipam.cilium.io/ips) or release it from the other Service',
          { ...evidence, ...(holder ? { heldBy: svcId(holder) } : {}) },
        );
      }
      case 'out_of_ips': {
        const holders = new Map<string, number>();
        for (const o of f.services) {
          if (svcId(o) === id) continue;
          const n = ingressIps(o).filter((ip) => selecting.some((p) => poolHolds(p, ip))).length;
          if (n) holders.set(svcId(o), n);
        }
        const who = [...holders.entries()].map(([k, n]) => `${k} (${n})`).join(', ');
        return blockedBy(
          `LoadBalancer ${id} is <pending>: every IP of pool ${selecting.map((p) => p.metadata.name).join(', ')} is taken${who ? ` by ${who}` : ''}`,
          'give the pool more or different addresses (meshpilot amend with a new clusters[].loadBalancer.pool), or free addresses held by other Services',
          { ...evidence, ...(who ? { heldBy: who } : {}) },
        );
      }
      default:
        return blockedBy(`LoadBalancer ${id} is <pending>: ${cond.reason ?? 'unknown'} ${cond.message ?? ''}`.trim(), 'see the Service condition', evidence);
    }
  }

  const address = ips[0]!;
  if (f.bgpConfigured) return { ok: true, address };
  const lease = f.leases.find((l) => l.metadata.name === `cilium-l2announce-${want.namespace}-${want.name}`);
  if (lease?.spec.holderIdentity) return { ok: true, address, announcedBy: lease.spec.holderIdentity };
  const base = { address, condition: condText };
  if (f.l2Enabled === false) {
    return blockedBy(`LoadBalancer ${id} has IP ${address} but L2 announcements are disabled in Cilium`, 'set l2announcements.enabled: true (and kubeProxyReplacement: true) in the Cilium values', base);
  }
  const policies = (f.policies ?? []).filter((p) => p.spec.loadBalancerIPs === true);
  if (!policies.length) {
    return blockedBy(`LoadBalancer ${id} has IP ${address} but no CiliumL2AnnouncementPolicy announces LoadBalancer IPs`, 'add an L2 announcement policy with loadBalancerIPs: true (or configure BGP)', base);
  }
  const forService = policies.filter((p) => selectorMatches(p.spec.serviceSelector, serviceLabels(s)));
  if (!forService.length) {
    return blockedBy(`LoadBalancer ${id} has IP ${address} but no L2 announcement policy selects it`, `fix the serviceSelector of ${policies.map((p) => p.metadata.name).join(', ')}`, base);
  }
  const selected = f.nodes.filter((n) => forService.some((p) => selectorMatches(p.spec.nodeSelector, n.metadata.labels ?? {})));
  if (!selected.length) {
    return blockedBy(`LoadBalancer ${id} has IP ${address} but the L2 policy's nodeSelector matches no node`, 'fix the nodeSelector of the L2 announcement policy', base);
  }
  const excluded = selected.filter((n) => Object.hasOwn(n.metadata.labels ?? {}, EXCLUDE_LB_LABEL));
  const eligible = selected.filter((n) => !excluded.includes(n));
  if (!eligible.length) {
    return blockedBy(
      `LoadBalancer ${id} has IP ${address} but no node announces it: every node the L2 policy selects (${excluded.map((n) => n.metadata.name).join(', ')}) carries the label ${EXCLUDE_LB_LABEL}, so Cilium never elects an announcer and nothing reports an error`,
      `Talos puts ${EXCLUDE_LB_LABEL} on control-plane nodes; remove it with the control-plane machine-config patch\n${TALOS_KEEP_LB_PATCH}\nor let the L2 policy select worker nodes`,
      { ...base, excludedNodes: excluded.map((n) => n.metadata.name).join(','), label: EXCLUDE_LB_LABEL },
    );
  }
  const inSubnet = eligible.filter((n) => {
    const ip = internalIp(n);
    return ip !== undefined && sameSlash24(ip, address);
  });
  if (!inSubnet.length) {
    return blockedBy(
      `LoadBalancer ${id} has IP ${address}, outside the subnet of every node that could announce it (${eligible.map((n) => `${n.metadata.name} ${internalIp(n)}`).join(', ')}): ARP for it reaches nobody`,
      'give this cluster an LB pool inside its nodes\' L2 subnet',
      base,
    );
  }
  return blockedBy(`LoadBalancer ${id} has IP ${address} but no L2 lease holder yet`, 'wait for the cilium agents to elect an announcer (check cilium status)', base);
}
