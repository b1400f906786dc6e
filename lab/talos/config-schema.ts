import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, stringify, type Document, type Node as YamlNode } from 'yaml';

/**
 * How Talos v1.9 decodes a machine-config document (siderolabs/talos@v1.9.5
 * pkg/machinery/config/configloader/internal/decoder/{decoder,unknown_keys}.go): yaml.v3 decodes the document into
 * the typed v1alpha1.Config struct (pkg/machinery/config/types/v1alpha1/v1alpha1_types.go), collecting every type
 * error as "line N: cannot unmarshal !!tag `value` into <Go type>"; only a document that decodes is then checked for
 * keys the struct does not have, reported as the YAML of the unknown keys.
 *
 * The lab models the struct tree below by hand: field names and Go types as the v1.9 configuration reference
 * documents them. Sections it does not model (`opaque`) accept anything, so a typo inside machine.network,
 * machine.disks, machine.files, machine.registries, … passes the lab but not Talos; every section meshpilot renders
 * is modelled, and test/conformance/talos.test.ts holds this model to the real talosctl.
 */
type FieldType = { kind: 'string' | 'bool' | 'int' | 'opaque' } | { kind: 'list'; of: FieldType; go: string } | { kind: 'map'; of: FieldType; go: string } | StructType;
interface StructType {
  kind: 'struct';
  go: string;
  fields: Record<string, FieldType>;
}

const str: FieldType = { kind: 'string' };
const bool: FieldType = { kind: 'bool' };
const int: FieldType = { kind: 'int' };
const opaque: FieldType = { kind: 'opaque' };
const strings: FieldType = { kind: 'list', of: str, go: '[]string' };
const stringMap: FieldType = { kind: 'map', of: str, go: 'map[string]string' };
const struct = (go: string, fields: Record<string, FieldType>): StructType => ({ kind: 'struct', go, fields });
const list = (of: FieldType, go: string): FieldType => ({ kind: 'list', of, go });

const certAndKey = struct('x509.PEMEncodedCertificateAndKey', { crt: str, key: str });
const pemKey = struct('x509.PEMEncodedKey', { key: str });
/** fields in v1alpha1_types.go order: the encoder writes a struct's keys in that order */
const component = (go: string, extra: Record<string, FieldType> = {}) => struct(go, { image: str, extraArgs: stringMap, extraVolumes: opaque, env: opaque, resources: opaque, ...extra });

const install = struct('v1alpha1.InstallConfig', {
  disk: str,
  diskSelector: opaque,
  extraKernelArgs: strings,
  image: str,
  extensions: opaque,
  bootloader: bool,
  wipe: bool,
  legacyBIOSSupport: bool,
});
const features = struct('v1alpha1.FeaturesConfig', {
  rbac: bool,
  stableHostname: bool,
  kubernetesTalosAPIAccess: opaque,
  apidCheckExtKeyUsage: bool,
  diskQuotaSupport: bool,
  kubePrism: struct('v1alpha1.KubePrism', { enabled: bool, port: int }),
  hostDNS: struct('v1alpha1.HostDNSConfig', { enabled: bool, forwardKubeDNSToHost: bool, resolveMemberNames: bool }),
  imageCache: opaque,
  nodeAddressSortAlgorithm: str,
});
const kubelet = struct('v1alpha1.KubeletConfig', {
  image: str,
  clusterDNS: strings,
  extraArgs: stringMap,
  extraMounts: opaque,
  extraConfig: opaque,
  credentialProviderConfig: opaque,
  defaultRuntimeSeccompProfileEnabled: bool,
  registerWithFQDN: bool,
  nodeIP: opaque,
  skipNodeRegistration: bool,
  disableManifestsDirectory: bool,
});
const machine = struct('v1alpha1.MachineConfig', {
  type: str,
  token: str,
  ca: certAndKey,
  acceptedCAs: opaque,
  certSANs: strings,
  controlPlane: opaque,
  kubelet,
  pods: opaque,
  network: opaque,
  disks: opaque,
  install,
  files: opaque,
  env: opaque,
  time: opaque,
  sysctls: stringMap,
  sysfs: stringMap,
  registries: opaque,
  systemDiskEncryption: opaque,
  features,
  udev: opaque,
  logging: opaque,
  kernel: opaque,
  seccompProfiles: opaque,
  baseRuntimeSpecOverrides: opaque,
  nodeLabels: stringMap,
  nodeAnnotations: stringMap,
  nodeTaints: stringMap,
});
const cluster = struct('v1alpha1.ClusterConfig', {
  id: str,
  secret: str,
  controlPlane: struct('v1alpha1.ControlPlaneConfig', { endpoint: str, localAPIServerPort: int }),
  clusterName: str,
  network: struct('v1alpha1.ClusterNetworkConfig', {
    cni: struct('v1alpha1.CNIConfig', { name: str, urls: strings, flannel: opaque }),
    dnsDomain: str,
    podSubnets: strings,
    serviceSubnets: strings,
  }),
  token: str,
  aescbcEncryptionSecret: str,
  secretboxEncryptionSecret: str,
  ca: certAndKey,
  acceptedCAs: opaque,
  aggregatorCA: certAndKey,
  serviceAccount: pemKey,
  apiServer: struct('v1alpha1.APIServerConfig', {
    image: str,
    extraArgs: stringMap,
    extraVolumes: opaque,
    env: opaque,
    certSANs: strings,
    disablePodSecurityPolicy: bool,
    admissionControl: list(struct('v1alpha1.AdmissionPluginConfig', { name: str, configuration: opaque }), 'v1alpha1.AdmissionPluginConfigList'),
    auditPolicy: opaque,
    resources: opaque,
    authorizationConfig: opaque,
  }),
  controllerManager: component('v1alpha1.ControllerManagerConfig'),
  proxy: struct('v1alpha1.ProxyConfig', { disabled: bool, image: str, mode: str, extraArgs: stringMap }),
  scheduler: component('v1alpha1.SchedulerConfig', { config: opaque }),
  discovery: struct('v1alpha1.ClusterDiscoveryConfig', {
    enabled: bool,
    registries: struct('v1alpha1.DiscoveryRegistriesConfig', {
      kubernetes: struct('v1alpha1.RegistryKubernetesConfig', { disabled: bool }),
      service: struct('v1alpha1.RegistryServiceConfig', { disabled: bool, endpoint: str }),
    }),
  }),
  etcd: struct('v1alpha1.EtcdConfig', { image: str, ca: certAndKey, extraArgs: stringMap, subnet: str, advertisedSubnets: strings, listenSubnets: strings }),
  coreDNS: opaque,
  externalCloudProvider: opaque,
  extraManifests: strings,
  extraManifestHeaders: stringMap,
  inlineManifests: opaque,
  adminKubeconfig: opaque,
  allowSchedulingOnMasters: bool,
  allowSchedulingOnControlPlanes: bool,
});
const v1alpha1Config = struct('v1alpha1.Config', { version: str, debug: bool, persist: bool, machine, cluster });

