import { Address4, Address6 } from 'ip-address';
import type { BlockedDetails } from '../../contracts/failures.ts';
import { conditionOf, ingressIps, internalIp, selectorMatches, serviceLabels, type L2Policy, type Lease, type Node, type Pool, type Service } from './objects.ts';

/**
 * Why a LoadBalancer Service has no reachable address, from what the cluster itself says (Cilium 1.16
 * LB-IPAM conditions, pools, L2 policies, leases, node labels). One function serves every check that waits
 * for an LB address and `meshpilot diagnose lb`, so the operator always gets the same diagnosis for the same
 * cluster state.
 *
 * Cilium's reasons are coarse: `no_pool` covers "no pool selects the Service", "the requested IP is outside
 * every pool", "the only selecting pool is disabled" and "the only selecting pool conflicts with another". So
 * the cause comes from the condition's message, the pools' own `cilium.io/PoolConflict` conditions and their
 * `disabled` flags, never from the reason alone (cilium/cilium v1.16.19 operator/pkg/lbipam/lbipam.go).
 */
export const SEED_HINT = 'on bare metal a LoadBalancer stays <pending> unless an IP pool and L2 announcements or BGP are configured';
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const TALOS_KEEP_LB_PATCH = 'machine:\n  nodeLabels:\n    node.kubernetes.io/exclude-from-external-load-balancers:\n      $patch: delete';
const IPAM_CONDITIONS = ['cilium.io/IPAMRequestSatisfied', 'io.cilium/lb-ipam-request-satisfied'];
const POOL_CONFLICT = 'cilium.io/PoolConflict';
const REQUEST_ANNOTATIONS = ['lbipam.cilium.io/ips', 'io.cilium/lb-ipam-ips'];

export interface LbFacts {
  /** undefined: the Service does not exist */
  service?: Service;
  pools: Pool[];
  /** false: the CiliumLoadBalancerIPPool CRD is not served (Cilium not installed, or its operator never started) */
  poolsServed?: boolean;
  /** undefined: the CRD is not served (Cilium not installed or operator not up) */
  policies?: L2Policy[];
  nodes: Node[];
  leases: Lease[];
  services: Service[];
  /** cilium-config `enable-l2-announcements` */
  l2Enabled?: boolean;
  bgpConfigured?: boolean;
}

export type LbVerdict = { ok: true; address: string; announcedBy?: string; summary: string } | { ok: false; address?: string; details: BlockedDetails };

type Evidence = Record<string, string | number | boolean>;
const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

interface Range {
  v6: boolean;
  first: bigint;
  last: bigint;
}
function parseIp(ip: string): { v6: boolean; n: bigint } | undefined {
  try {
    if (Address4.isValid(ip)) return { v6: false, n: new Address4(ip).bigInt() };
    if (Address6.isValid(ip)) return { v6: true, n: new Address6(ip).bigInt() };
  } catch {
    return undefined;
  }
  return undefined;
}
function blockRange(b: { cidr?: string; start?: string; stop?: string }): Range | undefined {
  try {
    if (b.cidr) {
      const v6 = b.cidr.includes(':');
      const a = v6 ? new Address6(b.cidr) : new Address4(b.cidr);
      return { v6, first: a.startAddress().bigInt(), last: a.endAddress().bigInt() };
    }
    const from = b.start ? parseIp(b.start) : undefined;
    const to = b.stop ? parseIp(b.stop) : from;
    if (from && to) return { v6: from.v6, first: from.n, last: to.n };
  } catch {
    return undefined;
  }
  return undefined;
}
const ranges = (p: Pool) => (p.spec.blocks ?? []).map(blockRange).filter((r): r is Range => r !== undefined);
const poolHolds = (p: Pool, ip: string) => {
  const a = parseIp(ip);
  return a !== undefined && ranges(p).some((r) => r.v6 === a.v6 && a.n >= r.first && a.n <= r.last);
};
const blocksText = (p: Pool) => (p.spec.blocks ?? []).map((b) => b.cidr ?? `${b.start}-${b.stop ?? b.start}`).join(', ') || 'no blocks';
const poolCount = (p: Pool, type: string) => conditionOf(p, type)?.message;
const conflictOf = (p: Pool) => {
  const c = conditionOf(p, POOL_CONFLICT);
  return c?.status === 'True' ? (c.message ?? c.reason ?? 'conflicting') : undefined;
};
/** JSON with sorted keys: the same text whatever order the API returned the map in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => byteOrder(a, b))) : x));
const selectorText = (p: Pool) => (p.spec.serviceSelector ? canonical(p.spec.serviceSelector) : 'none (selects every Service)');
const sameSlash24 = (a: string, b: string) => {
  try {
    return new Address4(`${a}/24`).startAddress().correctForm() === new Address4(`${b}/24`).startAddress().correctForm();
  } catch {
    return false;
  }
};
const svcId = (s: Service) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
const hint = (what: string) => `${what} (${SEED_HINT})`;

/** Where a Service's specific IP request comes from, for the operator to know what to edit. */
function requestSource(s: Service, ip: string): string {
  if (s.spec.loadBalancerIP === ip) return 'spec.loadBalancerIP';
  for (const a of REQUEST_ANNOTATIONS)
    if (
      (s.metadata.annotations?.[a] ?? '')
        .split(',')
        .map((x) => x.trim())
        .includes(ip)
    )
      return `annotation ${a}`;
  return 'its request';
}

