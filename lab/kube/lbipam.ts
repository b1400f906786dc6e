import type { LabCluster, LabState } from '../state.ts';
import { addrKey, formatAddr, parseAddr, parsePrefix, type Addr, type Family } from './ip-range.ts';
import { sameSlash24 } from './ipv4.ts';
import { deleteObj, getObj, isoTime, listObjs, objKey, putObj, selectorMatches, type KubeObject } from './store.ts';
import { getPath } from './values.ts';
import { agentsReady, EXCLUDE_LB_LABEL, nodeLabels, operatorReady, runningNodes } from './view.ts';

/**
 * LB-IPAM and L2 announcements as Cilium 1.16 does them (cilium/cilium v1.16.19 operator/pkg/lbipam/lbipam.go,
 * range_store.go, service_store.go, pkg/ipalloc; pkg/l2announcer/l2announcer.go), held to the real operator by
 * test/conformance/lb-ipam.test.ts. The operator keeps its allocations in memory and writes them to Service
 * status; the lab recomputes them from the stored objects on every call, in the operator's order:
 * - dormant until the first pool exists (no condition at all on Services before that);
 * - overlapping pools: the newer one gets `cilium.io/PoolConflict` True and allocates nothing;
 * - existing allocations stay while their pool exists and selects the Service (a disabled pool keeps them);
 * - requested IPs (`spec.loadBalancerIP` and the `lbipam.cilium.io/ips` annotation) or one IP per requested family;
 * - the first free address of the smallest free block of a range (ipalloc's min-heap of free blocks).
 * Not modelled: sharing keys (a second Service never shares an IP), pools whose blocks do not parse (ignored).
 */
export const IPAM_CONDITION = 'cilium.io/IPAMRequestSatisfied';
export const POOL_CONFLICT = 'cilium.io/PoolConflict';
const REQUEST_ANNOTATIONS = ['lbipam.cilium.io/ips', 'io.cilium/lb-ipam-ips'];
const L2_CLASS = 'io.cilium/l2-announcer';

const MSG = {
  noPool: 'There are no enabled CiliumLoadBalancerIPPools that match this service',
  outOfIps: 'All enabled CiliumLoadBalancerIPPools that match this service ran out of allocatable IPs',
  noPoolFor: (ip: string) => `No pool exists with a CIDR containing '${ip}'`,
  mismatch: (ip: string) => `The pool with the CIDR containing '${ip}', doesn't select this service`,
  taken: (ip: string) => `The IP '${ip}' is already allocated to another service`,
  conflict: (target: Range, other: Range, otherPool: string) => `Pool conflicts since range '${rangeText(target)}' overlaps range '${rangeText(other)}' from IP Pool '${otherPool}'`,
};

