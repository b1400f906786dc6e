import { getPath, mergeValues, type Values } from './values.ts';

/**
 * How the Cilium chart refuses values, for the lab's helm (chart 1.16.19, the version the examples pin; the Go
 * module github.com/cilium/cilium at install/kubernetes/cilium). Two gates, in helm's order:
 *
 * 1. values.schema.json: helm checks the coalesced values against it (helm/helm@v3.16.4 pkg/chartutil/jsonschema.go)
 *    and lists every violation, "- <path>: Invalid type. Expected: <type>, given: <type>" (its order is Go's map
 *    order, random; the lab sorts by path). The lab knows the type of the paths below — every path meshpilot
 *    renders and the sections around them;
 * 2. templates/validate.yaml: the first `fail` that fires, "execution error at (cilium/templates/validate.yaml:L:C):
 *    <message>", with the chart's own message and position.
 *
 * Without the real chart (the demo never fetches it) this table is the lab's whole knowledge of the chart:
 * test/conformance/helm.test.ts holds every type, default and rule below to the real chart, and with
 * MESHPILOT_LAB_HELM + MESHPILOT_LAB_CHARTS set the lab asks the real chart instead (lab/tools/helm.ts).
 */
export const MODELLED_CHART_VERSION = '1.16.19';

/** JSON-schema types of values.schema.json for the paths the lab checks. */
export const SCHEMA_TYPES: Record<string, string | string[]> = {
  cluster: 'object',
  'cluster.name': 'string',
  'cluster.id': 'integer',
  ipam: 'object',
  'ipam.mode': 'string',
  'ipam.operator.clusterPoolIPv4PodCIDRList': ['array', 'string'],
  ipv4: 'object',
  'ipv4.enabled': 'boolean',
  ipv6: 'object',
  'ipv6.enabled': 'boolean',
  k8sServiceHost: 'string',
  k8sServicePort: ['string', 'integer'],
  securityContext: 'object',
  'securityContext.capabilities': 'object',
  'securityContext.capabilities.ciliumAgent': 'array',
  'securityContext.capabilities.cleanCiliumState': 'array',
  cgroup: 'object',
  'cgroup.autoMount': 'object',
  'cgroup.autoMount.enabled': 'boolean',
  'cgroup.hostRoot': 'string',
  encryption: 'object',
  'encryption.enabled': 'boolean',
  'encryption.type': 'string',
  'encryption.nodeEncryption': 'boolean',
  hubble: 'object',
  'hubble.enabled': 'boolean',
  'hubble.relay': 'object',
  'hubble.relay.enabled': 'boolean',
  'hubble.relay.replicas': 'integer',
  'hubble.ui': 'object',
  'hubble.ui.enabled': 'boolean',
  l2announcements: 'object',
  'l2announcements.enabled': 'boolean',
  bgpControlPlane: 'object',
  'bgpControlPlane.enabled': 'boolean',
  externalIPs: 'object',
  'externalIPs.enabled': 'boolean',
  clustermesh: 'object',
  'clustermesh.useAPIServer': 'boolean',
  'clustermesh.maxConnectedClusters': 'integer',
  'clustermesh.apiserver': 'object',
  'clustermesh.apiserver.replicas': 'integer',
  'clustermesh.apiserver.kvstoremesh': 'object',
  'clustermesh.apiserver.kvstoremesh.enabled': 'boolean',
  'clustermesh.apiserver.service': 'object',
  'clustermesh.apiserver.service.type': 'string',
  'clustermesh.apiserver.service.annotations': 'object',
  'clustermesh.apiserver.service.loadBalancerClass': ['null', 'string'],
  'clustermesh.apiserver.service.loadBalancerIP': ['null', 'string'],
  'clustermesh.apiserver.tls': 'object',
  'clustermesh.apiserver.tls.authMode': 'string',
  'clustermesh.apiserver.tls.auto': 'object',
  'clustermesh.apiserver.tls.auto.enabled': 'boolean',
  'clustermesh.apiserver.tls.auto.method': 'string',
  'clustermesh.apiserver.tls.server': 'object',
  'clustermesh.apiserver.tls.server.extraIpAddresses': 'array',
  'clustermesh.apiserver.tls.server.extraDnsNames': 'array',
  'clustermesh.config': 'object',
  'clustermesh.config.enabled': 'boolean',
  'clustermesh.config.domain': 'string',
  'clustermesh.config.clusters': 'array',
  tls: 'object',
  'tls.ca': 'object',
  'tls.ca.cert': 'string',
  'tls.ca.key': 'string',
  operator: 'object',
  'operator.replicas': 'integer',
  identityAllocationMode: 'string',
  routingMode: 'string',
  tunnelProtocol: 'string',
  autoDirectNodeRoutes: ['boolean', 'string'],
  ipv4NativeRoutingCIDR: 'string',
  envoy: 'object',
  'envoy.enabled': ['null', 'boolean'],
  'envoy.baseID': 'integer',
  l7Proxy: 'boolean',
  upgradeCompatibility: ['null', 'string'],
  disableEndpointCRD: 'boolean',
  externalWorkloads: 'object',
  'externalWorkloads.enabled': 'boolean',
  k8sClientRateLimit: 'object',
  'k8sClientRateLimit.qps': ['null', 'integer'],
  'k8sClientRateLimit.burst': ['null', 'integer'],
};

