// What a cluster's ClusterMesh TLS is, read from the cluster: the CA Secret (cilium-ca), the clustermesh-apiserver
// certificates (chart templates/clustermesh-apiserver/tls-helm/), and the CAs its agents and apiserver trust (the
// tls.caBundle ConfigMap or Secret when enabled, else the certificates' own ca.crt). Only facts leave this module:
// subjects, expiry, SHA-256 fingerprints. Private keys are dropped at the boundary and never logged.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import { helmArgv } from '../helm/argv.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { callTool, classify } from './tool-call.ts';
import { fatal } from '../../contracts/failures.ts';

export const MESH_CERT_SECRETS = {
  server: 'clustermesh-apiserver-server-cert',
  admin: 'clustermesh-apiserver-admin-cert',
  remote: 'clustermesh-apiserver-remote-cert',
  local: 'clustermesh-apiserver-local-cert',
  client: 'clustermesh-apiserver-client-cert',
} as const;
export type MeshCertRole = keyof typeof MESH_CERT_SECRETS;
export const CA_SECRET = 'cilium-ca';

export interface CertFacts {
  subject: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, colon-separated hex (as openssl prints it) */
  fingerprint: string;
}

export interface LeafFacts extends CertFacts {
  role: MeshCertRole;
  secret: string;
  /** fingerprint of the Secret's ca.crt: the CA that issued it */
  issuerFingerprint: string;
}

export interface MeshTlsFacts {
  /** the cilium-ca Secret's certificate (the CA new certificates are issued by) */
  ca?: CertFacts;
  leaves: LeafFacts[];
  /** fingerprints of the CAs this cluster trusts for ClusterMesh (both directions) */
  trust: string[];
  /** the trust comes from tls.caBundle (a CA rotation in progress, or finished but not yet simplified) */
  bundle: boolean;
}

// Only the public halves are kept: zod drops tls.key and ca.key when it parses.
const secretSchema = z.object({ data: z.object({ 'ca.crt': z.string().optional(), 'tls.crt': z.string().optional() }).optional(), stringData: z.record(z.string(), z.string()).optional() });
const configMapSchema = z.object({ data: z.record(z.string(), z.string()).optional() });
const valuesSchema = z.object({
  tls: z.object({ caBundle: z.object({ enabled: z.boolean().optional(), name: z.string().optional(), key: z.string().optional(), useSecret: z.boolean().optional() }).optional() }).optional(),
});

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
const fromB64 = (v: string | undefined) => (v ? Buffer.from(v, 'base64').toString('utf8') : '');

export function certFacts(pem: string): CertFacts {
  const x = new X509Certificate(pem);
  return { subject: x.subject.replace(/\n/g, ', '), notBefore: new Date(x.validFrom).toISOString(), notAfter: new Date(x.validTo).toISOString(), fingerprint: x.fingerprint256 };
}

/**
 * `kubectl get KIND NAME -n kube-system -o json`, parsed with a schema that keeps only public fields. NotFound is
 * undefined. Errors never quote stdout (it holds key material).
 */
async function getObject<S extends z.ZodTypeAny>(
  deps: ActivityDeps,
  access: KubeAccess,
  kind: string,
  name: string,
  schema: S,
  opts: { keepCertificates?: boolean } = {},
): Promise<z.infer<S> | undefined> {
  const r = await callTool(deps, 'kubectl', ['get', kind, name, '-n', 'kube-system', '-o', 'json'], { env: access.env, retries: 2, ...opts });
  if (r.exitCode !== 0) {
    if (/\(NotFound\)/.test(r.stderr)) return undefined;
    throw classify(r, `kubectl get ${kind} ${name}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    throw fatal(`kubectl get ${kind} ${name} -o json printed something that is not JSON`, 'check the kubectl version against the pinned one');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw fatal(`kubectl get ${kind} ${name}: unexpected shape (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

function parseCert(pem: string, where: string): CertFacts {
  try {
    return certFacts(pem);
  } catch (err) {
    throw fatal(`${where} does not hold a readable X.509 certificate: ${(err as Error).message}`);
  }
}

/** The cluster's ClusterMesh TLS facts (read-only). */
export async function readMeshTls(deps: ActivityDeps, access: KubeAccess): Promise<MeshTlsFacts> {
  const [caSecret, values, ...leafSecrets] = await Promise.all([
    getObject(deps, access, 'secret', CA_SECRET, secretSchema),
    readBundleValues(deps, access),
    ...Object.values(MESH_CERT_SECRETS).map((name) => getObject(deps, access, 'secret', name, secretSchema)),
  ]);
  const caPem = fromB64(caSecret?.data?.['ca.crt']);
  const ca = caPem ? parseCert(caPem, `Secret kube-system/${CA_SECRET} ca.crt`) : undefined;
  const leaves: LeafFacts[] = [];
  (Object.entries(MESH_CERT_SECRETS) as Array<[MeshCertRole, string]>).forEach(([role, secret], i) => {
    const s = leafSecrets[i];
    const crt = fromB64(s?.data?.['tls.crt']);
    if (!crt) return;
    const issuer = fromB64(s?.data?.['ca.crt']);
    leaves.push({
      role,
      secret,
      ...parseCert(crt, `Secret kube-system/${secret} tls.crt`),
      issuerFingerprint: issuer ? parseCert(issuer, `Secret kube-system/${secret} ca.crt`).fingerprint : '',
    });
  });
  let trust = [...new Set(leaves.filter((l) => l.role === 'server' || l.role === 'remote').map((l) => l.issuerFingerprint).filter(Boolean))];
  const b = values.tls?.caBundle;
  if (b?.enabled) {
    const name = b.name ?? 'cilium-root-ca.crt';
    const key = b.key ?? 'ca.crt';
    let text = '';
    if (b.useSecret) {
      const s = await getObject(deps, access, 'secret', name, z.object({ data: z.record(z.string(), z.string()).optional(), stringData: z.record(z.string(), z.string()).optional() }), { keepCertificates: true });
      text = s?.stringData?.[key] ?? fromB64(s?.data?.[key]);
    } else {
      text = (await getObject(deps, access, 'configmap', name, configMapSchema, { keepCertificates: true }))?.data?.[key] ?? '';
    }
    trust = pemBlocks(text).map((p) => parseCert(p, `the CA bundle ${name}`).fingerprint);
  }
  return { ...(ca ? { ca } : {}), leaves, trust, bundle: Boolean(b?.enabled) };
}

/** tls.caBundle of the cilium release's user values (the rest, which holds the CA key, is dropped by the schema). */
async function readBundleValues(deps: ActivityDeps, access: KubeAccess): Promise<z.infer<typeof valuesSchema>> {
  const r = await callTool(deps, 'helm', helmArgv.getValues(), { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/release: not found/.test(r.stderr)) return {};
    throw classify(r, 'helm get values cilium');
  }
  try {
    const parsed = valuesSchema.safeParse(JSON.parse(r.stdout) ?? {});
    return parsed.success ? parsed.data : {};
  } catch {
    throw fatal('helm get values cilium -o json printed something that is not JSON', 'check the helm version against the pinned one');
  }
}

export const daysLeft = (notAfter: string, now: number) => Math.floor((Date.parse(notAfter) - now) / 86_400_000);
