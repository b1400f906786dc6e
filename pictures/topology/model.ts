// What the topology picture shows, as data: built by a pure function from the blueprint, its validation warnings
// and (after `meshpilot verify`) the verdicts. Rendering (topology/dot.ts, topology/render.ts) only draws this.
import type { BlueprintIssue } from '../../blueprint/issues.ts';
import type { Blueprint, ClusterSpec } from '../../blueprint/schema.ts';
import { verdictKey, type Verdict, type VerdictStatus } from '../../contracts/verify/report.ts';

/** `none`: no verdict (a plan); otherwise the worst verdict that applies. */
export type Health = 'none' | VerdictStatus;

/** A warning or a verdict that is not ok, drawn where it applies. */
export interface Mark {
  level: 'warn' | 'fail';
  /** where it came from: the blueprint field path of a warning, or `check@cluster` of a verdict */
  source: string;
  text: string;
}

export interface ClusterBox {
  name: string;
  id: number;
  region: string;
  site: string;
  podCidrs: string[];
  serviceCidrs: string[];
  nodeCidrs: string[];
  lb: { mode: 'l2' | 'bgp'; blocks: string[]; health: Health; usage?: string };
  apiserverIP?: string;
  nodes: { controlplane: number; worker: number };
  health: Health;
  marks: Mark[];
}

export interface MeshLink {
  a: string;
  b: string;
  /** `fail` when either side reports the other not connected on every agent */
  health: Health;
  label: string;
}

export interface ServiceEdge {
  a: string;
  b: string;
  /** `payment-api:8080 (affinity local)`, one per global Service both clusters carry */
  services: string[];
  marks: Mark[];
}

export interface PolicyEdge {
  /** the cluster traffic is allowed from */
  from: string;
  /** the cluster the policy is enforced in */
  to: string;
  policy: string;
  /** `app=frontend → app=database :5432` */
  rule: string;
  marks: Mark[];
}

export interface TopologyModel {
  mesh: string;
  title: string;
  subtitle: string;
  clusters: ClusterBox[];
  links: MeshLink[];
  services: ServiceEdge[];
  policies: PolicyEdge[];
  /** mesh-wide warnings and verdicts (versions, encryption waivers, cross-cluster checks) */
  meshMarks: Mark[];
  /** true when drawn from verdicts (`meshpilot verify`), false for a plan */
  verified: boolean;
}

export interface TopologyInput {
  /** validation warnings, as `loadBlueprintFile` reports them (paths like clusters[1].loadBalancer.pool) */
  warnings?: BlueprintIssue[];
  /** a verify report's verdicts: colours links, pools and clusters */
  verdicts?: Verdict[];
  revision?: string;
}

const RANK: Record<Health, number> = { none: 0, ok: 1, warn: 2, fail: 3 };
const worst = (...h: Health[]): Health => h.reduce((w, x) => (RANK[x] > RANK[w] ? x : w), 'none');

const block = (b: { cidr?: string; start?: string; stop?: string }) => b.cidr ?? (b.stop && b.stop !== b.start ? `${b.start}-${b.stop}` : `${b.start}`);
const labels = (l: Record<string, string>) =>
  Object.entries(l)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || '(any)';

/** `clusters[1].x` → the cluster at index 1; the same for global services and policies. */
function indexed(path: string, key: 'clusters' | 'globalServices' | 'policies'): number | undefined {
  const m = new RegExp(`^${key}\\[(\\d+)\\]`).exec(path);
  return m ? Number(m[1]) : undefined;
}

function markOfVerdict(v: Verdict): Mark | undefined {
  if (v.status === 'ok') return undefined;
  return { level: v.status, source: verdictKey(v), text: v.summary };
}

/** Peers a cluster's clustermesh-status verdict reports not connected on every agent. */
function disconnectedPeers(v: Verdict): string[] {
  if (v.check !== 'clustermesh-status' || v.status === 'ok') return [];
  return Object.entries(v.evidence)
    .filter(([k]) => k.startsWith('peer.'))
    .filter(([, value]) => {
      const m = /^(\d+)\/(\d+) connected$/.exec(String(value));
      return !m || m[2] === '0' || m[1] !== m[2];
    })
    .map(([k]) => k.slice('peer.'.length));
}

function poolUsage(v: Verdict | undefined): string | undefined {
  if (!v) return undefined;
  const free = Object.entries(v.evidence)
    .filter(([k]) => /^pool\.[^.]+$/.test(k))
    .map(([, x]) => String(x));
  return free.length ? free.join(', ') : undefined;
}

