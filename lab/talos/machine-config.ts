import { createHash, randomBytes } from 'node:crypto';
import { parseAllDocuments, stringify } from 'yaml';
import { ConfigDecodeError, decodeConfigDocuments, orderLikeConfig } from './config-schema.ts';
import { z } from 'zod';
import { strategicMerge } from './patch.ts';

/**
 * Talos v1.9.5 secrets bundles, machine configs and talosconfigs, shaped like the real generator's output (held to
 * the real talosctl by test/conformance/talos.test.ts):
 * secrets.yaml as pkg/machinery/config/generate/secrets/testdata/secrets.yaml, machine configs as
 * pkg/machinery/config/types/v1alpha1/testdata/stability/v1.9/base-{controlplane,worker}.yaml (what
 * `gen config --with-docs=false --with-examples=false` prints; the lab never writes the doc comments),
 * talosconfig as pkg/machinery/client/config/config.go (yaml.v3, 4-space indent, no endpoints).
 * Key material is random bytes in PEM armour: the lab never parses it as X.509.
 */
export const TALOS_VERSION = 'v1.9.5'; // pkg/machinery/gendata/data/tag
export const DEFAULT_KUBERNETES_VERSION = '1.32.3'; // pkg/machinery/constants DefaultKubernetesVersion

/** yaml.v3 as Talos encodes: 4-space indent, and strings YAML 1.1 would read as booleans (y, on, no) quoted */
const yamlOut = (v: unknown) => stringify(v, { indent: 4, indentSeq: true, lineWidth: 0, version: '1.1' });
const b64 = (s: string) => Buffer.from(s).toString('base64');
const pem = (kind: string, bytes: number) =>
  b64(`-----BEGIN ${kind}-----\n${randomBytes(bytes).toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END ${kind}-----\n`);
const pair = (keyKind: string) => ({ crt: pem('CERTIFICATE', 300), key: pem(keyKind, 90) });
const token = (a: number, b: number) => {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => Array.from(randomBytes(n), (x) => abc[x % abc.length]).join('');
  return `${pick(a)}.${pick(b)}`;
};

const certSchema = z.object({ crt: z.string(), key: z.string() });
export const secretsBundleSchema = z.object({
  cluster: z.object({ id: z.string(), secret: z.string() }),
  secrets: z.object({ bootstraptoken: z.string(), secretboxencryptionsecret: z.string().optional(), aescbcencryptionsecret: z.string().optional() }),
  trustdinfo: z.object({ token: z.string() }),
  certs: z.object({
    etcd: certSchema,
    k8s: certSchema,
    k8saggregator: certSchema,
    k8sserviceaccount: z.object({ key: z.string() }),
    os: certSchema,
  }),
});
export type SecretsBundle = z.infer<typeof secretsBundleSchema>;

export function newSecretsBundle(): SecretsBundle {
  return {
    cluster: { id: randomBytes(32).toString('base64url') + '=', secret: randomBytes(32).toString('base64') },
    secrets: { bootstraptoken: token(6, 16), secretboxencryptionsecret: randomBytes(32).toString('base64') },
    trustdinfo: { token: token(6, 16) },
    certs: {
      etcd: pair('EC PRIVATE KEY'),
      k8s: pair('EC PRIVATE KEY'),
      k8saggregator: pair('EC PRIVATE KEY'),
      k8sserviceaccount: { key: pem('EC PRIVATE KEY', 90) },
      os: pair('ED25519 PRIVATE KEY'),
    },
  };
}

export const renderSecretsBundle = (b: SecretsBundle) => yamlOut(b);

/**
 * Loads a secrets file the way secrets.LoadBundle does; errors mimic yaml.v3's, which quote at most 7
 * characters of an offending scalar (gopkg.in/yaml.v3 decode.go terror).
 */
export function parseSecretsBundle(text: string): SecretsBundle {
  const docs = parseAllDocuments(text);
  const v = docs[0]?.toJS() as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const s = String(v ?? '');
    const shown = s.length > 10 ? `${s.slice(0, 7)}...` : s;
    throw new Error(`yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str \`${shown}\` into secrets.Bundle`);
  }
  const parsed = secretsBundleSchema.safeParse(v);
  if (!parsed.success) throw new Error(`secrets bundle is incomplete: ${parsed.error.issues[0]?.path.join('.')} is missing`);
  return parsed.data;
}

export interface GenOptions {
  clusterName: string;
  endpoint: string;
  kubernetesVersion: string;
  /** contract from --talos-version: [major, minor] */
  contract: [number, number];
  installDisk: string;
  installImage: string;
  dnsDomain: string;
  additionalSans: string[];
  withClusterDiscovery: boolean;
}

/**
 * `--talos-version` → version contract (pkg/machinery/config/contract.go ParseContractFromVersion): "v1.8",
 * "1.9.6"; the error quotes the version with its "v" put in front.
 */
export function parseContract(v: string | undefined): [number, number] {
  if (!v) return [1, 9];
  const version = `v${v.replace(/^v/, '')}`;
  const m = /^v(\d+)\.(\d+)($|\.)/.exec(version);
  if (!m) throw new Error(`invalid talos-version: error parsing version "${version}"`);
  return [Number(m[1]), Number(m[2])];
}
const atLeast = (c: [number, number], major: number, minor: number) => c[0] > major || (c[0] === major && c[1] >= minor);

type Tree = Record<string, unknown>;