/** The IP families the Service asks for (the apiserver fills spec.ipFamilies). */
function wantsFamilies(s: Service): { v4: boolean; v6: boolean } {
  const fams = (s.spec.ipFamilies as string[] | undefined) ?? ['IPv4'];
  const policy = s.spec.ipFamilyPolicy as string | undefined;
  if (policy === 'RequireDualStack' || policy === 'PreferDualStack') return { v4: fams.includes('IPv4'), v6: fams.includes('IPv6') };
  return { v4: fams[0] !== 'IPv6', v6: fams[0] === 'IPv6' };
}

function poolEvidence(pools: Pool[]): Evidence {
  const out: Evidence = {};
  for (const p of pools.slice(0, 5)) {
    out[`pool.${p.metadata.name}.IPsAvailable`] = poolCount(p, 'cilium.io/IPsAvailable') ?? '?';
    if (p.spec.disabled) out[`pool.${p.metadata.name}.disabled`] = true;
    const conflict = conflictOf(p);
    if (conflict) out[`pool.${p.metadata.name}.conflict`] = conflict;
  }
  return out;
}

type Blocked = (reason: string, h: string, evidence?: Evidence) => LbVerdict;

/** The pending causes, one per shape of condition message. `what` is "is <pending>" or "has X but …". */
function ipamCause(f: LbFacts, s: Service, id: string, what: string, cond: { reason?: string; message?: string }, blockedBy: Blocked, evidence: Evidence): LbVerdict {
  const message = cond.message ?? '';
  const quoted = /'([^']+)'/.exec(message)?.[1];
  const selecting = f.pools.filter((p) => selectorMatches(p.spec.serviceSelector, serviceLabels(s)));

  if (/^No pool exists with a CIDR containing/.test(message) && quoted) {
    const src = requestSource(s, quoted);
    const holders = f.pools.filter((p) => poolHolds(p, quoted));
    const conflicting = holders.filter((p) => conflictOf(p));
    const disabled = holders.filter((p) => p.spec.disabled);
    if (conflicting.length) {
      const p = conflicting[0]!;
      return blockedBy(
        `LoadBalancer ${id} ${what}: the IP ${quoted} it requests (${src}) is in pool ${p.metadata.name}, which Cilium disabled because it overlaps another pool: ${conflictOf(p)}`,
        `make the blocks of ${p.metadata.name} disjoint from every other pool (Cilium disables the newer of two overlapping pools), or request an IP of the older pool`,
        { ...evidence, requestedIp: quoted, conflictingPool: p.metadata.name },
      );
    }
    if (disabled.length) {
      return blockedBy(
        `LoadBalancer ${id} ${what}: the IP ${quoted} it requests (${src}) is in pool ${disabled.map((p) => p.metadata.name).join(', ')}, which is disabled (spec.disabled: true)`,
        `enable the pool (spec.disabled: false) or request an IP of an enabled pool`,
        { ...evidence, requestedIp: quoted },
      );
    }
    const pools = f.pools.map((p) => `${p.metadata.name}: ${blocksText(p)}`).join('; ');
    return blockedBy(
      `LoadBalancer ${id} ${what}: it requests ${quoted} (${src}), which is outside every IP pool (${pools || 'no pools'})`,
      `request an IP inside a pool that selects the Service (${src}), or add a block containing ${quoted} to a pool`,
      { ...evidence, requestedIp: quoted },
    );
  }
  if (/doesn't select this service$/.test(message) && quoted) {
    const holder = f.pools.find((p) => poolHolds(p, quoted) && !p.spec.disabled && !conflictOf(p));
    return blockedBy(
      `LoadBalancer ${id} ${what}: the IP ${quoted} it requests (${requestSource(s, quoted)}) is in pool ${holder?.metadata.name ?? '?'}, whose serviceSelector ${holder ? selectorText(holder) : ''} does not select it (labels ${canonical(s.metadata.labels ?? {})})`,
      `make the pool ${holder?.metadata.name ?? 'holding the IP'} select the Service (spec.serviceSelector), or request an IP from a pool that does`,
      { ...evidence, requestedIp: quoted, ...(holder ? { pool: holder.metadata.name } : {}) },
    );
  }
  if (/is already allocated to another service/.test(message) && quoted) {
    const holder = f.services.find((o) => svcId(o) !== id && ingressIps(o).includes(quoted));
    return blockedBy(
      `LoadBalancer ${id} ${what}: the IP ${quoted} it requests (${requestSource(s, quoted)}) is already held by ${holder ? svcId(holder) : 'another Service'}`,
      'request a free IP (lbipam.cilium.io/ips or spec.loadBalancerIP), release it from the other Service, or share it with lbipam.cilium.io/sharing-key on both',
      { ...evidence, requestedIp: quoted, ...(holder ? { heldBy: svcId(holder) } : {}) },
    );
  }
  if (/ran out of allocatable IPs$/.test(message)) {
    const usable = selecting.filter((p) => !p.spec.disabled && !conflictOf(p));
    const holders = new Map<string, number>();
    for (const o of f.services) {
      if (svcId(o) === id) continue;
      const n = ingressIps(o).filter((ip) => usable.some((p) => poolHolds(p, ip))).length;
      if (n) holders.set(svcId(o), n);
    }
    const who = [...holders.entries()]
      .sort(([a], [b]) => byteOrder(a, b))
      .map(([k, n]) => `${k} (${n})`)
      .join(', ');
    return blockedBy(
      `LoadBalancer ${id} ${what}: every IP of pool ${usable.map((p) => p.metadata.name).join(', ')} is taken${who ? ` by ${who}` : ''}`,
      'give the pool more or different addresses (meshpilot amend with a new clusters[].loadBalancer.pool), or free addresses held by other Services',
      { ...evidence, ...(who ? { heldBy: who } : {}) },
    );
  }
  if (/no enabled CiliumLoadBalancerIPPools that match this service/.test(message)) {
    if (!f.pools.length) {
      return blockedBy(
        `LoadBalancer ${id} ${what}: there is no CiliumLoadBalancerIPPool in the cluster any more`,
        'add an IP pool (clusters[].loadBalancer.pool in the blueprint) for this cluster',
        evidence,
      );
    }
    if (!selecting.length) {
      return blockedBy(
        `LoadBalancer ${id} ${what}: no IP pool selects it (pools: ${f.pools.map((p) => `${p.metadata.name} selector ${selectorText(p)}`).join('; ')})`,
        `fix the pool's serviceSelector so it matches ${id} (labels ${canonical(s.metadata.labels ?? {})}; io.kubernetes.service.namespace and io.kubernetes.service.name also match)`,
        evidence,
      );
    }
    const conflicting = selecting.filter((p) => conflictOf(p));
    const disabled = selecting.filter((p) => p.spec.disabled && !conflictOf(p));
    const usable = selecting.filter((p) => !p.spec.disabled && !conflictOf(p));
    if (!usable.length && conflicting.length) {
      const p = conflicting[0]!;
      return blockedBy(
        `LoadBalancer ${id} ${what}: the pool that selects it, ${p.metadata.name}, is disabled by Cilium because it overlaps another pool: ${conflictOf(p)}`,
        `make the blocks of ${p.metadata.name} disjoint from every other pool (Cilium disables the newer of two overlapping pools and hands out nothing from it)`,
        { ...evidence, conflictingPool: p.metadata.name },
      );
    }
    if (!usable.length && disabled.length) {
      return blockedBy(
        `LoadBalancer ${id} ${what}: every pool that selects it is disabled (${disabled.map((p) => p.metadata.name).join(', ')}: spec.disabled: true)`,
        'enable a pool that selects the Service (spec.disabled: false) or add an enabled one; a disabled pool keeps the addresses it gave but hands out no new ones',
        evidence,
      );
    }
    const fam = wantsFamilies(s);
    const hasV6 = usable.some((p) => ranges(p).some((r) => r.v6));
    const hasV4 = usable.some((p) => ranges(p).some((r) => !r.v6));
    if ((fam.v6 && !hasV6) || (fam.v4 && !hasV4)) {
      const missing = fam.v6 && !hasV6 ? 'IPv6' : 'IPv4';
      return blockedBy(
        `LoadBalancer ${id} ${what}: it asks for an ${missing} address (spec.ipFamilies ${JSON.stringify(s.spec.ipFamilies ?? [])}), and no enabled pool that selects it has an ${missing} block (${usable.map((p) => `${p.metadata.name}: ${blocksText(p)}`).join('; ')})`,
        `add an ${missing} block to ${usable[0]!.metadata.name}, or change the Service's ipFamilyPolicy/ipFamilies; ${missing === 'IPv6' ? 'Cilium hands out IPv6 addresses only with ipv6.enabled: true' : ''}`
          .trim()
          .replace(/;$/, ''),
        evidence,
      );
    }
  }
  return blockedBy(
    `LoadBalancer ${id} ${what}: ${cond.reason ?? 'unknown'} ${message}`.trim(),
    "read the Service condition cilium.io/IPAMRequestSatisfied and the pools' conditions (kubectl get ippools)",
    evidence,
  );
}