export class ConfigDecodeError extends Error {}

/** yaml.v3 decode.go terror: the tag in short form, a scalar's value cut to 7 characters past 10 */
function typeError(node: YamlNode, lc: LineCounter, goType: string): string {
  const line = lc.linePos(node.range?.[0] ?? 0).line;
  if (isMap(node)) return `line ${line}: cannot unmarshal !!map into ${goType}`;
  if (isSeq(node)) return `line ${line}: cannot unmarshal !!seq into ${goType}`;
  const s = node as { source?: string; value?: unknown };
  const raw = typeof s.source === 'string' ? s.source : String(s.value ?? '');
  const shown = raw.length > 10 ? `${raw.slice(0, 7)}...` : raw;
  return `line ${line}: cannot unmarshal !!${scalarTag(node)} \`${shown}\` into ${goType}`;
}

/** yaml.v3's resolution of a plain scalar (resolve.go): what the tag in an error message says */
function scalarTag(node: YamlNode): string {
  const v = (node as { value?: unknown }).value;
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return 'str';
}

const isNull = (node: YamlNode | null | undefined) => !node || (isScalar(node) && node.value === null);

/** yaml.v3 accepts YAML 1.1 booleans only when the target is a Go bool (decode.go) */
const YAML11_BOOL = /^(y|Y|yes|Yes|YES|on|On|ON|n|N|no|No|NO|off|Off|OFF)$/;

function checkTypes(node: YamlNode | null | undefined, t: FieldType, lc: LineCounter, errs: string[]): void {
  if (isNull(node) || t.kind === 'opaque') return;
  const n = node!;
  switch (t.kind) {
    case 'string':
      if (!isScalar(n)) errs.push(typeError(n, lc, 'string'));
      return;
    case 'bool':
      if (!isScalar(n) || (typeof n.value !== 'boolean' && !(typeof n.value === 'string' && YAML11_BOOL.test(n.value)))) errs.push(typeError(n, lc, 'bool'));
      return;
    case 'int':
      if (!isScalar(n) || typeof n.value !== 'number') errs.push(typeError(n, lc, 'int'));
      return;
    case 'list':
      if (!isSeq(n)) return void errs.push(typeError(n, lc, t.go));
      for (const item of n.items) checkTypes(item as YamlNode, t.of, lc, errs);
      return;
    case 'map':
      if (!isMap(n)) return void errs.push(typeError(n, lc, t.go));
      for (const pair of n.items) checkTypes(pair.value as YamlNode, t.of, lc, errs);
      return;
    case 'struct':
      if (!isMap(n)) return void errs.push(typeError(n, lc, t.go));
      for (const pair of n.items) {
        const f = t.fields[String((pair.key as { value?: unknown }).value)];
        if (f) checkTypes(pair.value as YamlNode, f, lc, errs);
      }
  }
}