interface Condition {
  type: string;
  status: string;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

interface Range {
  pool: PoolView;
  family: Family;
  first: bigint;
  last: bigint;
  /** address → owning Service id; '' marks the first/last address a `allowFirstLastIPs: No` pool reserves */
  allocs: Map<bigint, string>;
}
interface PoolView {
  obj: KubeObject;
  ranges: Range[];
  conflicting: boolean;
  conditions: Condition[];
}

const rangeText = (r: Range) => `${formatAddr({ family: r.family, n: r.first })} - ${formatAddr({ family: r.family, n: r.last })}`;
const disabled = (r: Range) => r.pool.obj.spec?.disabled === true || r.pool.conflicting;
const contains = (r: Range, a: Addr) => r.family === a.family && a.n >= r.first && a.n <= r.last;
const overlaps = (a: Range, b: Range) => a.family === b.family && a.first <= b.last && b.first <= a.last;

/** meta.SetStatusCondition: the transition time moves only when the status does. */
function setCondition(list: Condition[], next: Omit<Condition, 'lastTransitionTime'>, now: number): Condition[] {
  const prev = list.find((c) => c.type === next.type);
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : isoTime(now);
  const cond: Condition = {
    type: next.type,
    status: next.status,
    ...(next.observedGeneration ? { observedGeneration: next.observedGeneration } : {}),
    lastTransitionTime,
    reason: next.reason,
    message: next.message,
  };
  return prev ? list.map((c) => (c === prev ? cond : c)) : [...list, cond];
}

/** Blocks as the operator parses them; a pool with a block that does not parse gets no ranges (the operator retries it forever). */
function poolView(obj: KubeObject): PoolView {
  const conditions = ((obj.status?.conditions as Condition[] | undefined) ?? []).map((c) => ({ ...c }));
  const view: PoolView = { obj, ranges: [], conflicting: conditions.some((c) => c.type === POOL_CONFLICT && c.status === 'True'), conditions };
  type Block = { cidr?: string; start?: string; stop?: string };
  const ranges: Range[] = [];
  for (const b of (obj.spec?.blocks as Block[] | undefined) ?? []) {
    let family: Family;
    let first: bigint;
    let last: bigint;
    let fromCidr = false;
    if (b.cidr) {
      const p = parsePrefix(b.cidr);
      if (!p) return view;
      ({ family, first, last } = p);
      fromCidr = true;
    } else {
      const from = parseAddr(b.start ?? '');
      const to = b.stop ? parseAddr(b.stop) : from;
      if (!from || !to || from.family !== to.family || from.n > to.n) return view;
      ({ family } = from);
      first = from.n;
      last = to.n;
    }
    const r: Range = { pool: view, family, first, last, allocs: new Map() };
    // lbipam.go handleNewPool: `No` reserves the first and last IP of a CIDR larger than two addresses
    if (fromCidr && obj.spec?.allowFirstLastIPs === 'No' && last - first >= 2n) {
      r.allocs.set(first, '');
      r.allocs.set(last, '');
    }
    ranges.push(r);
  }
  view.ranges = ranges;
  return view;
}

function internalConflict(p: PoolView): [Range, Range] | undefined {
  for (const a of p.ranges) for (const b of p.ranges) if (a !== b && overlaps(a, b)) return [a, b];
  return undefined;
}
function crossConflict(outer: PoolView, inner: PoolView): [Range, Range] | undefined {
  for (const a of outer.ranges) for (const b of inner.ranges) if (overlaps(a, b)) return [a, b];
  return undefined;
}

/** lbipam.go settleConflicts: the newer of two overlapping pools is marked conflicting; a resolved conflict is unmarked. */
function settleConflicts(pools: PoolView[], now: number): void {
  const mark = (target: PoolView, other: PoolView, targetRange: Range, otherRange: Range) => {
    target.conflicting = true;
    target.conditions = setCondition(
      target.conditions,
      { type: POOL_CONFLICT, status: 'True', observedGeneration: target.obj.metadata.generation, reason: 'cidr_overlap', message: MSG.conflict(targetRange, otherRange, other.obj.metadata.name) },
      now,
    );
  };
  for (const outer of pools) {
    if (outer.conflicting) continue;
    const internal = internalConflict(outer);
    if (internal) {
      mark(outer, outer, internal[0], internal[1]);
      continue;
    }
    for (const inner of pools) {
      if (inner === outer || inner.conflicting) continue;
      const hit = crossConflict(outer, inner);
      if (!hit) continue;
      // creationTimestamp has a resolution of one second; on a tie the operator's map order decides (here: the later in list order)
      if ((outer.obj.metadata.creationTimestamp ?? '') < (inner.obj.metadata.creationTimestamp ?? '')) mark(inner, outer, hit[1], hit[0]);
      else mark(outer, inner, hit[0], hit[1]);
      break;
    }
  }
  for (const outer of pools) {
    if (!outer.conflicting || internalConflict(outer)) continue;
    if (pools.some((inner) => inner !== outer && crossConflict(outer, inner))) continue;
    outer.conflicting = false;
  }
  for (const p of pools) {
    const stored = p.conditions.find((c) => c.type === POOL_CONFLICT);
    // new pools are unmarked first (handleNewPool), so PoolConflict is always the first pool condition; it
    // changes (and takes the current generation) only when the conflict does
    if (!p.conflicting && (!stored || stored.status === 'True')) {
      p.conditions = setCondition(p.conditions, { type: POOL_CONFLICT, status: 'False', observedGeneration: p.obj.metadata.generation, reason: 'resolved', message: '' }, now);
    }
  }
}

export function serviceSelectorLabels(svc: KubeObject): Record<string, string> {
  return {
    ...(svc.metadata.labels ?? {}),
    'io.kubernetes.service.namespace': svc.metadata.namespace ?? 'default',
    'io.kubernetes.service.name': svc.metadata.name,
  };
}

/** getSVCRequestedIPs: spec.loadBalancerIP, then the annotation's list; what does not parse is skipped (only logged). */
export function requestedIps(svc: KubeObject): Addr[] {
  const texts: string[] = [];
  if (svc.spec?.loadBalancerIP) texts.push(String(svc.spec.loadBalancerIP));
  const ann = REQUEST_ANNOTATIONS.map((a) => svc.metadata.annotations?.[a]).find(Boolean);
  if (ann) texts.push(...ann.split(','));
  const out: Addr[] = [];
  for (const t of texts) {
    const a = parseAddr(t);
    if (a && !(out.length && addrKey(out.at(-1)!) === addrKey(a))) out.push(a);
  }
  return out;
}

/** serviceIPFamilyRequest: which families a Service without specific IPs asks for. */
function familiesRequested(svc: KubeObject, enabled: Record<Family, boolean>): Record<Family, boolean> {
  const policy = svc.spec?.ipFamilyPolicy as string | undefined;
  const families = (svc.spec?.ipFamilies as string[] | undefined) ?? [];
  const single = (): Record<Family, boolean> => {
    if (families.length) return families[0] === 'IPv4' ? { 4: true, 6: false } : { 4: false, 6: true };
    return enabled[4] ? { 4: true, 6: false } : { 4: false, 6: enabled[6] };
  };
  if (policy === undefined || policy === 'SingleStack') return single();
  if (policy === 'PreferDualStack') {
    if (!families.length) return { ...enabled };
    return { 4: families.includes('IPv4') && enabled[4], 6: families.includes('IPv6') && enabled[6] };
  }
  if (policy === 'RequireDualStack') return { ...enabled };
  return { 4: false, 6: false };
}

const handledByCilium = (svc: KubeObject, l2: boolean) => svc.spec?.type === 'LoadBalancer' && (!svc.spec?.loadBalancerClass || (l2 && svc.spec.loadBalancerClass === L2_CLASS));

/** ipalloc AllocAny: the first address of the smallest free block (free blocks form a min-heap by size). */
function allocAny(r: Range): bigint | undefined {
  const taken = [...r.allocs.keys()].filter((n) => n >= r.first && n <= r.last).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let best: { from: bigint; size: bigint } | undefined;
  let from = r.first;
  for (const t of [...taken, r.last + 1n]) {
    if (t > from) {
      const size = t - from;
      if (!best || size < best.size) best = { from, size };
    }
    from = t + 1n;
  }
  return best?.from;
}

interface ServiceOutcome {
  ingress: Addr[];
  failure?: { reason: string; message: string };
}

export function reconcileLbIpam(state: LabState, c: LabCluster, now: number): void {
  if (!operatorReady(c, now)) return;
  const config = ciliumConfig(c);
  const l2 = getPath(config, 'l2announcements.enabled') === true;
  const enabled: Record<Family, boolean> = { 4: getPath(config, 'ipv4.enabled') !== false, 6: getPath(config, 'ipv6.enabled') === true };
  const pools = listObjs(c, 'CiliumLoadBalancerIPPool').map(poolView);
  const services = listObjs(c, 'Service');
  const id = (s: KubeObject) => `${s.metadata.namespace}/${s.metadata.name}`;

  // A Service LB-IPAM served before but no longer may (loadBalancerClass, type) loses its IPs and condition.
  for (const s of services) {
    if (handledByCilium(s, l2) || !hasIpamCondition(s)) continue;
    writeStatus(c, s, [], undefined, now, true);
  }
  const handled = services.filter((s) => handledByCilium(s, l2));
  if (!pools.length) {
    // Dormant (lbipam.go Run/initialize): nothing happens until a pool exists. Removing the last pool first
    // released every allocation (handlePoolDeleted), so Services it had served are left without IPs.
    for (const s of handled) if (hasIpamCondition(s)) writeOutcome(c, s, satisfy(s, [], [], enabled, id(s)), enabled, now);
    reconcileL2(state, c, now);
    return;
  }
  settleConflicts(pools, now);
  const ranges = pools.flatMap((p) => p.ranges);
  const selects = (r: Range, s: KubeObject) => selectorMatches(r.pool.obj.spec?.serviceSelector, serviceSelectorLabels(s));

  // Existing allocations first: an ingress IP stays while a range of a pool that selects the Service holds it
  // (stripInvalidAllocations keeps allocations of disabled and conflicting pools), and was asked for.
  const kept = new Map<string, Addr[]>();
  for (const s of handled) {
    const wanted = requestedIps(s);
    const families = familiesRequested(s, enabled);
    const keep: Addr[] = [];
    for (const ing of (s.status?.loadBalancer?.ingress as { ip?: string }[] | undefined) ?? []) {
      const a = parseAddr(ing.ip ?? '');
      if (!a || keep.some((k) => addrKey(k) === addrKey(a))) continue;
      if (wanted.length ? !wanted.some((w) => addrKey(w) === addrKey(a)) : !families[a.family]) continue;
      const free = (r: Range) => contains(r, a) && selects(r, s) && (!r.allocs.has(a.n) || r.allocs.get(a.n) === id(s));
      const r = ranges.find((x) => free(x) && !disabled(x)) ?? ranges.find(free);
      if (!r) continue;
      r.allocs.set(a.n, id(s));
      keep.push(a);
    }
    kept.set(id(s), keep);
  }
  // Then every Service still short of what it asked for is satisfied as far as it can be, oldest first; one
  // its kept addresses satisfy is left as it is (the operator rewrites nothing).
  for (const s of handled) {
    const keep = kept.get(id(s)) ?? [];
    if (isSatisfied(s, keep, enabled)) writeStatus(c, s, keep, undefined, now, false);
    else writeOutcome(c, s, satisfy(s, ranges, keep, enabled, id(s)), enabled, now);
  }

  for (const p of pools) {
    let total = 0n;
    let used = 0n;
    for (const r of p.ranges) {
      total += r.last - r.first + 1n;
      used += BigInt(r.allocs.size);
    }
    const gen = p.obj.metadata.generation;
    for (const [type, n] of [
      ['cilium.io/IPsTotal', total],
      ['cilium.io/IPsAvailable', total - used],
      ['cilium.io/IPsUsed', used],
    ] as const) {
      p.conditions = setCondition(p.conditions, { type, status: 'Unknown', observedGeneration: gen, reason: 'noreason', message: String(n) }, now);
    }
    if (JSON.stringify(p.obj.status?.conditions ?? []) !== JSON.stringify(p.conditions)) putObj(c, { ...p.obj, status: { ...(p.obj.status ?? {}), conditions: p.conditions } }, now);
  }
  reconcileL2(state, c, now);
}

/** satisfyService for one Service: its specific IPs, or one IP per requested family. */
function satisfy(s: KubeObject, ranges: Range[], kept: Addr[], enabled: Record<Family, boolean>, owner: string): ServiceOutcome {
  const ingress = [...kept];
  let failure: ServiceOutcome['failure'];
  const has = (a: Addr) => ingress.some((x) => addrKey(x) === addrKey(a));
  const wanted = requestedIps(s);
  const selects = (r: Range) => selectorMatches(r.pool.obj.spec?.serviceSelector, serviceSelectorLabels(s));
  if (wanted.length) {
    for (const w of wanted) {
      if (has(w)) continue;
      const ip = formatAddr(w);
      const holding = ranges.filter((r) => !disabled(r) && contains(r, w));
      const r = holding.find(selects);
      if (!r) {
        failure = holding.length ? { reason: 'pool_selector_mismatch', message: MSG.mismatch(ip) } : { reason: 'no_pool', message: MSG.noPoolFor(ip) };
        continue;
      }
      if (r.allocs.has(w.n)) {
        failure = { reason: 'already_allocated', message: MSG.taken(ip) };
        continue;
      }
      r.allocs.set(w.n, owner);
      ingress.push(w);
    }
    return { ingress, ...(failure ? { failure } : {}) };
  }
  const families = familiesRequested(s, enabled);
  for (const family of [4, 6] as const) {
    if (!families[family] || ingress.some((a) => a.family === family)) continue;
    let full = false;
    let got: Addr | undefined;
    for (const r of ranges) {
      if (disabled(r) || r.family !== family || !selects(r)) continue;
      const n = allocAny(r);
      if (n === undefined) {
        full = true;
        continue;
      }
      r.allocs.set(n, owner);
      got = { family, n };
      break;
    }
    if (got) ingress.push(got);
    else failure = full ? { reason: 'out_of_ips', message: MSG.outOfIps } : { reason: 'no_pool', message: MSG.noPool };
  }
  return { ingress, ...(failure ? { failure } : {}) };
}

const hasIpamCondition = (s: KubeObject) => ((s.status?.conditions as Condition[] | undefined) ?? []).some((x) => x.type === IPAM_CONDITION);

function isSatisfied(s: KubeObject, ingress: Addr[], enabled: Record<Family, boolean>): boolean {
  const wanted = requestedIps(s);
  if (wanted.length) return wanted.every((w) => ingress.some((a) => addrKey(a) === addrKey(w)));
  const families = familiesRequested(s, enabled);
  return !((families[4] && !ingress.some((a) => a.family === 4)) || (families[6] && !ingress.some((a) => a.family === 6)));
}

function writeOutcome(c: LabCluster, s: KubeObject, o: ServiceOutcome, enabled: Record<Family, boolean>, now: number): void {
  const satisfied = isSatisfied(s, o.ingress, enabled);
  const cond = satisfied ? { ok: true, reason: 'satisfied', message: '' } : o.failure ? { ok: false, ...o.failure } : undefined;
  writeStatus(c, s, o.ingress, cond, now, false);
}

function writeStatus(c: LabCluster, s: KubeObject, ingress: Addr[], cond: { ok: boolean; reason: string; message: string } | undefined, now: number, dropCondition: boolean): void {
  let conditions = ((s.status?.conditions as Condition[] | undefined) ?? []).map((x) => ({ ...x }));
  if (dropCondition) conditions = conditions.filter((x) => x.type !== IPAM_CONDITION);
  else if (cond) {
    conditions = setCondition(conditions, { type: IPAM_CONDITION, status: cond.ok ? 'True' : 'False', observedGeneration: s.metadata.generation, reason: cond.reason, message: cond.message }, now);
  }
  const prevIngress = (s.status?.loadBalancer?.ingress as { ip?: string }[] | undefined) ?? [];
  const ingressObjs = ingress.map((a) => prevIngress.find((p) => p.ip === formatAddr(a)) ?? { ip: formatAddr(a), ipMode: 'VIP' });
  const status = { ...(s.status ?? {}), loadBalancer: ingressObjs.length ? { ingress: ingressObjs } : {}, ...(conditions.length ? { conditions } : {}) };
  if (!conditions.length) delete (status as { conditions?: unknown }).conditions;
  if (JSON.stringify(status) !== JSON.stringify(s.status)) putObj(c, { ...s, status }, now);
}

function ciliumConfig(c: LabCluster): Record<string, unknown> | undefined {
  const rel = c.helm['kube-system/cilium'] as { revisions: { config: Record<string, unknown> }[] } | undefined;
  return rel?.revisions.at(-1)?.config;
}

export const leaseName = (svc: KubeObject) => `cilium-l2announce-${svc.metadata.namespace}-${svc.metadata.name}`;

/** The nodes that may announce a Service's IP (empty: nobody answers ARP for it). */
export function l2Candidates(state: LabState, c: LabCluster, svc: KubeObject, ip: string): string[] {
  const policies = listObjs(c, 'CiliumL2AnnouncementPolicy').filter((p) => p.spec?.loadBalancerIPs === true && selectorMatches(p.spec?.serviceSelector, serviceSelectorLabels(svc)));
  const nodes = runningNodes(state, c.name);
  const eligible = new Set<string>();
  for (const p of policies) {
    for (const n of nodes) {
      const labels = nodeLabels(state, n);
      // pkg/l2announcer: nodes labelled exclude-from-external-load-balancers never take part in the election
      if (Object.hasOwn(labels, EXCLUDE_LB_LABEL)) continue;
      if (!selectorMatches(p.spec?.nodeSelector, labels)) continue;
      // ARP for an IP outside every subnet the node sits in reaches nobody (lab: the node's /24)
      if (!sameSlash24(n.address, ip)) continue;
      eligible.add(n.name);
    }
  }
  return [...eligible].sort();
}

function reconcileL2(state: LabState, c: LabCluster, now: number): void {
  const config = ciliumConfig(c);
  const enabled = getPath(config, 'l2announcements.enabled') === true && agentsReady(c, now);
  const leaseDuration = Number(String(getPath(config, 'l2announcements.leaseDuration') ?? '15s').replace(/s$/, '')) || 15;
  const wanted = new Set<string>();
  for (const s of listObjs(c, 'Service').filter((x) => handledByCilium(x, true))) {
    // L2 announcements are ARP: IPv4 only
    const ip = ((s.status?.loadBalancer?.ingress as { ip?: string }[] | undefined) ?? []).map((i) => i.ip ?? '').find((x) => parseAddr(x)?.family === 4);
    if (!enabled || !ip) continue;
    const candidates = l2Candidates(state, c, s, ip);
    if (!candidates.length) continue;
    const name = leaseName(s);
    wanted.add(name);
    const prev = getObj(c, 'coordination.k8s.io/v1', 'Lease', 'kube-system', name);
    const holder = prev && candidates.includes(prev.spec?.holderIdentity) ? prev.spec.holderIdentity : candidates[0];
    if (prev?.spec?.holderIdentity === holder) continue;
    putObj(
      c,
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-system' },
        spec: {
          holderIdentity: holder,
          leaseDurationSeconds: leaseDuration,
          acquireTime: new Date(now).toISOString().replace('Z', '000Z'),
          renewTime: new Date(now).toISOString().replace('Z', '000Z'),
          leaseTransitions: prev ? Number(prev.spec?.leaseTransitions ?? 0) + 1 : 0,
        },
      },
      now,
    );
  }
  for (const l of listObjs(c, 'Lease', 'kube-system')) {
    if (l.metadata.name.startsWith('cilium-l2announce-') && !wanted.has(l.metadata.name)) {
      deleteObj(c, objKey('coordination.k8s.io/v1', 'Lease', 'kube-system', l.metadata.name));
    }
  }
}
