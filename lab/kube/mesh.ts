import { X509Certificate } from 'node:crypto';
import type { LabCluster, LabState } from '../state.ts';
import { pemBodies } from './certs.ts';
import { getPath, type Values } from './values.ts';
import { getRelease, lastRevision } from './releases.ts';
import { getObj, listObjs, selectorMatches, type KubeObject } from './store.ts';
import { agentsReady, isReady, meshApiserverKey, podsOf, runningNodes } from './view.ts';

/**
 * ClusterMesh as the agents see it. A peer is connected from this cluster when both clusters list each other in
 * `clustermesh.config.clusters` (with config.enabled), the peer's clustermesh-apiserver runs and its Service has
 * an address the entry points at, and TLS trusts: the same `tls.ca` in both (chart cilium-ca-secret.yaml) or the
 * peer's certificates embedded in the entry (what cilium-cli 0.16 `connect` does when CAs differ).
 */
export interface PeerLink {
  name: string;
  connected: boolean;
  /** the agent's status text for this remote cluster */
  status: string;
}

export const ciliumValues = (c: LabCluster): Values | undefined => {
  const rel = getRelease(c, 'kube-system', 'cilium');
  return rel && lastRevision(rel).status !== 'uninstalled' ? lastRevision(rel).config : undefined;
};
export const ciliumClusterName = (c: LabCluster) => String(getPath(ciliumValues(c), 'cluster.name') ?? 'default');

interface MeshEntry {
  name: string;
  ips?: string[];
  address?: string;
  port?: number;
  tls?: { cert?: string; key?: string; caCert?: string };
}
export function meshEntries(c: LabCluster): MeshEntry[] {
  const v = ciliumValues(c);
  if (getPath(v, 'clustermesh.config.enabled') !== true) return [];
  const self = ciliumClusterName(c);
  return ((getPath(v, 'clustermesh.config.clusters') as MeshEntry[] | undefined) ?? []).filter((e) => e.name !== self);
}

export function findByCiliumName(state: LabState, name: string): LabCluster | undefined {
  return Object.values(state.clusters).find((c) => ciliumValues(c) && ciliumClusterName(c) === name);
}

/** The address(es) a client reaches clustermesh-apiserver at: LB ingress IPs, or node IPs for NodePort. */
export function apiserverAddresses(state: LabState, c: LabCluster): { ips: string[]; port: number; type: string } | undefined {
  const svc = getObj(c, 'v1', 'Service', 'kube-system', 'clustermesh-apiserver');
  if (!svc) return undefined;
  const type = String(svc.spec?.type ?? 'ClusterIP');
  if (type === 'LoadBalancer') {
    const ips = ((svc.status?.loadBalancer?.ingress as { ip?: string }[] | undefined) ?? []).map((i) => i.ip!).filter(Boolean);
    return { ips, port: 2379, type };
  }
  if (type === 'NodePort') return { ips: runningNodes(state, c.name).map((n) => n.address), port: 32379, type };
  return { ips: [String(svc.spec?.clusterIP ?? '')], port: 2379, type };
}

/** upgrade-mesh-disconnect: a cluster the fault names whose Cilium chart version changed since its first install. */
function droppedByUpgrade(state: LabState, c: LabCluster | undefined): boolean {
  const listed = (state.faults.meshDisconnectOnCiliumUpgrade as string[] | undefined) ?? [];
  const rel = c && getRelease(c, 'kube-system', 'cilium');
  return Boolean(c && rel && listed.includes(c.name) && rel.revisions.some((r) => r.chartVersion !== rel.revisions[0]!.chartVersion));
}

const validity = new Map<string, { from: number; to: number }>();
function validityOf(pem: string): { from: number; to: number } {
  let v = validity.get(pem);
  if (!v) {
    const x = new X509Certificate(pem);
    v = { from: Date.parse(x.validFrom), to: Date.parse(x.validTo) };
    if (validity.size > 2000) validity.clear();
    validity.set(pem, v);
  }
  return v;
}

const decoded = (v: string | undefined) => (v ? Buffer.from(v, 'base64').toString('utf8') : '');

