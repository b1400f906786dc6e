// The blueprint file's shape. Workflow-safe: pure zod, no I/O. Field docs live in docs/blueprint.md.
import { z } from 'zod';
import { assertSecretRef } from '../secrets/store.ts';
import { parseAddress, parseCidr } from './net.ts';
import * as L from './limits.ts';

/** Cilium's own rule for cluster names (chart validate.yaml): DNS-label style, at most 32 characters. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const dnsLabel = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .regex(DNS_LABEL, 'lower-case letters, digits and "-", starting and ending with a letter or digit');

/** Free text shown to people (descriptions, reasons): bounded, one line or a few. */
const text = (max: number) => z.string().max(max, `at most ${max} characters`);

const cidr = z.string().max(64, 'at most 64 characters').superRefine((value, ctx) => {
  const problem = parseCidr(value).error;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const ipAddress = z.string().max(64, 'at most 64 characters').superRefine((value, ctx) => {
  const problem = parseAddress(value).error;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A name in the secret store (`bmc/usa-cp-1`); anything that looks like the secret itself is refused. */
export const secretRef = z.string().max(240, 'at most 240 characters').superRefine((value, ctx) => {
  if (/-----BEGIN|^[A-Za-z0-9+/_-]{40,}={0,2}$/.test(value) || /\s/.test(value.trim())) {
    ctx.addIssue({
      code: 'custom',
      message: 'looks like a secret value: give the name of a secret in the store (e.g. "bmc/usa-cp-1"), never the value',
    });
    return;
  }
  try {
    assertSecretRef(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/** A written reason. Waivers are visible on purpose: they are echoed as warnings on every validate and plan. */
const waiverReason = z
  .string()
  .trim()
  .min(10, 'give a reason of at least 10 characters (it is shown on every plan)')
  .max(500, 'at most 500 characters');

const httpsUrl = z.string().max(L.MAX_URL, `at most ${L.MAX_URL} characters`).pipe(z.url({ protocol: /^https$/, error: 'an https:// URL' }));

/** Kubernetes label syntax (apimachinery util/validation: IsQualifiedName, IsValidLabelValue). */
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key ${JSON.stringify(key.slice(0, 80))}: the prefix must be a DNS subdomain of at most 253 characters`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key ${JSON.stringify(key.slice(0, 80))}: the name must be 1-63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  }
  return undefined;
}
const labelValue = z
  .string()
  .max(63, 'a label value is at most 63 characters')
  .regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, 'a label value is empty or letters, digits, "-", "_" or ".", starting and ending with a letter or digit');

/**
 * An interface pattern for CiliumL2AnnouncementPolicy.spec.interfaces: Cilium compiles it with Go's regexp
 * (RE2), so it must compile, and the JavaScript-only constructs RE2 refuses (look-around, back-references) are
 * refused here instead of by the agent on every node.
 */
const RE2_UNSUPPORTED = /\(\?<?[=!]|\\[1-9]|\\k</;
const interfacePattern = z
  .string()
  .min(1)
  .max(L.MAX_PATTERN, `at most ${L.MAX_PATTERN} characters`)
  .superRefine((value, ctx) => {
    try {
      new RegExp(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}` });
      return;
    }
    if (RE2_UNSUPPORTED.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'look-around and back-references are not supported by Go regexp (RE2), which Cilium uses: rewrite the pattern without them' });
    }
  });

export const bmcSchema = z.strictObject({
  /** Redfish service root, e.g. https://10.0.10.11 */
  endpoint: httpsUrl,
  credentialsRef: secretRef,
  systemId: z.string().min(1).max(256).optional(),
  insecureTls: z.boolean().optional(),
  caRef: secretRef.optional(),
});

export const nodeSchema = z.strictObject({
  name: dnsLabel(63),
  role: z.enum(['controlplane', 'worker']),
  address: ipAddress,
  /** defaults to the cluster's site */
  site: dnsLabel(63).optional(),
  installDisk: z.string().max(256).regex(/^\/dev\/\S+$/, 'a device path such as /dev/sda or /dev/nvme0n1').default('/dev/sda'),
  bmc: bmcSchema.optional(),
});

/** `{cidr}` or `{start, stop}` (stop omitted = one address); one object so a mistake gets a precise message. */
const poolBlock = z
  .strictObject({ cidr: cidr.optional(), start: ipAddress.optional(), stop: ipAddress.optional() })
  .superRefine((b, ctx) => {
    if ((b.cidr === undefined) === (b.start === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either cidr (e.g. 192.168.10.240/28) or start (and optionally stop)' });
    } else if (b.cidr !== undefined && b.stop !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'stop goes with start, not with cidr', path: ['stop'] });
    }
  });

const bgpSchema = z.strictObject({
  localASN: z.int().min(1).max(4294967295),
  peers: z
    .array(z.strictObject({ name: dnsLabel(63), address: ipAddress, asn: z.int().min(1).max(4294967295) }))
    .min(1, 'at least one BGP peer')
    .max(L.MAX_BGP_PEERS, `at most ${L.MAX_BGP_PEERS} BGP peers`),
});

