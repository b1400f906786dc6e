// The blueprint file's shape. Workflow-safe: pure zod, no I/O. Field docs live in docs/blueprint.md.
import { z } from 'zod';
import { assertSecretRef } from '../secrets/store.ts';
import { parseAddress, parseCidr } from './net.ts';

/** Cilium's own rule for cluster names (chart validate.yaml): DNS-label style, at most 32 characters. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const dnsLabel = (max: number) =>
  z
    .string()
    .max(max, `at most ${max} characters`)
    .regex(DNS_LABEL, 'lower-case letters, digits and "-", starting and ending with a letter or digit');

const cidr = z.string().superRefine((value, ctx) => {
  const problem = parseCidr(value).error;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const ipAddress = z.string().superRefine((value, ctx) => {
  const problem = parseAddress(value).error;
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** A name in the secret store (`bmc/usa-cp-1`); anything that looks like the secret itself is refused. */
export const secretRef = z.string().superRefine((value, ctx) => {
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
const waiverReason = z.string().trim().min(10, 'give a reason of at least 10 characters (it is shown on every plan)');

const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });

export const bmcSchema = z.strictObject({
  /** Redfish service root, e.g. https://10.0.10.11 */
  endpoint: httpsUrl,
  credentialsRef: secretRef,
  systemId: z.string().min(1).optional(),
  insecureTls: z.boolean().optional(),
  caRef: secretRef.optional(),
});

export const nodeSchema = z.strictObject({
  name: dnsLabel(63),
  role: z.enum(['controlplane', 'worker']),
  address: ipAddress,
  /** defaults to the cluster's site */
  site: dnsLabel(63).optional(),
  installDisk: z.string().regex(/^\/dev\/\S+$/, 'a device path such as /dev/sda or /dev/nvme0n1').default('/dev/sda'),
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
    .min(1, 'at least one BGP peer'),
});

export const loadBalancerSchema = z.strictObject({
  mode: z.enum(['l2', 'bgp']),
  /** LB-IPAM pool blocks: `{cidr}` or `{start, stop}` (stop omitted = one address) */
  pool: z.array(poolBlock).min(1, 'at least one pool block'),
  /** L2 only: interface regexes the announcement policy may answer ARP on (empty = all) */
  interfaces: z.array(z.string().min(1)).default([]),
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
  endpoint: z.url({ protocol: /^https$/, error: 'an https://host:port URL' }),
  network: z.strictObject({
    podSubnets: z.array(cidr).min(1, 'at least one pod subnet'),
    serviceSubnets: z.array(cidr).min(1, 'at least one service subnet'),
    /** the L2 subnets the nodes' addresses sit in */
    nodeSubnets: z.array(cidr).min(1, 'at least one node subnet'),
  }),
  boot: z
    .strictObject({
      provider: z.enum(['redfish', 'manual', 'none']),
      imageUrl: httpsUrl.optional(),
      bootMode: z.enum(['virtualmedia', 'pxe']).optional(),
    })
    .default({ provider: 'none' }),
  installImage: z.string().min(1).optional(),
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
      latencyBudgetMs: z.number().positive().default(10),
    })
    .default({ metricsPort: 2381, latencyBudgetMs: 10 }),
  waivers: z.strictObject({ evenControlPlaneCount: waiverReason.optional() }).default({}),
  nodes: z.array(nodeSchema).min(1, 'at least one node'),
});

const labels = z.record(z.string().min(1), z.string());

export const globalServiceSchema = z.strictObject({
  name: dnsLabel(63),
  namespace: dnsLabel(63).default('default'),
  /** clusters that get the Service; default all */
  clusters: z.array(z.string()).optional(),
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
    .min(1),
  affinity: z.enum(['local', 'remote', 'none']).default('none'),
  /** false: this cluster consumes remote backends but does not export its own */
  shared: z.boolean().default(true),
});

export const policySchema = z.strictObject({
  name: dnsLabel(63),
  namespace: dnsLabel(63).default('default'),
  /** clusters the policy is applied in; default all */
  clusters: z.array(z.string()).optional(),
  endpointSelector: labels,
  allowFrom: z
    .array(z.strictObject({ cluster: z.string().optional(), labels }))
    .min(1, 'at least one allowed source'),
  ports: z
    .array(z.strictObject({ port: z.int().min(1).max(65535), protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP') }))
    .optional(),
});

export const blueprintSchema = z.strictObject({
  apiVersion: z.literal('meshpilot.dev/v1alpha1'),
  kind: z.literal('MeshBlueprint'),
  metadata: z.strictObject({ name: dnsLabel(40), description: z.string().optional() }),
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
    waivers: z.strictObject({ unencryptedCrossRegion: waiverReason.optional() }).default({}),
  }),
  clusters: z.array(clusterSchema).min(1, 'at least one cluster'),
  globalServices: z.array(globalServiceSchema).default([]),
  policies: z.array(policySchema).default([]),
});

export type Blueprint = z.infer<typeof blueprintSchema>;
/** What a user may write (defaults not yet applied). */
export type BlueprintInput = z.input<typeof blueprintSchema>;
export type ClusterSpec = Blueprint['clusters'][number];
export type NodeSpec = ClusterSpec['nodes'][number];
export type LoadBalancerSpec = ClusterSpec['loadBalancer'];
export type GlobalServiceSpec = Blueprint['globalServices'][number];
export type PolicySpec = Blueprint['policies'][number];