/**
 * What a cluster's ClusterMesh TLS looks like to its peers: the CA that issued its apiserver's server certificate
 * and its agents' client (remote) certificate, the CAs it trusts (the trust bundle when tls.caBundle is enabled,
 * which the agents and the apiserver mount instead of the certificates' ca.crt), and whether a certificate is
 * outside its validity.
 */
interface MeshTls {
  serverCa?: string;
  clientCa?: string;
  trust: string[];
  serverCert?: string;
  clientCert?: string;
}
function meshTls(c: LabCluster): MeshTls {
  const secret = (name: string) => getObj(c, 'v1', 'Secret', 'kube-system', name)?.data;
  const server = secret('clustermesh-apiserver-server-cert');
  const client = secret('clustermesh-apiserver-remote-cert');
  const serverCa = pemBodies(decoded(server?.['ca.crt']))[0];
  const clientCa = pemBodies(decoded(client?.['ca.crt']))[0];
  const v = ciliumValues(c);
  let trust = [serverCa, clientCa].filter((x): x is string => Boolean(x));
  if (getPath(v, 'tls.caBundle.enabled') === true) {
    const name = String(getPath(v, 'tls.caBundle.name') ?? 'cilium-root-ca.crt');
    const key = String(getPath(v, 'tls.caBundle.key') ?? 'ca.crt');
    const useSecret = getPath(v, 'tls.caBundle.useSecret') === true;
    const obj = getObj(c, 'v1', useSecret ? 'Secret' : 'ConfigMap', 'kube-system', name);
    const text = useSecret ? ((obj?.stringData as Record<string, string> | undefined)?.[key] ?? decoded(obj?.data?.[key])) : (obj?.data?.[key] ?? '');
    trust = pemBodies(text);
  }
  return { serverCa, clientCa, trust, serverCert: decoded(server?.['tls.crt']) || undefined, clientCert: decoded(client?.['tls.crt']) || undefined };
}

/** crypto/x509's CertificateInvalidError (Expired) text, or undefined while the certificate is valid. */
function expiredText(pem: string | undefined, now: number): string | undefined {
  if (!pem) return undefined;
  const { from, to } = validityOf(pem);
  if (now >= from && now <= to) return undefined;
  const t = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return now > to ? `current time ${t(now)} is after ${t(to)}` : `current time ${t(now)} is before ${t(from)}`;
}

/**
 * The TLS handshake between this cluster's agents (client certificate: its remote cert) and the peer's
 * clustermesh-apiserver (server certificate), as Go's crypto/tls reports a failure from the agent's side.
 */
function handshake(self: MeshTls, peer: MeshTls, embeddedCa: boolean, now: number): string | undefined {
  const serverExpired = expiredText(peer.serverCert, now);
  if (serverExpired) return `tls: failed to verify certificate: x509: certificate has expired or is not yet valid: ${serverExpired}`;
  if (!embeddedCa && !(peer.serverCa && self.trust.includes(peer.serverCa))) return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  if (expiredText(self.clientCert, now)) return 'remote error: tls: expired certificate';
  if (!embeddedCa && !(self.clientCa && peer.trust.includes(self.clientCa))) return 'remote error: tls: unknown certificate authority';
  return undefined;
}