function clusterBox(c: ClusterSpec, index: number, warnings: BlueprintIssue[], verdicts: Verdict[]): ClusterBox {
  const own = verdicts.filter((v) => v.cluster === c.name);
  const marks: Mark[] = [
    ...warnings.filter((w) => indexed(w.path, 'clusters') === index).map((w): Mark => ({ level: 'warn', source: w.path, text: w.message })),
    ...own.map(markOfVerdict).filter((m): m is Mark => m !== undefined),
  ];
  const pool = own.find((v) => v.check === 'lb-pool');
  const cps = c.nodes.filter((n) => n.role === 'controlplane').length;
  const fromVerdicts = worst(...own.map((v) => v.status));
  return {
    name: c.name,
    id: c.id,
    region: c.region,
    site: c.site,
    podCidrs: c.network.podSubnets,
    serviceCidrs: c.network.serviceSubnets,
    nodeCidrs: c.network.nodeSubnets,
    lb: { mode: c.loadBalancer.mode, blocks: c.loadBalancer.pool.map(block), health: pool?.status ?? 'none', usage: poolUsage(pool) },
    ...(c.clustermesh.apiserverIP ? { apiserverIP: c.clustermesh.apiserverIP } : {}),
    nodes: { controlplane: cps, worker: c.nodes.length - cps },
    health: worst(fromVerdicts, marks.some((m) => m.level === 'warn') ? 'warn' : 'none'),
    marks,
  };
}

function pairs<T>(items: T[]): Array<[T, T]> {
  const out: Array<[T, T]> = [];
  for (let i = 0; i < items.length; i++) for (let j = i + 1; j < items.length; j++) out.push([items[i]!, items[j]!]);
  return out;
}

export function topologyModel(bp: Blueprint, input: TopologyInput = {}): TopologyModel {
  const warnings = input.warnings ?? [];
  const verdicts = input.verdicts ?? [];
  const names = bp.clusters.map((c) => c.name);
  const clusters = bp.clusters.map((c, i) => clusterBox(c, i, warnings, verdicts));

  const down = new Set<string>();
  for (const v of verdicts) for (const peer of disconnectedPeers(v)) down.add([v.cluster ?? '', peer].sort().join('\u0000'));
  const meshVerdicts = verdicts.filter((v) => v.check === 'clustermesh-status');
  const transport = bp.mesh.encryption === 'wireguard' ? 'WireGuard' : 'unencrypted';
  const links: MeshLink[] = pairs(names).map(([a, b]) => {
    const broken = down.has([a, b].sort().join('\u0000'));
    const seen = meshVerdicts.filter((v) => v.cluster === a || v.cluster === b);
    const health: Health = broken ? 'fail' : seen.length ? worst(...seen.map((v) => (v.status === 'fail' ? 'warn' : v.status))) : 'none';
    return { a, b, health, label: `ClusterMesh · ${transport}${broken ? ' · DISCONNECTED' : ''}` };
  });

  const services: ServiceEdge[] = [];
  bp.globalServices.forEach((s, si) => {
    const where = s.clusters ?? names;
    const text = `${s.namespace}/${s.name}:${s.ports.map((p) => p.port).join(',')}${s.affinity !== 'none' ? ` (affinity ${s.affinity})` : ''}${s.shared ? '' : ' (not shared)'}`;
    const marks = warnings.filter((w) => indexed(w.path, 'globalServices') === si).map((w): Mark => ({ level: 'warn', source: w.path, text: w.message }));
    for (const [a, b] of pairs(names.filter((n) => where.includes(n)))) {
      let edge = services.find((e) => e.a === a && e.b === b);
      if (!edge) services.push((edge = { a, b, services: [], marks: [] }));
      edge.services.push(text);
      edge.marks.push(...marks);
    }
  });

  const policies: PolicyEdge[] = [];
  bp.policies.forEach((p, pi) => {
    const enforcedIn = p.clusters ?? names;
    const ports = p.ports?.length ? ` :${p.ports.map((x) => x.port).join(',')}` : '';
    const marks = warnings.filter((w) => indexed(w.path, 'policies') === pi).map((w): Mark => ({ level: 'warn', source: w.path, text: w.message }));
    for (const to of enforcedIn) {
      for (const from of p.allowFrom) {
        const sources = from.cluster ? [from.cluster] : names.filter((n) => n !== to);
        for (const src of sources) {
          if (src === to) continue;
          policies.push({ from: src, to, policy: `${p.namespace}/${p.name}`, rule: `${labels(from.labels)} → ${labels(p.endpointSelector)}${ports}`, marks });
        }
      }
    }
  });

  const meshMarks: Mark[] = [
    ...warnings
      .filter((w) => indexed(w.path, 'clusters') === undefined && indexed(w.path, 'globalServices') === undefined && indexed(w.path, 'policies') === undefined)
      .map((w): Mark => ({ level: 'warn', source: w.path, text: w.message })),
    ...verdicts
      .filter((v) => !v.cluster)
      .map(markOfVerdict)
      .filter((m): m is Mark => m !== undefined),
  ];

  const verified = verdicts.length > 0;
  const failing = verdicts.filter((v) => v.status === 'fail').length;
  return {
    mesh: bp.metadata.name,
    title: `Mesh ${bp.metadata.name}${verified ? ` — verified: ${failing ? `${failing} check(s) failing` : 'all checks pass'}` : ' — plan'}`,
    subtitle: [
      input.revision ? `revision ${input.revision}` : undefined,
      `Talos ${bp.versions.talos}, Kubernetes ${bp.versions.kubernetes}, Cilium ${bp.versions.cilium}`,
      `${bp.mesh.method} connect, ${transport}, kvstoremesh ${bp.mesh.kvstoremesh ? 'on' : 'off'}`,
    ]
      .filter(Boolean)
      .join(' · '),
    clusters,
    links,
    services,
    policies,
    meshMarks,
    verified,
  };
}
