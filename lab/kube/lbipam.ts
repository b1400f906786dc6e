import type { LabCluster, LabState } from '../state.ts';
import { intToIp, ipToInt, parseCidr, sameSlash24 } from './ipv4.ts';
import { deleteObj, getObj, isoTime, listObjs, objKey, putObj, selectorMatches, type KubeObject } from './store.ts';
import { getPath } from './values.ts';
import { agentsReady, EXCLUDE_LB_LABEL, nodeLabels, operatorReady, runningNodes } from './view.ts';

/**
 * LB-IPAM and L2 announcements as Cilium 1.16 does them (cilium/cilium v1.16 operator/pkg/lbipam/lbipam.go,
 * pkg/l2announcer/l2announcer.go): the operator assigns LoadBalancer IPs from pools and writes the
 * `cilium.io/IPAMRequestSatisfied` Service condition; agents elect an announcer per Service through a Lease.
 * Run on every lab call that touches the cluster; deterministic, so re-running is harmless.
 */
export const IPAM_CONDITION = 'cilium.io/IPAMRequestSatisfied';
const REQUEST_ANNOTATIONS = ['lbipam.cilium.io/ips', 'io.cilium/lb-ipam-ips'];

interface PoolRange {
  first: number;
  last: number;
}
interface PoolView {
  obj: KubeObject;
  ranges: PoolRange[];
  disabled: boolean;
}

/** lbipam_types.go: `allowFirstLastIPs` Yes or unset allocates the network/broadcast IPs too (ignored for /31, /32). */
function poolRanges(pool: KubeObject): PoolRange[] {
  const allowEdges = pool.spec?.allowFirstLastIPs !== 'No';
  type Block = { cidr?: string; start?: string; stop?: string };
  const blocks: Block[] = [...((pool.spec?.blocks as Block[] | undefined) ?? []), ...((pool.spec?.cidrs as Block[] | undefined) ?? [])];
  const out: PoolRange[] = [];
  for (const b of blocks) {
    try {
      if (b.cidr) {
        const { first, last, bits } = parseCidr(b.cidr);
        out.push(allowEdges || bits >= 31 ? { first, last } : { first: first + 1, last: last - 1 });
      } else if (b.start) {
        out.push({ first: ipToInt(b.start), last: ipToInt(b.stop ?? b.start) });
      }
    } catch {
      // an invalid block makes the operator mark the pool conflicting; the lab simply ignores it
    }
  }
  return out;
}

const poolSize = (p: PoolView) => p.ranges.reduce((n, r) => n + (r.last - r.first + 1), 0);
const poolHas = (p: PoolView, ip: number) => p.ranges.some((r) => ip >= r.first && ip <= r.last);

export function serviceSelectorLabels(svc: KubeObject): Record<string, string> {
  return {
    ...(svc.metadata.labels ?? {}),
    'io.kubernetes.service.namespace': svc.metadata.namespace ?? 'default',
    'io.kubernetes.service.name': svc.metadata.name,
  };
}

export function requestedIps(svc: KubeObject): string[] {
  for (const a of REQUEST_ANNOTATIONS) {
    const v = svc.metadata.annotations?.[a];
    if (v) return v.split(',').map((s) => s.trim()).filter(Boolean);
  }
  return svc.spec?.loadBalancerIP ? [String(svc.spec.loadBalancerIP)] : [];
}

const handledByCilium = (svc: KubeObject) =>
  svc.spec?.type === 'LoadBalancer' && (!svc.spec?.loadBalancerClass || svc.spec.loadBalancerClass === 'io.cilium/l2-announcer');

function condition(svc: KubeObject, ok: boolean, reason: string, message: string, now: number) {
  const prev = (svc.status?.conditions as { type: string; status: string; lastTransitionTime: string }[] | undefined)?.find((c) => c.type === IPAM_CONDITION);
  const status = ok ? 'True' : 'False';
  return {
    type: IPAM_CONDITION,
    status,
    observedGeneration: svc.metadata.generation ?? 1,
    lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : isoTime(now),
    reason,
    message,
  };
}