/** values.yaml defaults the rules below read (coalesced under the user's values, as helm does). */
export const CHART_DEFAULTS: Values = {
  cluster: { name: 'default', id: 0 },
  identityAllocationMode: 'crd',
  disableEndpointCRD: false,
  l7Proxy: true,
  upgradeCompatibility: null,
  extraConfig: {},
  eni: { enabled: false },
  alibabacloud: { enabled: false },
  cni: { chainingMode: null },
  envoy: { enabled: null, baseID: 0 },
  externalWorkloads: { enabled: false },
  ciliumEndpointSlice: { enabled: false },
  hubble: { enabled: true, relay: { enabled: false }, ui: { enabled: false, standalone: { enabled: false } } },
  clustermesh: { useAPIServer: false, maxConnectedClusters: 255, apiserver: { tls: { auto: { enabled: true, method: 'helm' } } } },
};

/** Go template truthiness: false, 0, nil and empty strings/collections are false */
const truthy = (v: unknown) =>
  !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0));
/** sprig `int`: numbers truncate, numeric strings parse, anything else is 0 */
const int = (v: unknown) => (typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : typeof v === 'boolean' ? Number(v) : 0);
/** semverCompare ">=1.16" (default "1.16" .Values.upgradeCompatibility) */
const compatAtLeast116 = (v: Values) => {
  const c = getPath(v, 'upgradeCompatibility');
  const m = /^v?(\d+)\.(\d+)/.exec(typeof c === 'string' && c ? c : '1.16');
  return !m || Number(m[1]) > 1 || (Number(m[1]) === 1 && Number(m[2]) >= 16);
};

const UPGRADE_NOTES = (v: string) => `For details please refer to https://docs.cilium.io/en/v${v}/operations/upgrade/#helm-options`;