export const loadBalancerSchema = z.strictObject({
  mode: z.enum(['l2', 'bgp']),
  /** LB-IPAM pool blocks: `{cidr}` or `{start, stop}` (stop omitted = one address) */
  pool: z.array(poolBlock).min(1, 'at least one pool block').max(L.MAX_POOL_BLOCKS, `at most ${L.MAX_POOL_BLOCKS} pool blocks`),
  /** L2 only: interface regexes the announcement policy may answer ARP on (empty = all) */
  interfaces: z.array(interfacePattern).max(L.MAX_INTERFACE_PATTERNS, `at most ${L.MAX_INTERFACE_PATTERNS} patterns`).default([]),
  bgp: bgpSchema.optional(),
});

export const clusterSchema = z.strictObject({
  name: dnsLabel(32).refine((n) => n !== 'default', '"default" is reserved by Cilium for a cluster outside any mesh'),
  id: z
    .int()
    .min(1, 'cluster IDs start at 1 (0 means "no ClusterMesh")')
    .max(511, 'at most 511 (and above 255 only with mesh.maxConnectedClusters: 511)'),
  region: dnsLabel(63),
  site: dnsLabel(63),
  /** https://host:6443: the Kubernetes API endpoint (a VIP or load balancer in front of the control plane) */
  endpoint: z.string().max(L.MAX_URL, `at most ${L.MAX_URL} characters`).pipe(z.url({ protocol: /^https$/, error: 'an https://host:port URL' })),
  network: z.strictObject({
    podSubnets: z.array(cidr).min(1, 'at least one pod subnet').max(L.MAX_CIDRS_PER_FAMILY_LIST, 'at most two (dual-stack: one IPv4 and one IPv6)'),
    serviceSubnets: z.array(cidr).min(1, 'at least one service subnet').max(L.MAX_CIDRS_PER_FAMILY_LIST, 'at most two (dual-stack: one IPv4 and one IPv6)'),
    /** the L2 subnets the nodes' addresses sit in */
    nodeSubnets: z.array(cidr).min(1, 'at least one node subnet').max(L.MAX_NODE_SUBNETS, `at most ${L.MAX_NODE_SUBNETS} node subnets`),
    /** the pod range each node gets from the pod subnet (kube-controller-manager --node-cidr-mask-size-ipv4/-ipv6) */
    nodeCidrMaskSize: z
      .strictObject({ ipv4: z.int().min(1).max(32).default(24), ipv6: z.int().min(1).max(128).default(64) })
      .default({ ipv4: 24, ipv6: 64 }),
  }),
  boot: z
    .strictObject({
      provider: z.enum(['redfish', 'manual', 'none']),
      imageUrl: httpsUrl.optional(),
      bootMode: z.enum(['virtualmedia', 'pxe']).optional(),
    })
    .default({ provider: 'none' }),
  installImage: z.string().min(1).max(1024).optional(),
  loadBalancer: loadBalancerSchema,
  clustermesh: z
    .strictObject({
      /** pins the clustermesh-apiserver LoadBalancer IP (must sit in the pool) so peers can be configured up front */
      apiserverIP: ipAddress.optional(),
    })
    .default({}),
  etcd: z
    .strictObject({
      metricsPort: z.int().min(1).max(65535).default(2381),
      /** above the Golden Rule (10 ms) only with waivers.etcdLatencyBudget; never above the hard limit */
      latencyBudgetMs: z
        .number()
        .positive()
        .max(
          L.ETCD_BUDGET_HARD_MAX_MS,
          `at most ${L.ETCD_BUDGET_HARD_MAX_MS} ms, waiver or not: members that far apart are a stretched control plane (build a cluster per site and mesh them)`,
        )
        .default(L.GOLDEN_RULE_ETCD_RTT_MS),
    })
    .default({ metricsPort: 2381, latencyBudgetMs: L.GOLDEN_RULE_ETCD_RTT_MS }),
  waivers: z
    .strictObject({ evenControlPlaneCount: waiverReason.optional(), etcdLatencyBudget: waiverReason.optional() })
    .default({}),
  /**
   * This cluster's versions where they differ from the mesh-wide `versions` (a region held back, or a mesh upgraded
   * in stages). Validation keeps the mesh within what ClusterMesh supports: Cilium at most one minor apart.
   */
  versions: z
    .strictObject({
      talos: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a Talos version like v1.9.5').optional(),
      kubernetes: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a Kubernetes version like 1.32.3').optional(),
      cilium: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a Cilium version like 1.16.6').optional(),
    })
    .optional(),
  nodes: z.array(nodeSchema).min(1, 'at least one node').max(L.MAX_NODES_PER_CLUSTER, `at most ${L.MAX_NODES_PER_CLUSTER} nodes (Kubernetes' tested limit per cluster)`),
});

