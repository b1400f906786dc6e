// ClusterMesh certificates: each cluster's clustermesh-apiserver certificates and its CA, against a warning window
// (the chart issues them for 1095 days and renews them only on a `helm upgrade`), and the mesh-wide invariant a CA
// mismatch breaks (cilium #32076): every cluster trusts the CA every other cluster's certificates come from.
import type { ActivityDeps } from '../deps.ts';
import { daysLeft, readMeshTls, type MeshTlsFacts } from '../kube/mesh-tls.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { onCluster, verdict, type ClusterCheckInput, type Evidence } from './verdicts.ts';

export const DEFAULT_CERT_WARN_DAYS = 30;

const day = (iso: string) => iso.slice(0, 10);
const blueprint = (mesh: string, source?: string) => source ?? `<blueprint of ${mesh}>`;

export async function checkClustermeshCerts(deps: ActivityDeps, i: ClusterCheckInput & { warnDays?: number }): Promise<Verdict> {
  const check = 'clustermesh-certs';
  const warnDays = i.warnDays ?? DEFAULT_CERT_WARN_DAYS;
  return onCluster(deps, i, async (access) => {
    const tls = await readMeshTls(deps, access);
    const now = Date.now();
    const evidence: Evidence = { warnDays };
    if (tls.leaves.length === 0) {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: no ClusterMesh certificates (no clustermesh-apiserver-*-cert Secret in kube-system)`,
        'the clustermesh-apiserver is not enabled or its certificates were never issued: re-run the rollout', evidence,
        { kind: 'rollout', command: `meshpilot rollout ${blueprint(i.mesh, i.source)}` });
    }
    for (const l of tls.leaves) evidence[`${l.role}.notAfter`] = l.notAfter;
    if (tls.ca) evidence['ca.notAfter'] = tls.ca.notAfter;
    const soon = tls.leaves.filter((l) => daysLeft(l.notAfter, now) < warnDays);
    const caSoon = tls.ca && daysLeft(tls.ca.notAfter, now) < warnDays ? tls.ca : undefined;
    const left = (notAfter: string) => {
      const d = daysLeft(notAfter, now);
      return d < 0 ? `expired ${day(notAfter)}` : `expires ${day(notAfter)} (in ${d} days)`;
    };
    if (caSoon) {
      return verdict(check, i.cluster, 'fail',
        `${i.cluster}: the ClusterMesh CA ${left(caSoon.notAfter)}, within the ${warnDays}-day warning window${soon.length ? `; ${soon.length} certificate(s) too` : ''}`,
        `rotate the shared CA without a disconnect: \`meshpilot rotate ca ${blueprint(i.mesh, i.source)}\` (trusts old and new on every cluster, re-issues, then drops the old CA)`,
        evidence, { kind: 'manual', command: `meshpilot rotate ca ${blueprint(i.mesh, i.source)}` });
    }
    if (soon.length) {
      return verdict(check, i.cluster, 'fail',
        `${i.cluster}: ${soon.map((l) => `${l.role} certificate ${left(l.notAfter)}`).join('; ')}: within the ${warnDays}-day warning window`,
        `renew them cluster by cluster: \`meshpilot rotate certs ${blueprint(i.mesh, i.source)}\` (a helm upgrade re-issues them from the same CA; the mesh is verified after each cluster)`,
        evidence, { kind: 'manual', command: `meshpilot rotate certs ${blueprint(i.mesh, i.source)}` });
    }
    const first = [...tls.leaves].sort((a, b) => a.notAfter.localeCompare(b.notAfter))[0]!;
    return verdict(check, i.cluster, 'ok',
      `${i.cluster}: ${tls.leaves.length} ClusterMesh certificates valid; the first (${first.role}) ${left(first.notAfter)}${tls.ca ? `, the CA ${left(tls.ca.notAfter)}` : ''}`, '', evidence);
  });
}

/** Pairs (a, b) where a's certificates come from a CA b does not trust: b's agents or apiserver refuse a's. */
export function untrustedPairs(facts: Array<{ cluster: string; tls: MeshTlsFacts }>): Array<{ from: string; to: string; issuer: string }> {
  const out: Array<{ from: string; to: string; issuer: string }> = [];
  for (const a of facts) {
    const issuers = [...new Set(a.tls.leaves.filter((l) => l.role === 'server' || l.role === 'remote').map((l) => l.issuerFingerprint))];
    for (const b of facts) {
      if (a === b) continue;
      for (const issuer of issuers) if (!b.tls.trust.includes(issuer)) out.push({ from: a.cluster, to: b.cluster, issuer });
    }
  }
  return out;
}

export async function checkClustermeshTrust(deps: ActivityDeps, i: { mesh: string; clusters: string[]; source?: string }): Promise<Verdict> {
  const check = 'clustermesh-trust';
  const facts = await Promise.all(i.clusters.map(async (cluster) => ({ cluster, tls: await onCluster(deps, { mesh: i.mesh, cluster }, (access) => readMeshTls(deps, access)) })));
  const evidence: Evidence = {};
  for (const f of facts) {
    evidence[`${f.cluster}.issuer`] = f.tls.leaves.find((l) => l.role === 'server')?.issuerFingerprint.slice(0, 23) ?? 'none';
    evidence[`${f.cluster}.trusts`] = f.tls.trust.length;
    if (f.tls.bundle) evidence[`${f.cluster}.bundle`] = true;
  }
  const bad = untrustedPairs(facts);
  if (bad.length) {
    return verdict(check, undefined, 'fail',
      `${bad.map((p) => `${p.to} does not trust the CA ${p.from}'s ClusterMesh certificates come from`).join('; ')}`,
      `the clusters' CAs differ (cilium #32076): finish or repeat the CA rotation with \`meshpilot rotate ca ${blueprint(i.mesh, i.source)}\`; a cluster installed outside meshpilot gets the mesh's CA from \`meshpilot rollout\``,
      evidence, { kind: 'manual', command: `meshpilot rotate ca ${blueprint(i.mesh, i.source)}` });
  }
  const bundles = facts.filter((f) => f.tls.bundle).map((f) => f.cluster);
  return verdict(check, undefined, 'ok',
    `every cluster trusts the CA of every other cluster's ClusterMesh certificates${bundles.length ? ` (a CA trust bundle on ${bundles.join(', ')})` : ''}`, '', evidence);
}