/** templates/validate.yaml, in file order: [line, column of `fail`, the check] */
const RULES: Array<[number, number, (v: Values) => string | undefined]> = [
  [
    10,
    5,
    (v) =>
      ['keyFile', 'mountPath', 'secretName', 'interface'].some((k) => truthy(getPath(v, `encryption.${k}`)))
        ? `encryption.{keyFile,mountPath,secretName,interface} were deprecated in v1.14 and has been removed in v1.16. ${UPGRADE_NOTES('1.16')}`
        : undefined,
  ],
  [
    16,
    5,
    (v) => {
      const enabled = getPath(v, 'proxy.prometheus.enabled');
      return truthy(enabled === undefined || enabled === null ? '' : String(enabled)) || truthy(getPath(v, 'proxy.prometheus.port'))
        ? `proxy.prometheus.enabled and proxy.prometheus.port were deprecated in v1.14 and has been removed in v1.16. ${UPGRADE_NOTES('1.16')}`
        : undefined;
    },
  ],
  [19, 5, (v) => (truthy(getPath(v, 'endpointStatus')) ? `endpointStatus has been removed in v1.16. ${UPGRADE_NOTES('1.16')}` : undefined)],
  [22, 5, (v) => (truthy(getPath(v, 'remoteNodeIdentity')) ? `remoteNodeIdentity was deprecated in v1.15 and has been removed in v1.16. ${UPGRADE_NOTES('1.16')}` : undefined)],
  [25, 5, (v) => (truthy(getPath(v, 'containerRuntime.integration')) ? `containerRuntime.integration was deprecated in v1.14 and has been removed in v1.16. ${UPGRADE_NOTES('1.16')}` : undefined)],
  [28, 5, (v) => (truthy(getPath(v, 'etcd.managed')) ? `etcd.managed was deprecated in v1.10 has been removed in v1.16. ${UPGRADE_NOTES('1.16')}` : undefined)],
  [33, 5, (v) => (truthy(getPath(v, 'tunnel')) ? `tunnel was deprecated in v1.14 and has been removed in v1.15. ${UPGRADE_NOTES('1.15')}` : undefined)],
  [
    36,
    5,
    (v) =>
      truthy(getPath(v, 'clustermesh.apiserver.tls.ca.cert')) || truthy(getPath(v, 'clustermesh.apiserver.tls.ca.key'))
        ? `clustermesh.apiserver.tls.ca.cert and clustermesh.apiserver.tls.ca.key were deprecated in v1.14 and has been removed in v1.15. ${UPGRADE_NOTES('1.15')}`
        : undefined,
  ],
  [39, 5, (v) => (truthy(getPath(v, 'enableK8sEventHandover')) ? `enableK8sEventHandover was deprecated in v1.14 and has been removed in v1.15. ${UPGRADE_NOTES('1.15')}` : undefined)],
  [42, 5, (v) => (truthy(getPath(v, 'enableCnpStatusUpdates')) ? `enableCnpStatusUpdates was deprecated in v1.14 and has been removed in v1.15. ${UPGRADE_NOTES('1.15')}` : undefined)],
  [
    48,
    7,
    (v) =>
      truthy(getPath(v, 'hubble.ui.enabled')) && !truthy(getPath(v, 'hubble.ui.standalone.enabled')) && !truthy(getPath(v, 'hubble.relay.enabled'))
        ? 'Hubble UI requires .Values.hubble.relay.enabled=true'
        : undefined,
  ],
  [58, 7, (v) => (truthy(getPath(v, 'hubble.relay.enabled')) && !truthy(getPath(v, 'hubble.enabled')) ? 'Hubble Relay requires .Values.hubble.enabled=true' : undefined)],
  [
    83,
    7,
    (v) =>
      (truthy(getPath(v, 'externalWorkloads.enabled')) || truthy(getPath(v, 'clustermesh.useAPIServer'))) &&
      truthy(getPath(v, 'clustermesh.apiserver.tls.auto.enabled')) &&
      getPath(v, 'clustermesh.apiserver.tls.auto.method') === 'certmanager' &&
      !truthy(getPath(v, 'clustermesh.apiserver.tls.auto.certManagerIssuerRef'))
        ? 'ClusterMesh TLS certgen method=certmanager requires that user specifies .Values.clustermesh.apiserver.tls.auto.certManagerIssuerRef'
        : undefined,
  ],
  [
    134,
    7,
    (v) =>
      (truthy(getPath(v, 'ciliumEndpointSlice.enabled')) || truthy(getPath(v, 'enableCiliumEndpointSlice'))) && getPath(v, 'disableEndpointCRD') === true
        ? 'if Cilium Endpoint Slice is enabled (.Values.ciliumEndpointSlice.enabled=true), it requires .Values.disableEndpointCRD=false'
        : undefined,
  ],
  [140, 5, (v) => (getPath(v, 'cluster.name') === '' ? 'The cluster name is invalid: cannot be empty' : undefined)],
  [
    144,
    5,
    (v) =>
      compatAtLeast116(v) && String(getPath(v, 'cluster.name') ?? '').length > 32
        ? "The cluster name is invalid: must not be more than 32 characters. Configure 'upgradeCompatibility' to 1.15 or earlier to temporarily skip this check at your own risk"
        : undefined,
  ],
  [
    147,
    5,
    (v) =>
      compatAtLeast116(v) && !/^([a-z0-9][-a-z0-9]*)?[a-z0-9]$/.test(String(getPath(v, 'cluster.name') ?? ''))
        ? "The cluster name is invalid: must consist of lower case alphanumeric characters and '-', and must start and end with an alphanumeric character. Configure 'upgradeCompatibility' to 1.15 or earlier to temporarily skip this check at your own risk"
        : undefined,
  ],
  [151, 5, (v) => (getPath(v, 'cluster.name') === 'default' && int(getPath(v, 'cluster.id')) !== 0 ? 'The cluster name is invalid: cannot use default value with cluster.id != 0' : undefined)],
  [
    157,
    5,
    (v) => {
      const id = int(getPath(v, 'cluster.id'));
      const affected = (id >= 128 && id <= 255) || (id >= 384 && id <= 511);
      const eni = truthy(getPath(v, 'eni.enabled')) || truthy(getPath(v, 'alibabacloud.enabled')) || getPath(v, 'cni.chainingMode') === 'aws-cni';
      return (getPath(v, 'extraConfig') as Values | undefined)?.['allow-unsafe-policy-skb-usage'] !== 'true' && affected && eni
        ? 'Cilium is currently affected by a bug that causes traffic matched by network policies to be incorrectly dropped when running in either ENI mode (both AWS and AlibabaCloud) or AWS VPC CNI chaining mode, if the cluster ID is 128-255 (and 384-511 when maxConnectedClusters=511). Please refer to https://github.com/cilium/cilium/issues/21330 for additional details.'
        : undefined;
    },
  ],
  [
    163,
    7,
    (v) =>
      truthy(getPath(v, 'clustermesh.useAPIServer')) && getPath(v, 'identityAllocationMode') !== 'crd'
        ? `The clustermesh-apiserver cannot be enabled in combination with .Values.identityAllocationMode=${goString(getPath(v, 'identityAllocationMode'))}. To establish a Cluster Mesh, directly configure the parameters to access the remote kvstore through .Values.clustermesh.config`
        : undefined,
  ],
  [
    166,
    7,
    (v) =>
      truthy(getPath(v, 'clustermesh.useAPIServer')) && truthy(getPath(v, 'disableEndpointCRD'))
        ? 'The clustermesh-apiserver cannot be enabled in combination with .Values.disableEndpointCRD=true'
        : undefined,
  ],
  [
    171,
    7,
    (v) =>
      truthy(getPath(v, 'externalWorkloads.enabled')) && getPath(v, 'identityAllocationMode') !== 'crd'
        ? `External workloads support cannot be enabled in combination with .Values.identityAllocationMode=${goString(getPath(v, 'identityAllocationMode'))}`
        : undefined,
  ],
  [
    174,
    7,
    (v) =>
      truthy(getPath(v, 'externalWorkloads.enabled')) && truthy(getPath(v, 'disableEndpointCRD'))
        ? 'External workloads support cannot be enabled in combination with .Values.disableEndpointCRD=true'
        : undefined,
  ],
  [180, 6, (v) => (![255, 511].includes(int(getPath(v, 'clustermesh.maxConnectedClusters'))) ? 'max-connected-clusters must be set to 255 or 511' : undefined)],
  [
    185,
    6,
    (v) => {
      const id = int(getPath(v, 'envoy.baseID'));
      return id >= 0 && id <= 4294967295 ? undefined : 'envoy.baseID must be an int. Supported values 0 - 4294967295';
    },
  ],
];