const labels = z.record(z.string(), labelValue).superRefine((l, ctx) => {
  const keys = Object.keys(l);
  if (keys.length > L.MAX_LABELS) ctx.addIssue({ code: 'custom', message: `at most ${L.MAX_LABELS} labels` });
  for (const key of keys.slice(0, L.MAX_LABELS)) {
    const problem = labelKeyProblem(key);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [key] });
  }
});

export const globalServiceSchema = z.strictObject({
  name: dnsLabel(63),
  namespace: dnsLabel(63).default('default'),
  /** clusters that get the Service; default all */
  clusters: z.array(z.string().max(64)).max(L.MAX_CLUSTERS).optional(),
  selector: labels,
  ports: z
    .array(
      z.strictObject({
        name: dnsLabel(15).optional(),
        port: z.int().min(1).max(65535),
        targetPort: z.int().min(1).max(65535).optional(),
        protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
      }),
    )
    .min(1)
    .max(L.MAX_LIST, `at most ${L.MAX_LIST} ports`),
  affinity: z.enum(['local', 'remote', 'none']).default('none'),
  /** false: this cluster consumes remote backends but does not export its own */
  shared: z.boolean().default(true),
});

export const policySchema = z.strictObject({
  name: dnsLabel(63),
  namespace: dnsLabel(63).default('default'),
  /** clusters the policy is applied in; default all */
  clusters: z.array(z.string().max(64)).max(L.MAX_CLUSTERS).optional(),
  endpointSelector: labels,
  allowFrom: z
    .array(z.strictObject({ cluster: z.string().max(64).optional(), labels }))
    .min(1, 'at least one allowed source')
    .max(L.MAX_LIST, `at most ${L.MAX_LIST} allowed sources`),
  ports: z
    .array(z.strictObject({ port: z.int().min(1).max(65535), protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP') }))
    .max(L.MAX_LIST, `at most ${L.MAX_LIST} ports`)
    .optional(),
});

export const blueprintSchema = z.strictObject({
  apiVersion: z.literal('meshpilot.dev/v1alpha1'),
  kind: z.literal('MeshBlueprint'),
  metadata: z.strictObject({ name: dnsLabel(40), description: text(L.MAX_TEXT).optional() }),
  versions: z.strictObject({
    talos: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a Talos version like v1.9.5'),
    kubernetes: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a Kubernetes version like 1.32.3'),
    cilium: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a Cilium version like 1.16.6'),
    ciliumCli: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'a cilium-cli version like v0.16.24'),
  }),
  mesh: z.strictObject({
    /** helm: declarative clustermesh.config.clusters (one upgrade per cluster); cilium-connect: pairwise CLI connect */
    method: z.enum(['helm', 'cilium-connect']).default('helm'),
    encryption: z.enum(['wireguard', 'none']).default('wireguard'),
    kvstoremesh: z.boolean().default(true),
    /** Hubble with its relay: the seed's rule is observability running before strict cross-cluster policies */
    hubble: z.strictObject({ relay: z.boolean().default(true) }).default({ relay: true }),
    maxConnectedClusters: z.literal([255, 511], 'either 255 or 511 (identical on every cluster, and it cannot change after install)').default(255),
    waivers: z
      .strictObject({
        /** encryption none between clusters or nodes at different sites */
        unencryptedCrossSite: waiverReason.optional(),
        unencryptedCrossRegion: z
          .unknown()
          .optional()
          .refine((v) => v === undefined, 'renamed to mesh.waivers.unencryptedCrossSite: it covers every pair of sites, in one region or across regions'),
      })
      .default({}),
  }),
  clusters: z
    .array(clusterSchema)
    .min(1, 'at least one cluster')
    .max(L.MAX_CLUSTERS, `at most ${L.MAX_CLUSTERS} clusters (Cilium cluster IDs end at 511, and every cluster needs its own)`),
  globalServices: z.array(globalServiceSchema).max(L.MAX_GLOBAL_SERVICES, `at most ${L.MAX_GLOBAL_SERVICES} global services`).default([]),
  policies: z.array(policySchema).max(L.MAX_POLICIES, `at most ${L.MAX_POLICIES} policies`).default([]),
  /** `meshpilot upgrade` of a revision with new versions: which cluster goes first (default: the first listed) */
  upgrade: z.strictObject({ canary: z.string().min(1).max(63).optional() }).optional(),
});

export type Blueprint = z.infer<typeof blueprintSchema>;
/** What a user may write (defaults not yet applied). */
export type BlueprintInput = z.input<typeof blueprintSchema>;
export type ClusterSpec = Blueprint['clusters'][number];
export type NodeSpec = ClusterSpec['nodes'][number];
export type LoadBalancerSpec = ClusterSpec['loadBalancer'];
export type GlobalServiceSpec = Blueprint['globalServices'][number];
export type PolicySpec = Blueprint['policies'][number];
