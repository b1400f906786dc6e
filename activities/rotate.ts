// Certificate and CA rotation of a live mesh. The Cilium chart re-issues the clustermesh-apiserver certificates
// on every `helm upgrade` (tls.auto.method helm: genSignedCert), from the CA in tls.ca; tls.caBundle makes the
// agents and the apiserver trust a bundle instead of that one CA, which is what lets a CA change without a
// disconnect. Every activity reads the cluster first and acts only when it differs; CA material travels from the
// secret store to helm through stdin and never into history.
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { blocked, fatal } from '../contracts/failures.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { runTool } from './exec/run-tool.ts';
import { clustermeshStatus, meshStatusOnce } from './cilium.ts';
import { createMeshCa } from './helm.ts';
import { helmArgv } from './helm/argv.ts';
import { withKubeconfig } from './kube/kubeconfig.ts';
import { certFacts, daysLeft, readMeshTls, type CertFacts, type MeshTlsFacts } from './kube/mesh-tls.ts';
import { callTool, classify, parseJson } from './kube/tool-call.ts';
import { untrustedPairs } from './verify/certs.ts';

const caDocSchema = z.object({ tls: z.object({ ca: z.object({ cert: z.string().min(1), key: z.string().min(1) }) }) });

interface CaDoc {
  /** PEM */
  cert: string;
  /** the values document as stored (tls.ca.cert/key, base64 PEM) */
  doc: z.infer<typeof caDocSchema>;
  facts: CertFacts;
}

async function readCa(deps: ActivityDeps, ref: string): Promise<CaDoc> {
  if (!(await deps.secrets.has(ref))) throw fatal(`the secret store holds no CA at ${ref}`, 'a mesh gets its CA from its first rollout (meshpilot rollout FILE)');
  const parsed = caDocSchema.safeParse(parse((await deps.secrets.get(ref)).toString('utf8')));
  if (!parsed.success) throw fatal(`${ref} is not a ClusterMesh CA values document (tls.ca.cert and tls.ca.key)`);
  const cert = Buffer.from(parsed.data.tls.ca.cert, 'base64').toString('utf8');
  let facts: CertFacts;
  try {
    facts = certFacts(cert);
  } catch (err) {
    throw fatal(`${ref}: tls.ca.cert is not a readable certificate: ${(err as Error).message}`);
  }
  return { cert, doc: parsed.data, facts };
}

export interface MeshCaFacts {
  current: CertFacts;
  /** the CA a rotation in progress moves to (created by ensureNextMeshCa, removed when promoted) */
  next?: CertFacts;
}

/** The mesh's CA and, during a rotation, the next one: public facts only. */
export async function meshCaFacts(deps: ActivityDeps, i: { mesh: string }): Promise<MeshCaFacts> {
  const current = await readCa(deps, secretRefs.meshCa(i.mesh));
  const nextRef = secretRefs.meshCaNext(i.mesh);
  const next = (await deps.secrets.has(nextRef)) ? await readCa(deps, nextRef) : undefined;
  return { current: current.facts, ...(next ? { next: next.facts } : {}) };
}

/** The CA a rotation moves to: created once, kept across attempts and across a rotation started again. */
export async function ensureNextMeshCa(deps: ActivityDeps, i: { mesh: string }): Promise<CertFacts> {
  await readCa(deps, secretRefs.meshCa(i.mesh));
  const ref = await createMeshCa(deps, i.mesh, secretRefs.meshCaNext(i.mesh));
  return (await readCa(deps, ref)).facts;
}

/**
 * After every cluster issues from the next CA and trusts only it: the next CA becomes the mesh's CA (what later
 * rollouts install), the replaced one is kept as `clustermesh-ca-previous`. Idempotent: a promotion interrupted
 * between its writes finishes on the next attempt.
 */
export async function promoteMeshCa(deps: ActivityDeps, i: { mesh: string; fingerprint: string }): Promise<{ action: 'promoted' | 'unchanged' }> {
  const currentRef = secretRefs.meshCa(i.mesh);
  const nextRef = secretRefs.meshCaNext(i.mesh);
  const current = await readCa(deps, currentRef);
  if (current.facts.fingerprint === i.fingerprint) {
    if (await deps.secrets.has(nextRef)) await deps.secrets.delete(nextRef);
    return { action: 'unchanged' };
  }
  const next = await readCa(deps, nextRef);
  if (next.facts.fingerprint !== i.fingerprint) throw fatal(`the next CA in ${nextRef} is not the one this rotation rolled out (${i.fingerprint.slice(0, 23)}…)`, 'start the CA rotation again: it re-reads the clusters');
  await deps.secrets.put(secretRefs.meshCaPrevious(i.mesh), stringify(current.doc));
  await deps.secrets.put(currentRef, stringify(next.doc));
  await deps.secrets.delete(nextRef);
  return { action: 'promoted' };
}

