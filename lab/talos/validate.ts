/**
 * `talosctl validate` as Talos v1.9.5 runs it: v1alpha1 Config.Validate (siderolabs/talos@v1.9.5
 * pkg/machinery/config/types/v1alpha1/v1alpha1_validation.go), label rules from pkg/machinery/labels/validate.go,
 * errors gathered and printed like hashicorp/go-multierror (a nested multierror stays nested: "invalid machine node
 * labels: 1 error occurred: ..."). The lab checks the rules below, in Talos' order; network devices, disks, KubeSpan,
 * logging and the other sections it does not model pass unchecked (docs/lab-talosctl.md).
 */
type Tree = Record<string, unknown>;
export type RuntimeMode = 'metal' | 'cloud' | 'container';

/** go-multierror ListFormatFunc */
export function multierror(errs: string[]): string {
  if (errs.length === 1) return `1 error occurred:\n\t* ${errs[0]}\n\n`;
  return `${errs.length} errors occurred:\n\t${errs.map((e) => `* ${e}`).join('\n\t')}\n\n`;
}

const obj = (v: unknown): Tree | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Tree) : undefined);
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v) ?? {}).map(([k, x]) => [k, x === null || x === undefined ? '' : String(x)]));

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`);
const QUALIFIED_NAME = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME}$`);
const LABEL_VALUE_RE = new RegExp(`^(${QUALIFIED_NAME})?$`);

function subdomainError(value: string): string | undefined {
  if (value.length > 253) return `domain name length exceeds limit of 253: ${JSON.stringify(value)}`;
  if (!DNS1123_SUBDOMAIN.test(value)) return `domain doesn't match required format: ${JSON.stringify(value)}`;
  return undefined;
}

/** labels.ValidateQualifiedName */
function qualifiedNameError(value: string): string | undefined {
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (!prefix) return `prefix cannot be empty: ${JSON.stringify(value)}`;
    const e = subdomainError(prefix);
    if (e) return `prefix ${JSON.stringify(prefix)} is invalid: ${e}`;
  } else return `invalid format: too many slashes: ${JSON.stringify(value)}`;
  if (!name) return `name cannot be empty: ${JSON.stringify(value)}`;
  if (name.length > 63) return `name is too long: ${JSON.stringify(value)} (limit is 63)`;
  if (!QUALIFIED_NAME_RE.test(name)) return `name ${JSON.stringify(name)} is invalid`;
  return undefined;
}

function labelValueError(value: string): string | undefined {
  if (value.length > 63) return `label value length exceeds limit of 63: ${JSON.stringify(value)}`;
  if (!LABEL_VALUE_RE.test(value)) return `label value ${JSON.stringify(value)} is invalid`;
  return undefined;
}

const sortedKeys = (m: Record<string, string>) => Object.keys(m).sort();

function labelErrors(labels: Record<string, string>): string[] {
  const errs: string[] = [];
  for (const k of sortedKeys(labels)) {
    const a = qualifiedNameError(k);
    if (a) errs.push(a);
    const b = labelValueError(labels[k]!);
    if (b) errs.push(b);
  }
  return errs;
}

const RESERVED_ANNOTATIONS = ['talos.dev/owned-annotations', 'talos.dev/owned-labels', 'talos.dev/owned-taints'];

