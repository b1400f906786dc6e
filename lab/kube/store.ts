import { createHash } from 'node:crypto';
import type { LabCluster } from '../state.ts';
import { formatAddr, parsePrefix } from './ip-range.ts';
import { intToIp, parseCidr } from './ipv4.ts';

/** A Kubernetes object as the lab stores it (the `cluster.kube` map): plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: any;
  status?: any;
  data?: Record<string, string>;
  [k: string]: unknown;
}

/** Lab bookkeeping for the Kubernetes side of a cluster, kept in `cluster.extra.k8sLab`. */
export interface K8sLab {
  /** object key → epoch ms when it turns Ready (DaemonSets, Deployments, CRDs) */
  readyAt: Record<string, number>;
  /** when cilium-operator registers its CRDs */
  crdsAt?: number;
  rv: number;
  nextClusterIp: number;
  nextClusterIp6?: number;
  legacyIngressCreated?: boolean;
  stuckReleaseSeeded?: boolean;
}

export function k8sLab(cluster: LabCluster): K8sLab {
  const ex = cluster.extra as { k8sLab?: K8sLab };
  ex.k8sLab ??= { readyAt: {}, rv: 1000, nextClusterIp: 10 };
  return ex.k8sLab;
}

export const objKey = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => `${apiVersion}|${kind}|${namespace ?? ''}|${name}`;
export const keyOf = (o: KubeObject) => objKey(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);

export const isoTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function getObj(cluster: LabCluster, apiVersion: string, kind: string, ns: string | undefined, name: string): KubeObject | undefined {
  return cluster.kube[objKey(apiVersion, kind, ns, name)] as KubeObject | undefined;
}

export function listObjs(cluster: LabCluster, kind: string, ns?: string): KubeObject[] {
  return (Object.values(cluster.kube) as KubeObject[])
    .filter((o) => o.kind === kind && (ns === undefined || o.metadata.namespace === ns))
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
}

/** Kinds whose registry strategy keeps no metadata.generation (kube-apiserver 1.32): Services among them. */
const NO_GENERATION = new Set(['Service', 'ConfigMap', 'Secret', 'Namespace', 'Node', 'Lease', 'Pod', 'Endpoints', 'ServiceAccount']);

/** Stores an object, filling server-side metadata the way the apiserver does (uid, resourceVersion, generation). */
export function putObj(cluster: LabCluster, obj: KubeObject, now: number): KubeObject {
  const lab = k8sLab(cluster);
  const key = keyOf(obj);
  const prev = cluster.kube[key] as KubeObject | undefined;
  const specChanged = !prev || JSON.stringify(prev.spec) !== JSON.stringify(obj.spec);
  const stored: KubeObject = {
    ...obj,
    metadata: {
      ...obj.metadata,
      uid: prev?.metadata.uid ?? uidFor(cluster.name, key),
      creationTimestamp: prev?.metadata.creationTimestamp ?? isoTime(now),
      resourceVersion: String(++lab.rv),
      ...(NO_GENERATION.has(obj.kind) ? {} : { generation: (prev?.metadata.generation ?? 0) + (specChanged ? 1 : 0) }),
    },
  };
  if (NO_GENERATION.has(obj.kind)) delete stored.metadata.generation;
  if (stored.status === undefined && prev?.status !== undefined) stored.status = prev.status;
  cluster.kube[key] = stored;
  return stored;
}

export function deleteObj(cluster: LabCluster, key: string): boolean {
  if (!(key in cluster.kube)) return false;
  delete cluster.kube[key];
  delete k8sLab(cluster).readyAt[key];
  return true;
}

function uidFor(cluster: string, key: string): string {
  const h = createHash('sha256').update(`${cluster}/${key}/${Math.random()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Short stable suffix for generated pod names (`cilium-x7k2p`), like a ReplicaSet/DaemonSet hash. */
export function podSuffix(seed: string, len = 5): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const h = createHash('sha256').update(seed).digest();
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[h[i]! % alphabet.length];
  return s;
}

/** Kubernetes label selector (metav1.LabelSelector): matchLabels AND matchExpressions. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export function selectorMatches(sel: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(val!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(val!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** kubectl -l: `a=b,c!=d,e` */
export function labelQueryMatches(query: string | undefined, labels: Record<string, string>): boolean {
  if (!query) return true;
  return query.split(',').every((term) => {
    const t = term.trim();
    if (t.includes('!=')) {
      const [k, v] = t.split('!=');
      return labels[k!] !== v;
    }
    if (t.includes('=')) {
      const [k, v] = t.split(/==?/);
      return labels[k!] === v;
    }
    if (t.startsWith('!')) return !Object.hasOwn(labels, t.slice(1));
    return Object.hasOwn(labels, t);
  });
}

/**
 * The cluster's Service CIDRs as Talos' serviceSubnets set them: `extra.serviceCidrs` (dual-stack), else
 * `extra.serviceCidr`, else 10.96.0.0/12. The first one's family is the primary one.
 */
export function serviceCidrs(c: LabCluster): string[] {
  if (Array.isArray(c.extra.serviceCidrs) && c.extra.serviceCidrs.length) return c.extra.serviceCidrs as string[];
  return [typeof c.extra.serviceCidr === 'string' ? c.extra.serviceCidr : '10.96.0.0/12'];
}

/** The Service ClusterIP allocator, per family (IPv4 unless the cluster has an IPv6 Service CIDR and it is asked for). */
export function allocateClusterIp(c: LabCluster, family: 'IPv4' | 'IPv6' = 'IPv4'): string {
  const lab = k8sLab(c);
  const taken = new Set(listObjs(c, 'Service').flatMap((s) => (s.spec?.clusterIPs as string[] | undefined) ?? [s.spec?.clusterIP]));
  if (family === 'IPv6') {
    const cidr = serviceCidrs(c).find((x) => x.includes(':'));
    const p = cidr ? parsePrefix(cidr) : undefined;
    if (!p) throw new Error('the cluster has no IPv6 Service CIDR');
    let ip: string;
    do ip = formatAddr({ family: 6, n: p.first + BigInt((lab.nextClusterIp6 = (lab.nextClusterIp6 ?? 10) + 1)) });
    while (taken.has(ip));
    return ip;
  }
  const cidr = serviceCidrs(c).find((x) => !x.includes(':')) ?? '10.96.0.0/12';
  let ip: string;
  do ip = intToIp(parseCidr(cidr).first + lab.nextClusterIp++);
  while (taken.has(ip));
  return ip;
}