function baseConfig(role: 'controlplane' | 'worker', s: SecretsBundle, o: GenOptions): Tree {
  const cp = role === 'controlplane';
  const k8s = o.kubernetesVersion.replace(/^v/, '');
  const host = new URL(o.endpoint).hostname;
  const features: Tree = { rbac: true, stableHostname: true, apidCheckExtKeyUsage: true, diskQuotaSupport: true };
  if (atLeast(o.contract, 1, 6)) features.kubePrism = { enabled: true, port: 7445 };
  if (atLeast(o.contract, 1, 7)) features.hostDNS = { enabled: true, forwardKubeDNSToHost: atLeast(o.contract, 1, 8) };
  const machine: Tree = {
    type: role,
    token: s.trustdinfo.token,
    // a worker carries the CA certificate and an empty key (v1alpha1 generate/init.go vs worker.go)
    ca: cp ? { crt: s.certs.os.crt, key: s.certs.os.key } : { crt: s.certs.os.crt, key: '' },
    certSANs: [],
    kubelet: { image: `ghcr.io/siderolabs/kubelet:v${k8s}`, defaultRuntimeSeccompProfileEnabled: true, disableManifestsDirectory: true },
    network: {},
    install: { disk: o.installDisk, image: o.installImage, wipe: false },
    features,
  };
  // init.go: AddExcludeFromExternalLoadBalancer() is contract > 1.7 (pkg/machinery/config/contract.go)
  if (cp && atLeast(o.contract, 1, 8)) machine.nodeLabels = { 'node.kubernetes.io/exclude-from-external-load-balancers': '' };
  const cluster: Tree = {
    id: s.cluster.id,
    secret: s.cluster.secret,
    controlPlane: { endpoint: o.endpoint },
    clusterName: o.clusterName,
    network: { dnsDomain: o.dnsDomain, podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] },
    token: s.secrets.bootstraptoken,
  };
  if (cp) {
    Object.assign(cluster, {
      secretboxEncryptionSecret: s.secrets.secretboxencryptionsecret,
      ca: s.certs.k8s,
      aggregatorCA: s.certs.k8saggregator,
      serviceAccount: s.certs.k8sserviceaccount,
      apiServer: {
        image: `registry.k8s.io/kube-apiserver:v${k8s}`,
        certSANs: [host, ...o.additionalSans],
        disablePodSecurityPolicy: true,
        admissionControl: [
          {
            name: 'PodSecurity',
            configuration: {
              apiVersion: 'pod-security.admission.config.k8s.io/v1alpha1',
              defaults: { audit: 'restricted', 'audit-version': 'latest', enforce: 'baseline', 'enforce-version': 'latest', warn: 'restricted', 'warn-version': 'latest' },
              exemptions: { namespaces: ['kube-system'], runtimeClasses: [], usernames: [] },
              kind: 'PodSecurityConfiguration',
            },
          },
        ],
        auditPolicy: { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] },
      },
      controllerManager: { image: `registry.k8s.io/kube-controller-manager:v${k8s}` },
      proxy: { image: `registry.k8s.io/kube-proxy:v${k8s}` },
      scheduler: { image: `registry.k8s.io/kube-scheduler:v${k8s}` },
    });
  } else {
    cluster.ca = { crt: s.certs.k8s.crt, key: '' };
  }
  cluster.discovery = { enabled: o.withClusterDiscovery, registries: { kubernetes: { disabled: true }, service: {} } };
  if (cp) cluster.etcd = { ca: s.certs.etcd };
  return { version: 'v1alpha1', debug: false, persist: true, machine, cluster };
}

/** One machine config (v1alpha1 plus any extra documents from patches) with the patches applied in order. */
export function machineConfig(role: 'controlplane' | 'worker', s: SecretsBundle, o: GenOptions, patches: Tree[]): string {
  const main = baseConfig(role, s, o);
  const extra: Tree[] = [];
  for (const p of patches) {
    if (typeof p.kind === 'string') {
      const id = (d: Tree) => `${d.apiVersion}/${d.kind}/${d.name ?? ''}`;
      const i = extra.findIndex((d) => id(d) === id(p));
      if (p.$patch === 'delete') {
        if (i >= 0) extra.splice(i, 1);
      } else if (i >= 0) strategicMerge(extra[i]!, p);
      else extra.push(structuredClone(p));
    } else strategicMerge(main, p);
  }
  return renderConfigDocuments([orderLikeConfig(main), ...extra]);
}

/** A multi-document machine config as the encoder writes it (yaml.v3, 4-space indent, `---` between documents). */
export const renderConfigDocuments = (docs: Tree[]) => docs.map(yamlOut).join('---\n');

/** talosconfig for the cluster: one context named after it, no endpoints (generate/talosconfig.go). */
export function talosconfig(clusterName: string, s: SecretsBundle): string {
  return yamlOut({
    context: clusterName,
    contexts: { [clusterName]: { endpoints: [], ca: s.certs.os.crt, crt: pem('CERTIFICATE', 300), key: pem('ED25519 PRIVATE KEY', 60) } },
  });
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * A machine config as configloader.NewFromFile reads it: strictly decoded (lab/talos/config-schema.ts), the
 * v1alpha1 document returned. Throws the loader's error text.
 */
export function parseMachineConfig(text: string): Tree {
  const docs = decodeConfigDocuments(text, { allowPatchDelete: false });
  const v1 = docs.find((d) => d.kind === 'v1alpha1');
  if (!v1) throw new ConfigDecodeError('failed to parse config: no v1alpha1 document');
  return v1.value;
}

/** Kubernetes node labels a machine config implies (machine.nodeLabels plus the role label kubelet gets). */
export function impliedNodeLabels(cfg: Tree): Record<string, string> {
  const machine = (cfg.machine ?? {}) as Tree;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries((machine.nodeLabels ?? {}) as Tree)) labels[k] = v === null || v === undefined ? '' : String(v);
  if (machine.type === 'controlplane' || machine.type === 'init') labels['node-role.kubernetes.io/control-plane'] = '';
  return labels;
}