/** unknown_keys.go internalCheckUnknownKeys: the unknown keys with their original values, nested as found */
function unknownKeys(node: YamlNode | null | undefined, t: FieldType): unknown {
  if (isNull(node) || t.kind === 'opaque') return undefined;
  const n = node!;
  if (t.kind === 'struct' && isMap(n)) {
    let out: Record<string, unknown> | undefined;
    for (const pair of n.items) {
      const key = String((pair.key as { value?: unknown }).value);
      const f = t.fields[key];
      const inner = f ? unknownKeys(pair.value as YamlNode, f) : ((pair.value as YamlNode | null)?.toJSON?.() ?? (pair.value as unknown));
      if (inner !== undefined) (out ??= {})[key] = inner === null && !f ? null : inner;
    }
    return out;
  }
  if (t.kind === 'map' && isMap(n)) {
    let out: Record<string, unknown> | undefined;
    for (const pair of n.items) {
      const inner = unknownKeys(pair.value as YamlNode, t.of);
      if (inner !== undefined) (out ??= {})[String((pair.key as { value?: unknown }).value)] = inner;
    }
    return out;
  }
  if (t.kind === 'list' && isSeq(n)) {
    const out = n.items.map((i) => unknownKeys(i as YamlNode, t.of)).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  return undefined;
}

/** yaml.v3 Marshal of the unknown keys: 4-space indent, sequences indented under their key, keys sorted */
function unknownKeysYaml(v: unknown): string {
  return stringify(v, { indent: 4, indentSeq: true, lineWidth: 0, sortMapEntries: true, version: '1.1' });
}

export interface DecodedDocument {
  /** the document as plain data */
  value: Record<string, unknown>;
  /** v1alpha1 (the machine config) or a typed document with apiVersion/kind */
  kind: 'v1alpha1' | string;
}

/**
 * Decodes every document of a machine config or strategic merge patch like the Talos config loader, throwing its
 * error text: a YAML syntax error, "missing kind", the collected type errors, or the unknown keys.
 */
export function decodeConfigDocuments(text: string, opts: { allowPatchDelete: boolean }): DecodedDocument[] {
  const lc = new LineCounter();
  const docs: Document.Parsed[] = parseAllDocuments(text, { lineCounter: lc }) as Document.Parsed[];
  const out: DecodedDocument[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new ConfigDecodeError(`decode error: yaml: line ${lc.linePos(doc.errors[0]!.pos[0]).line}: ${doc.errors[0]!.message.split('\n')[0]}`);
    const root = doc.contents as YamlNode | null;
    if (isNull(root)) continue;
    if (!isMap(root)) throw new ConfigDecodeError('missing kind');
    const keys = root.items.map((p) => String((p.key as { value?: unknown }).value));
    const kind = keys.includes('kind') ? String(root.get('kind')) : undefined;
    const v1 = !kind && keys.some((k) => ['machine', 'cluster', 'debug', 'persist'].includes(k) || (k === 'version' && root.get('version') === 'v1alpha1'));
    if (!kind && !v1) throw new ConfigDecodeError('missing kind');
    const value = doc.toJS() as Record<string, unknown>;
    if (!v1) {
      out.push({ value, kind: kind! });
      continue;
    }
    if (opts.allowPatchDelete) stripDeletes(root);
    const errs: string[] = [];
    checkTypes(root, v1alpha1Config, lc, errs);
    if (errs.length) throw new ConfigDecodeError(`error decoding  to *v1alpha1.Config: yaml: unmarshal errors:\n  ${errs.join('\n  ')}`);
    const unknown = unknownKeys(root, v1alpha1Config);
    if (unknown !== undefined) throw new ConfigDecodeError(`unknown keys found during decoding:\n${unknownKeysYaml(unknown)}`);
    out.push({ value, kind: 'v1alpha1' });
  }
  return out;
}

/** `$patch: delete` markers are taken out before a patch is decoded (decoder/delete.go AppendDeletesTo) */
function stripDeletes(node: YamlNode): void {
  if (!isMap(node)) return;
  node.items = node.items.filter((p) => {
    const v = p.value as YamlNode | null;
    if (isMap(v) && v.items.some((i) => String((i.key as { value?: unknown }).value) === '$patch' && String((i.value as { value?: unknown })?.value) === 'delete')) return false;
    if (v) stripDeletes(v);
    return true;
  });
}

/** Re-orders a decoded v1alpha1 document's keys the way the encoder writes the struct (fields in declaration order). */
export function orderLikeConfig(value: Record<string, unknown>): Record<string, unknown> {
  return order(value, v1alpha1Config) as Record<string, unknown>;
}

function order(v: unknown, t: FieldType): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (t.kind === 'list' && Array.isArray(v)) return v.map((x) => order(x, t.of));
  if (Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  // a Go map is written with its keys sorted
  if (t.kind === 'map')
    return Object.fromEntries(
      Object.entries(o)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => [k, order(x, t.of)]),
    );
  if (t.kind !== 'struct') return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(t.fields)) if (k in o) out[k] = order(o[k], t.fields[k]!);
  for (const [k, x] of Object.entries(o)) if (!(k in out)) out[k] = x;
  return out;
}
