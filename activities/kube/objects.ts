import { z } from 'zod';

/** The slice of Kubernetes objects the adapters read, validated at the boundary (kubectl -o json). */
const meta = z.object({
  name: z.string(),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const condition = z.object({ type: z.string(), status: z.string(), reason: z.string().optional(), message: z.string().optional() });
export const selectorSchema = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional(),
    matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
  })
  .nullish();
export type Selector = z.infer<typeof selectorSchema>;

export const serviceSchema = z.object({
  metadata: meta,
  spec: z
    .object({
      type: z.string().optional(),
      clusterIP: z.string().optional(),
      loadBalancerClass: z.string().optional(),
      loadBalancerIP: z.string().optional(),
    })
    .passthrough()
    .default({}),
  status: z
    .object({
      loadBalancer: z.object({ ingress: z.array(z.object({ ip: z.string().optional(), hostname: z.string().optional() })).optional() }).optional(),
      conditions: z.array(condition).optional(),
    })
    .optional(),
});
export type Service = z.infer<typeof serviceSchema>;

export const poolSchema = z.object({
  metadata: meta,
  spec: z
    .object({
      blocks: z.array(z.object({ cidr: z.string().optional(), start: z.string().optional(), stop: z.string().optional() })).optional(),
      serviceSelector: selectorSchema,
      disabled: z.boolean().optional(),
    })
    .default({}),
  status: z.object({ conditions: z.array(condition).optional() }).optional(),
});
export type Pool = z.infer<typeof poolSchema>;

export const l2PolicySchema = z.object({
  metadata: meta,
  spec: z
    .object({ serviceSelector: selectorSchema, nodeSelector: selectorSchema, loadBalancerIPs: z.boolean().optional(), externalIPs: z.boolean().optional() })
    .default({}),
});
export type L2Policy = z.infer<typeof l2PolicySchema>;

export const nodeSchema = z.object({
  metadata: meta,
  status: z.object({ addresses: z.array(z.object({ type: z.string(), address: z.string() })).optional() }).optional(),
});
export type Node = z.infer<typeof nodeSchema>;

export const leaseSchema = z.object({ metadata: meta, spec: z.object({ holderIdentity: z.string().optional() }).default({}) });
export type Lease = z.infer<typeof leaseSchema>;

export const listOf = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item) });

export const conditionOf = (o: { status?: { conditions?: z.infer<typeof condition>[] } }, ...types: string[]) =>
  o.status?.conditions?.find((c) => types.includes(c.type));

export function selectorMatches(sel: Selector, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export const serviceLabels = (s: Service) => ({
  ...(s.metadata.labels ?? {}),
  'io.kubernetes.service.namespace': s.metadata.namespace ?? 'default',
  'io.kubernetes.service.name': s.metadata.name,
});

export const ingressIps = (s: Service) => (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);
export const internalIp = (n: Node) => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

/** cilium-cli clustermesh/clustermesh.go Status (JSON): connectivity.clusters[name].{configured,connected} counts agents. */
export const meshStatusSchema = z.object({
  connectivity: z
    .object({
      clusters: z.record(z.string(), z.object({ configured: z.number().optional(), connected: z.number().optional() })).optional(),
      total: z.number().optional(),
      not_ready: z.number().optional(),
    })
    .optional(),
});