/** printf "%s" of a value the way text/template shows it */
const goString = (v: unknown) => (v === undefined || v === null ? '%!s(<nil>)' : String(v));

/** gojsonschema's name for a JSON value's type */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

function typeMatches(v: unknown, want: string): boolean {
  const got = jsonType(v);
  return got === want || (want === 'number' && got === 'integer');
}

export type ChartRefusal = { gate: 'schema'; message: string } | { gate: 'template'; message: string };

/**
 * What the chart says about user values (already merged from -f/--set in order), or undefined when it takes them.
 * The message is helm's error text without "Error: " and without helm's command prefix.
 */
export function chartRefusal(user: Values, chartName = 'cilium'): ChartRefusal | undefined {
  const values = mergeValues(CHART_DEFAULTS, user);
  const schema: string[] = [];
  for (const [path, want] of Object.entries(SCHEMA_TYPES)) {
    const v = getPath(user, path);
    // a null the user sets removes the key while values coalesce: nothing left to check
    if (v === undefined || v === null) continue;
    const wants = Array.isArray(want) ? want : [want];
    if (!wants.some((w) => typeMatches(v, w))) {
      schema.push(`- ${path}: Invalid type. Expected: ${Array.isArray(want) ? `[${want.join(',')}]` : want}, given: ${jsonType(v)}`);
    }
  }
  if (schema.length) {
    return { gate: 'schema', message: `values don't meet the specifications of the schema(s) in the following chart(s):\n${chartName}:\n${schema.sort().join('\n')}\n` };
  }
  for (const [line, col, rule] of RULES) {
    const m = rule(values);
    if (m) return { gate: 'template', message: `execution error at (${chartName}/templates/validate.yaml:${line}:${col}): ${m}` };
  }
  return undefined;
}

/** The rule positions, for the conformance test that holds them to the real validate.yaml. */
export const RULE_POSITIONS = RULES.map(([line, col]) => [line, col] as const);