/** The cluster's ClusterMesh TLS, read live (public facts). */
export async function readClusterTls(deps: ActivityDeps, i: { mesh: string; cluster: string }): Promise<MeshTlsFacts> {
  return withKubeconfig(deps, secretRefs.kubeconfig(i.mesh, i.cluster), (access) => readMeshTls(deps, access));
}

export interface ApplyTlsInput {
  mesh: string;
  cluster: string;
  /** which CA issues the cluster's certificates: the mesh's or the rotation's next one */
  issuer: 'current' | 'next';
  /** the CAs the cluster trusts: a bundle of these, or (empty) just its issuer */
  trust: Array<'current' | 'next'>;
  /** re-issue unless the server certificate was issued at or after this time (ISO) */
  renewedSince?: string;
}

const historySchema = z.array(z.object({ revision: z.number(), status: z.string(), chart: z.string() }));

/**
 * One cluster's TLS as asked: issuer CA, trust bundle, and certificates issued since `renewedSince`; a `helm
 * upgrade --reuse-values` at the deployed chart version when the cluster differs, else nothing. The values file
 * (CA key, bundle) reaches helm on stdin.
 */
export async function applyClusterTls(deps: ActivityDeps, i: ApplyTlsInput): Promise<{ action: 'upgraded' | 'unchanged'; serverNotAfter: string; summary: string }> {
  const refOf = (w: 'current' | 'next') => (w === 'current' ? secretRefs.meshCa(i.mesh) : secretRefs.meshCaNext(i.mesh));
  const issuer = await readCa(deps, refOf(i.issuer));
  const trusted = await Promise.all(i.trust.map((w) => readCa(deps, refOf(w))));
  const wantTrust = (trusted.length ? trusted.map((t) => t.facts.fingerprint) : [issuer.facts.fingerprint]).sort();
  return withKubeconfig(deps, secretRefs.kubeconfig(i.mesh, i.cluster), async (access) => {
    const before = await readMeshTls(deps, access);
    const server = before.leaves.find((l) => l.role === 'server');
    const fresh = !i.renewedSince || (server !== undefined && server.notBefore >= i.renewedSince.slice(0, 19));
    const same =
      server?.issuerFingerprint === issuer.facts.fingerprint &&
      before.bundle === trusted.length > 0 &&
      JSON.stringify([...before.trust].sort()) === JSON.stringify(wantTrust) &&
      before.leaves.every((l) => l.issuerFingerprint === issuer.facts.fingerprint);
    if (server && same && fresh) {
      return { action: 'unchanged', serverNotAfter: server.notAfter, summary: `${i.cluster}: already issued by ${issuer.facts.subject}, trusting ${wantTrust.length} CA(s)` };
    }
    const h = await callTool(deps, 'helm', helmArgv.history(), { env: access.env, retries: 2 });
    if (h.exitCode !== 0) throw classify(h, 'helm history cilium');
    const revisions = historySchema.parse(parseJson(h));
    const latest = revisions.at(-1);
    if (latest && latest.status.startsWith('pending-')) {
      throw blocked({
        reason: `${i.cluster}: the cilium release is ${latest.status} (revision ${latest.revision}): another helm operation is in progress or was interrupted`,
        hint: '`helm history cilium -n kube-system` shows it; an interrupted one is recovered by re-running the rollout (it rolls the pending revision back). Resume re-checks; abort leaves the mesh as it is now',
        evidence: { revision: latest.revision, status: latest.status },
      });
    }
    const last = revisions.filter((r) => r.status === 'deployed').at(-1);
    const chartVersion = last && /-(\d+\.\d+\.\d+\S*)$/.exec(last.chart)?.[1];
    if (!chartVersion) throw blocked({ reason: `${i.cluster}: the cilium release has no deployed revision to re-issue certificates from`, hint: 'check `helm history cilium -n kube-system`; a release left pending is recovered by re-running the rollout. Resume re-checks' });
    const values = {
      tls: {
        ca: issuer.doc.tls.ca,
        caBundle: trusted.length ? { enabled: true, content: trusted.map((t) => t.cert.trim()).join('\n') + '\n' } : { enabled: false },
      },
    };
    const secrets = [issuer.doc.tls.ca.key, issuer.doc.tls.ca.cert];
    const up = await runTool(deps.tools, 'helm', helmArgv.reuseValues(chartVersion, '-'), { env: access.env, secrets, input: stringify(values), timeoutMs: 330_000 });
    if (up.exitCode !== 0) throw classify(up, `helm upgrade cilium --reuse-values (TLS of ${i.cluster})`);
    const after = await readMeshTls(deps, access);
    const renewed = after.leaves.find((l) => l.role === 'server');
    if (!renewed || renewed.issuerFingerprint !== issuer.facts.fingerprint) {
      throw blocked({
        reason: `${i.cluster}: after the helm upgrade the clustermesh-apiserver certificate is ${renewed ? `still issued by ${renewed.issuerFingerprint.slice(0, 23)}…` : 'missing'}`,
        hint: 'check clustermesh.apiserver.tls.auto in `helm get values cilium -n kube-system` (meshpilot renews certificates the chart issues: method helm). Resume re-checks',
      });
    }
    return { action: 'upgraded', serverNotAfter: renewed.notAfter, summary: `${i.cluster}: re-issued by ${issuer.facts.subject} until ${renewed.notAfter.slice(0, 10)}, trusting ${wantTrust.length} CA(s)` };
  });
}