function annotationErrors(annotations: Record<string, string>): string[] {
  const errs: string[] = [];
  let size = 0;
  for (const k of sortedKeys(annotations)) {
    const a = qualifiedNameError(k);
    if (a) errs.push(a);
    if (RESERVED_ANNOTATIONS.includes(k)) errs.push(`annotation ${JSON.stringify(k)} is reserved`);
    size += k.length + annotations[k]!.length;
  }
  if (size > 256 * 1024) errs.push(`total annotation size exceeds limit of ${256 * 1024} bytes`);
  return errs;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function taintErrors(taints: Record<string, string>): string[] {
  const errs: string[] = [];
  for (const k of sortedKeys(taints)) {
    const a = qualifiedNameError(k);
    if (a) {
      errs.push(a);
      continue;
    }
    const raw = taints[k]!;
    const cut = raw.indexOf(':');
    const [val, effect] = cut >= 0 ? [raw.slice(0, cut), raw.slice(cut + 1)] : [raw, raw];
    if (!TAINT_EFFECTS.includes(effect)) {
      errs.push(`invalid taint effect: ${JSON.stringify(effect)}`);
      continue;
    }
    if (cut >= 0) {
      const b = labelValueError(val);
      if (b) errs.push(b);
    }
  }
  return errs;
}

const DNS_NAME = /^([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[._]?$/;
const validDnsName = (name: string) => name !== '' && name.length - (name.match(/\./g)?.length ?? 0) <= 255 && DNS_NAME.test(name);

/** ClusterConfig.Validate: its errors are flattened into the caller's list (multierror.Append) */
function clusterErrors(cluster: Tree | undefined, controlPlane: boolean): string[] {
  if (!cluster) return ['cluster instructions are required'];
  const endpoint = obj(cluster.controlPlane)?.endpoint;
  if (typeof endpoint !== 'string' || !endpoint) return ['cluster controlplane endpoint is required'];
  const errs: string[] = [];
  const dnsDomain = obj(cluster.network)?.dnsDomain;
  if (typeof dnsDomain === 'string' && dnsDomain !== '' && !validDnsName(dnsDomain)) errs.push(`${JSON.stringify(dnsDomain)} is not a valid DNS name`);
  const etcd = obj(cluster.etcd);
  if (etcd) {
    if (!controlPlane) errs.push('etcd config is only allowed on control plane machines');
    else {
      if (!obj(etcd.ca)) errs.push('key/cert combination should not be empty');
      if (etcd.subnet && Array.isArray(etcd.advertisedSubnets) && etcd.advertisedSubnets.length) errs.push("etcd subnet can't be set when advertised subnets are set");
    }
  }
  if (!controlPlane && obj(cluster.ca)?.key) errs.push('cluster CA key is not allowed on non-controlplane nodes (.cluster.ca)');
  const discovery = obj(cluster.discovery);
  if (discovery?.enabled === true) {
    const service = obj(obj(discovery.registries)?.service);
    if (service?.disabled !== true) {
      if (!cluster.id) errs.push('cluster discovery service requires .cluster.id');
      if (!cluster.secret) errs.push('cluster discovery service requires .cluster.secret');
    }
  }
  return errs;
}

/** ValidateCNI: a missing cni section is Talos' default, flannel */
function cniProblems(cni: Tree | undefined): { errors: string[]; warnings: string[] } {
  const name = typeof cni?.name === 'string' && cni.name ? cni.name : 'flannel';
  const urls = Array.isArray(cni?.urls) ? cni.urls : [];
  const flannelArgs = Array.isArray(obj(cni?.flannel)?.extraArgs) ? (obj(cni?.flannel)!.extraArgs as unknown[]) : [];
  const errors: string[] = [];
  const warnings: string[] = [];
  if (name === 'flannel' || name === 'none') {
    if (urls.length) errors.push(`"urls" field should be empty for ${JSON.stringify(name)} CNI`);
    if (name === 'none' && flannelArgs.length) errors.push(`"flanneldExtraArgs" field should be empty for ${JSON.stringify(name)} CNI`);
  } else if (name === 'custom') {
    if (!urls.length) warnings.push(`"urls" field should not be empty for ${JSON.stringify(name)} CNI`);
    if (flannelArgs.length) errors.push(`"flanneldExtraArgs" field should be empty for ${JSON.stringify(name)} CNI`);
  } else errors.push('cni name should be one of ["flannel", "custom", "none"]');
  return { errors, warnings };
}

export interface Validation {
  warnings: string[];
  /** the multierror text, ending in a blank line, or undefined when valid */
  error?: string;
}

export function validateMachineConfig(cfg: Tree, mode: RuntimeMode, opts: { strict: boolean }): Validation {
  const machine = obj(cfg.machine);
  if (!machine) return { warnings: [], error: multierror(['machine instructions are required']) };
  const errs: string[] = [];
  let warnings: string[] = [];
  const rawType = typeof machine.type === 'string' ? machine.type : '';
  const type = rawType === 'init' ? 'init' : rawType === 'controlplane' ? 'controlplane' : ['worker', 'join', ''].includes(rawType) ? 'worker' : 'unknown';
  const controlPlane = type === 'init' || type === 'controlplane';
  const cluster = obj(cfg.cluster);
  errs.push(...clusterErrors(cluster, controlPlane));

  const install = obj(machine.install);
  if (mode === 'metal') {
    if (!install) errs.push(`install instructions are required in "${mode}" mode`);
    else if (!install.disk && !install.diskSelector) errs.push('either install disk or diskSelector should be defined');
  }
  if (mode === 'container') {
    const hostDNS = obj(obj(machine.features)?.hostDNS);
    if (hostDNS?.enabled !== true) errs.push('feature HostDNS should be enabled in container mode (.machine.features.hostDNS.enabled)');
    if (hostDNS?.forwardKubeDNSToHost !== true) errs.push('feature HostDNS should forward kube-dns to host in container mode (.machine.features.hostDNS.forwardKubeDNSToHost)');
  }
  if (type !== 'unknown' && type !== rawType) warnings.push(`use ${JSON.stringify(type)} instead of ${JSON.stringify(rawType)} for machine type`);

  const ca = obj(machine.ca);
  const acceptedCAs = Array.isArray(machine.acceptedCAs) ? machine.acceptedCAs : [];
  if (!ca && !acceptedCAs.length) errs.push('issuing CA or some accepted CAs are required (.machine.ca, machine.acceptedCAs)');
  if (controlPlane) {
    const cni = cniProblems(obj(obj(cluster?.network)?.cni));
    warnings.push(...cni.warnings);
    errs.push(...cni.errors);
    if (!ca) errs.push('issuing CA is required (.machine.ca)');
    else if (!ca.key) errs.push('issuing CA key is required for controlplane nodes (.machine.ca.key)');
  } else if (type === 'worker') {
    if (ca) {
      if (ca.key) errs.push('issuing Talos API CA key is not allowed on non-controlplane nodes (.machine.ca)');
      if (!ca.crt && !acceptedCAs.length) errs.push('trusted CA certificates are required on non-controlplane nodes (.machine.ca.crt, .machine.acceptedCAs)');
    }
    if (obj(cluster?.ca)?.key) errs.push('issuing Kubernetes API CA key is not allowed on non-controlplane nodes (.cluster.ca)');
  } else errs.push(`unknown machine type ${JSON.stringify(rawType)}`);

  const extensions = Array.isArray(install?.extensions) ? install.extensions : [];
  if (extensions.length) warnings.push('.machine.install.extensions is deprecated, please see https://www.talos.dev/latest/talos-guides/install/boot-assets/');

  const labels = labelErrors(strMap(machine.nodeLabels));
  if (labels.length) errs.push(`invalid machine node labels: ${multierror(labels)}`);
  const annotations = annotationErrors(strMap(machine.nodeAnnotations));
  if (annotations.length) errs.push(`invalid machine node annotations: ${multierror(annotations)}`);
  const taints = taintErrors(strMap(machine.nodeTaints));
  if (taints.length) errs.push(`invalid machine node taints: ${multierror(taints)}`);

  if (cfg.persist === false) errs.push('.persist should be enabled');
  if (opts.strict) {
    errs.push(...warnings.map((w) => `warning: ${w}`));
    warnings = [];
  }
  return { warnings, error: errs.length ? multierror(errs) : undefined };
}