export function reconcileLbIpam(state: LabState, c: LabCluster, now: number): void {
  if (!operatorReady(c, now)) return;
  const pools: PoolView[] = listObjs(c, 'CiliumLoadBalancerIPPool').map((obj) => ({ obj, ranges: poolRanges(obj), disabled: obj.spec?.disabled === true }));
  const services = listObjs(c, 'Service').filter(handledByCilium);
  const owner = new Map<number, string>(); // ip → ns/name
  const assigned = new Map<string, number[]>();
  const verdict = new Map<string, { ok: boolean; reason: string; message: string }>();
  const id = (s: KubeObject) => `${s.metadata.namespace}/${s.metadata.name}`;
  const selecting = (s: KubeObject) => pools.filter((p) => selectorMatches(p.obj.spec?.serviceSelector, serviceSelectorLabels(s)));

  // Pass 1: existing allocations stay while a selecting pool still holds the IP (disabling a pool keeps them).
  for (const s of services) {
    const cur = ((s.status?.loadBalancer?.ingress as { ip?: string }[] | undefined) ?? []).map((i) => i.ip).filter((x): x is string => Boolean(x));
    const wanted = requestedIps(s);
    const keep = cur
      .map(ipToInt)
      .filter((ip) => selecting(s).some((p) => poolHas(p, ip)) && !owner.has(ip) && (wanted.length === 0 || wanted.includes(intToIp(ip))));
    if (keep.length && (wanted.length === 0 || keep.length === wanted.length)) {
      keep.forEach((ip) => owner.set(ip, id(s)));
      assigned.set(id(s), keep);
      verdict.set(id(s), { ok: true, reason: 'satisfied', message: '' });
    }
  }
  // Pass 2: new allocations, oldest Service first.
  for (const s of services) {
    if (assigned.has(id(s))) continue;
    const wanted = requestedIps(s);
    const candidates = selecting(s).filter((p) => !p.disabled);
    if (wanted.length) {
      const got: number[] = [];
      let fail: { reason: string; message: string } | undefined;
      for (const w of wanted) {
        let ip: number;
        try {
          ip = ipToInt(w);
        } catch {
          fail = { reason: 'invalid_request', message: `Invalid IP '${w}'` };
          break;
        }
        const containing = pools.filter((p) => !p.disabled && poolHas(p, ip));
        if (!containing.length) fail = { reason: 'no_pool', message: `No pool exists with a CIDR containing '${w}'` };
        else if (!containing.some((p) => candidates.includes(p))) fail = { reason: 'pool_selector_mismatch', message: `The pool with the CIDR containing '${w}', doesn't select this service` };
        else if (owner.has(ip) && owner.get(ip) !== id(s)) fail = { reason: 'already_allocated', message: `The IP '${w}' is already allocated to another service` };
        if (fail) break;
        got.push(ip);
      }
      if (fail) verdict.set(id(s), { ok: false, ...fail });
      else {
        got.forEach((ip) => owner.set(ip, id(s)));
        assigned.set(id(s), got);
        verdict.set(id(s), { ok: true, reason: 'satisfied', message: '' });
      }
      continue;
    }
    if (!candidates.length) {
      verdict.set(id(s), { ok: false, reason: 'no_pool', message: 'There are no enabled CiliumLoadBalancerIPPools that match this service' });
      continue;
    }
    let picked: number | undefined;
    for (const p of candidates) {
      for (const r of p.ranges) {
        for (let ip = r.first; ip <= r.last && picked === undefined; ip++) if (!owner.has(ip)) picked = ip;
      }
      if (picked !== undefined) break;
    }
    if (picked === undefined) {
      verdict.set(id(s), { ok: false, reason: 'out_of_ips', message: 'All enabled CiliumLoadBalancerIPPools that match this service ran out of allocatable IPs' });
    } else {
      owner.set(picked, id(s));
      assigned.set(id(s), [picked]);
      verdict.set(id(s), { ok: true, reason: 'satisfied', message: '' });
    }
  }

  for (const s of services) {
    const v = verdict.get(id(s))!;
    const ips = assigned.get(id(s)) ?? [];
    const others = ((s.status?.conditions as { type: string }[] | undefined) ?? []).filter((x) => x.type !== IPAM_CONDITION);
    const status = { loadBalancer: ips.length ? { ingress: ips.map((ip) => ({ ip: intToIp(ip), ipMode: 'VIP' })) } : {}, conditions: [...others, condition(s, v.ok, v.reason, v.message, now)] };
    if (JSON.stringify(status) !== JSON.stringify(s.status)) putObj(c, { ...s, status }, now);
  }
  // Pool status (lbipam.go updatePoolCounts): counts as condition messages, status Unknown, reason noreason.
  for (const p of pools) {
    const used = [...owner.keys()].filter((ip) => poolHas(p, ip)).length;
    const total = poolSize(p);
    const counts = [
      ['cilium.io/IPsTotal', total],
      ['cilium.io/IPsAvailable', total - used],
      ['cilium.io/IPsUsed', used],
    ] as const;
    const conditions = [
      { type: 'cilium.io/PoolConflict', status: 'False', observedGeneration: p.obj.metadata.generation, lastTransitionTime: p.obj.metadata.creationTimestamp, reason: 'resolved', message: '' },
      ...counts.map(([type, n]) => ({ type, status: 'Unknown', observedGeneration: p.obj.metadata.generation, lastTransitionTime: p.obj.metadata.creationTimestamp, reason: 'noreason', message: String(n) })),
    ];
    if (JSON.stringify(p.obj.status?.conditions) !== JSON.stringify(conditions)) putObj(c, { ...p.obj, status: { conditions } }, now);
  }
  reconcileL2(state, c, now);
}

export const leaseName = (svc: KubeObject) => `cilium-l2announce-${svc.metadata.namespace}-${svc.metadata.name}`;

/** Why a Service's IP has no announcer; undefined when one exists. Shared by the lease reconcile and the lab docs. */
export function l2Candidates(state: LabState, c: LabCluster, svc: KubeObject, ip: string): string[] {
  const policies = listObjs(c, 'CiliumL2AnnouncementPolicy').filter(
    (p) => p.spec?.loadBalancerIPs === true && selectorMatches(p.spec?.serviceSelector, serviceSelectorLabels(svc)),
  );
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
  const rel = c.helm['kube-system/cilium'] as { revisions: { config: Record<string, unknown> }[] } | undefined;
  const enabled = getPath(rel?.revisions.at(-1)?.config, 'l2announcements.enabled') === true && agentsReady(c, now);
  const leaseDuration = Number(String(getPath(rel?.revisions.at(-1)?.config, 'l2announcements.leaseDuration') ?? '15s').replace(/s$/, '')) || 15;
  const wanted = new Set<string>();
  for (const s of listObjs(c, 'Service').filter(handledByCilium)) {
    const ip = s.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
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