/**
 * The mesh-wide invariant every phase keeps: each cluster trusts the CA each other cluster's certificates come
 * from. Blocked (a pause) when it does not hold, naming the pairs.
 */
export async function meshTrustHolds(deps: ActivityDeps, i: { mesh: string; clusters: string[]; warnDays?: number }): Promise<{ summary: string; earliestExpiry: string }> {
  const facts = await Promise.all(i.clusters.map(async (cluster) => ({ cluster, tls: await readClusterTls(deps, { mesh: i.mesh, cluster }) })));
  const bad = untrustedPairs(facts);
  if (bad.length) {
    throw blocked({
      reason: `${bad.map((p) => `${p.to} does not trust ${p.from}'s certificates`).join('; ')}`,
      hint: 'a cluster changed by hand during the rotation, or a step was skipped: resume re-checks; abort keeps what is trusted now',
      evidence: Object.fromEntries(bad.slice(0, 8).map((p, n) => [`pair${n}`, `${p.from}→${p.to}`])),
    });
  }
  const leaves = facts.flatMap((f) => f.tls.leaves);
  const earliest = leaves.map((l) => l.notAfter).sort()[0] ?? '';
  const now = Date.now();
  return { summary: `every cluster trusts every other's certificates; the earliest expires ${earliest.slice(0, 10)} (in ${earliest ? daysLeft(earliest, now) : '?'} days)`, earliestExpiry: earliest };
}


/**
 * `cilium clustermesh status` on one cluster until every peer is connected on every agent (the poll budget), else
 * a pause naming what is missing: the check after each cluster's change.
 */
export async function meshPeersConnected(deps: ActivityDeps, i: { mesh: string; cluster: string; peers: string[]; after: string }): Promise<{ summary: string }> {
  const s = await clustermeshStatus(deps, { kubeconfigRef: secretRefs.kubeconfig(i.mesh, i.cluster), expectPeers: i.peers });
  if (s.missing.length) {
    throw blocked({
      reason: `${i.cluster}: ${s.summary}, after ${i.after}`,
      hint: `\`cilium clustermesh status --context ${i.cluster}\` shows each peer's TLS error; resume re-checks; abort leaves the mesh as it is now (every phase keeps what each cluster trusts)`,
    });
  }
  return { summary: `${i.cluster}: ${s.summary}` };
}

/** The peers this cluster's agents are all connected to now (one `cilium clustermesh status`, no waiting). */
export async function peerLinksNow(deps: ActivityDeps, i: { mesh: string; cluster: string }): Promise<{ connected: string[] }> {
  return withKubeconfig(deps, secretRefs.kubeconfig(i.mesh, i.cluster), async (access) => {
    const { r, status } = await meshStatusOnce(deps, access);
    if (!status) {
      if (/is not ready|not found|unable to derive service IPs/.test(r.stderr)) return { connected: [] };
      throw classify(r, 'cilium clustermesh status');
    }
    const total = status.connectivity?.total ?? 0;
    const connected = Object.entries(status.connectivity?.clusters ?? {})
      .filter(([, c]) => total > 0 && (c.connected ?? 0) === total)
      .map(([name]) => name)
      .sort();
    return { connected };
  });
}