export function meshLinks(state: LabState, c: LabCluster, now: number): PeerLink[] {
  const self = ciliumClusterName(c);
  const tlsSelf = meshTls(c);
  return meshEntries(c).map((e): PeerLink => {
    const peer = findByCiliumName(state, e.name);
    const fail = (status: string): PeerLink => ({ name: e.name, connected: false, status });
    if (!agentsReady(c, now)) return fail('not ready');
    if (droppedByUpgrade(state, c) || droppedByUpgrade(state, peer)) {
      return fail(`failed to connect to etcd: context deadline exceeded (https://${e.name}.mesh.cilium.io:${e.port ?? 2379})`);
    }
    if (!peer || getPath(ciliumValues(peer), 'clustermesh.useAPIServer') !== true || !isReady(peer, meshApiserverKey, now)) {
      return fail(`failed to connect to etcd: context deadline exceeded (https://${e.name}.mesh.cilium.io:${e.port ?? 2379})`);
    }
    const addr = apiserverAddresses(state, peer);
    if (!addr?.ips.length || !(e.ips ?? []).some((ip) => addr.ips.includes(ip))) {
      return fail(`failed to connect to etcd: dial tcp ${(e.ips ?? [])[0] ?? e.address ?? '?'}:${e.port ?? 2379}: connect: no route to host`);
    }
    const tlsPeer = meshTls(peer);
    // certificates the lab does not issue (tls.auto.enabled false: the user's own Secrets): trust by the shared tls.ca value
    const unmodelled = !tlsSelf.serverCa && !tlsPeer.serverCa;
    const sharedCa = Boolean(getPath(ciliumValues(c), 'tls.ca.cert')) && getPath(ciliumValues(c), 'tls.ca.cert') === getPath(ciliumValues(peer), 'tls.ca.cert');
    const tlsError = unmodelled
      ? sharedCa || e.tls?.caCert ? undefined : 'tls: failed to verify certificate: x509: certificate signed by unknown authority'
      : handshake(tlsSelf, tlsPeer, Boolean(e.tls?.caCert), now);
    if (tlsError) return fail(`failed to connect to etcd: ${tlsError}`);
    if (!meshEntries(peer).some((x) => x.name === self)) return fail('remote cluster configuration required but not found');
    if (!agentsReady(peer, now)) return fail('synchronization in progress for endpoints, identities, nodes, services');
    return { name: e.name, connected: true, status: 'ready' };
  });
}

const isGlobal = (s: KubeObject) => ['service.cilium.io/global', 'io.cilium/global-service'].some((a) => s.metadata.annotations?.[a] === 'true');
const isShared = (s: KubeObject) => !['service.cilium.io/shared', 'io.cilium/shared-service'].some((a) => s.metadata.annotations?.[a] === 'false');

function localBackends(state: LabState, c: LabCluster, svc: KubeObject, now: number) {
  const sel = svc.spec?.selector as Record<string, string> | undefined;
  if (!sel) return [];
  const port = Number(svc.spec?.ports?.[0]?.targetPort ?? svc.spec?.ports?.[0]?.port ?? 80);
  return podsOf(state, c, now)
    .filter((p) => p.namespace === svc.metadata.namespace && p.ready && selectorMatches({ matchLabels: sel }, p.labels))
    .map((p) => ({ ip: p.ip, port, nodeName: p.node }));
}

/**
 * `cilium-dbg service list -o json` (cilium v1.16 api/v1/models/service_spec.go, backend_address.go): one entry
 * per ClusterIP frontend; a global Service also gets the backends of every connected peer that shares it.
 */
export function serviceList(state: LabState, c: LabCluster, now: number): unknown[] {
  const links = meshLinks(state, c, now).filter((l) => l.connected);
  const out: unknown[] = [];
  let id = 1;
  for (const svc of listObjs(c, 'Service')) {
    const clusterIP = svc.spec?.clusterIP as string | undefined;
    if (!clusterIP || clusterIP === 'None') continue;
    const affinity = svc.metadata.annotations?.['service.cilium.io/affinity'];
    let backends = localBackends(state, c, svc, now).map((b) => ({ ...b, preferred: affinity === 'local' }));
    if (isGlobal(svc)) {
      for (const l of links) {
        const peer = findByCiliumName(state, l.name)!;
        const remote = getObj(peer, 'v1', 'Service', svc.metadata.namespace, svc.metadata.name);
        if (!remote || !isGlobal(remote) || !isShared(remote)) continue;
        backends = backends.concat(localBackends(state, peer, remote, now).map((b) => ({ ...b, preferred: affinity === 'remote' })));
      }
    }
    const port = Number(svc.spec?.ports?.[0]?.port ?? 80);
    const spec = {
      id: id++,
      'frontend-address': { ip: clusterIP, port, protocol: 'TCP', scope: 'external' },
      'backend-addresses': backends.map((b) => ({ ip: b.ip, port: b.port, state: 'active', preferred: b.preferred, weight: 1, nodeName: b.nodeName })),
      flags: { type: 'ClusterIP', name: svc.metadata.name, namespace: svc.metadata.namespace, trafficPolicy: 'Cluster', natPolicy: 'None' },
    };
    out.push({ spec, status: { realized: spec } });
  }
  return out;
}

export function numGlobalServices(c: LabCluster): number {
  return listObjs(c, 'Service').filter(isGlobal).length;
}