export function diagnoseLoadBalancer(facts: LbFacts, want: { namespace: string; name: string }): LbVerdict {
  // the same answer whatever order the lists came in
  const f = { ...facts, pools: [...facts.pools].sort((a, b) => byteOrder(a.metadata.name, b.metadata.name)), services: [...facts.services].sort((a, b) => byteOrder(svcId(a), svcId(b))) };
  const id = `${want.namespace}/${want.name}`;
  const blockedBy: Blocked = (reason, h, evidence = {}) => ({ ok: false, details: { reason, hint: hint(h), evidence: { service: id, ...evidence } } });
  const s = f.service;
  if (!s) {
    const isMeshApiserver = want.namespace === 'kube-system' && want.name === 'clustermesh-apiserver';
    return blockedBy(
      `Service ${id} does not exist`,
      isMeshApiserver ? 'enable the clustermesh-apiserver (clustermesh.useAPIServer: true) in the Cilium values' : 'check the namespace and name (kubectl get services -A)',
    );
  }
  if (s.spec.type !== 'LoadBalancer') {
    return blockedBy(
      `Service ${id} is of type ${s.spec.type ?? 'ClusterIP'}, not LoadBalancer`,
      'set spec.type: LoadBalancer (for the clustermesh-apiserver: clustermesh.apiserver.service.type: LoadBalancer)',
    );
  }
  if (s.spec.loadBalancerClass && s.spec.loadBalancerClass !== 'io.cilium/l2-announcer' && s.spec.loadBalancerClass !== 'io.cilium/bgp-control-plane') {
    return blockedBy(`Service ${id} asks for loadBalancerClass ${s.spec.loadBalancerClass}, which Cilium LB-IPAM ignores`, 'remove loadBalancerClass or run the controller that serves it');
  }
  const ips = ingressIps(s);
  const cond = conditionOf(s, ...IPAM_CONDITIONS);
  const condText = cond ? `${cond.type}=${cond.status} reason=${cond.reason ?? ''}` : 'none';
  const evidence: Evidence = { condition: condText, message: cond?.message ?? '', ...poolEvidence(f.pools) };
  if (!ips.length) {
    if (f.poolsServed === false) {
      return blockedBy(
        `LoadBalancer ${id} is <pending>: the cluster does not serve CiliumLoadBalancerIPPools, so nothing assigns LoadBalancer IPs`,
        'install Cilium (its operator registers the LB-IPAM CRDs at start-up) and check that cilium-operator runs (cilium status)',
        evidence,
      );
    }
    if (f.pools.length === 0) {
      return blockedBy(
        `LoadBalancer ${id} is <pending>: there is no CiliumLoadBalancerIPPool in the cluster (LB-IPAM stays dormant and writes no condition until one exists)`,
        'add an IP pool (clusters[].loadBalancer.pool in the blueprint) for this cluster',
        evidence,
      );
    }
    if (!cond) {
      return blockedBy(`LoadBalancer ${id} is <pending> and Cilium LB-IPAM has not processed it`, 'check that cilium-operator is running (cilium status)', evidence);
    }
    return ipamCause(f, s, id, 'is <pending>', cond, blockedBy, evidence);
  }

  const address = ips[0]!;
  if (cond?.status === 'False') {
    // An address, but not everything asked for (one family of a dual-stack request, one of several requested IPs).
    const partial = ipamCause(f, s, id, `has ${ips.join(', ')} but not all it asks for`, cond, blockedBy, { ...evidence, address: ips.join(',') });
    return partial.ok ? partial : { ...partial, address };
  }
  const withAddress = (v: LbVerdict): LbVerdict => (v.ok ? v : { ...v, address });
  if (f.bgpConfigured) return { ok: true, address, summary: `LoadBalancer ${id} has ${ips.join(', ')} (announced by BGP)` };
  const lease = f.leases.find((l) => l.metadata.name === `cilium-l2announce-${want.namespace}-${want.name}`);
  if (lease?.spec.holderIdentity) {
    return { ok: true, address, announcedBy: lease.spec.holderIdentity, summary: `LoadBalancer ${id} has ${ips.join(', ')}, announced by node ${lease.spec.holderIdentity}` };
  }
  const base = { address, condition: condText };
  if (f.l2Enabled === false) {
    return withAddress(
      blockedBy(`LoadBalancer ${id} has IP ${address} but L2 announcements are disabled in Cilium`, 'set l2announcements.enabled: true (and kubeProxyReplacement: true) in the Cilium values', base),
    );
  }
  const policies = (f.policies ?? []).filter((p) => p.spec.loadBalancerIPs === true);
  if (!policies.length) {
    return withAddress(
      blockedBy(
        `LoadBalancer ${id} has IP ${address} but no CiliumL2AnnouncementPolicy announces LoadBalancer IPs`,
        'add an L2 announcement policy with loadBalancerIPs: true (or configure BGP)',
        base,
      ),
    );
  }
  const forService = policies.filter((p) => selectorMatches(p.spec.serviceSelector, serviceLabels(s)));
  if (!forService.length) {
    return withAddress(
      blockedBy(`LoadBalancer ${id} has IP ${address} but no L2 announcement policy selects it`, `fix the serviceSelector of ${policies.map((p) => p.metadata.name).join(', ')}`, base),
    );
  }
  const selected = f.nodes.filter((n) => forService.some((p) => selectorMatches(p.spec.nodeSelector, n.metadata.labels ?? {})));
  if (!selected.length) {
    return withAddress(blockedBy(`LoadBalancer ${id} has IP ${address} but the L2 policy's nodeSelector matches no node`, 'fix the nodeSelector of the L2 announcement policy', base));
  }
  const excluded = selected.filter((n) => Object.hasOwn(n.metadata.labels ?? {}, EXCLUDE_LB_LABEL));
  const eligible = selected.filter((n) => !excluded.includes(n));
  if (!eligible.length) {
    return withAddress(
      blockedBy(
        `LoadBalancer ${id} has IP ${address} but no node announces it: every node the L2 policy selects (${excluded.map((n) => n.metadata.name).join(', ')}) carries the label ${EXCLUDE_LB_LABEL}, so Cilium never elects an announcer and nothing reports an error`,
        `Talos puts ${EXCLUDE_LB_LABEL} on control-plane nodes; remove it with the control-plane machine-config patch\n${TALOS_KEEP_LB_PATCH}\nor let the L2 policy select worker nodes`,
        { ...base, excludedNodes: excluded.map((n) => n.metadata.name).join(','), label: EXCLUDE_LB_LABEL },
      ),
    );
  }
  const inSubnet = eligible.filter((n) => {
    const ip = internalIp(n);
    return ip !== undefined && sameSlash24(ip, address);
  });
  if (!inSubnet.length) {
    return withAddress(
      blockedBy(
        `LoadBalancer ${id} has IP ${address}, outside the subnet of every node that could announce it (${eligible.map((n) => `${n.metadata.name} ${internalIp(n)}`).join(', ')}): ARP for it reaches nobody`,
        "give this cluster an LB pool inside its nodes' L2 subnet",
        base,
      ),
    );
  }
  return withAddress(blockedBy(`LoadBalancer ${id} has IP ${address} but no L2 lease holder yet`, 'wait for the cilium agents to elect an announcer (check cilium status)', base));
}
