// Global Services and cross-cluster policies, applied in every cluster they name (the same manifest in each:
// a global service is matched across clusters by name and namespace).
import type { Blueprint, GlobalServiceSpec, PolicySpec } from '../schema.ts';
import { multiDoc } from './yaml.ts';

/** Cilium's label for the cluster an endpoint belongs to, usable in policy selectors. */
export const CLUSTER_LABEL = 'io.cilium.k8s.policy.cluster';

export function globalServiceManifest(svc: GlobalServiceSpec): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: svc.name,
      namespace: svc.namespace,
      annotations: {
        'service.cilium.io/global': 'true',
        ...(svc.affinity !== 'none' ? { 'service.cilium.io/affinity': svc.affinity } : {}),
        ...(svc.shared ? {} : { 'service.cilium.io/shared': 'false' }),
      },
    },
    spec: {
      type: 'ClusterIP',
      selector: svc.selector,
      ports: svc.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: p.port,
        ...(p.targetPort ? { targetPort: p.targetPort } : {}),
        protocol: p.protocol,
      })),
    },
  };
}

export function policyManifest(policy: PolicySpec): Record<string, unknown> {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: policy.name, namespace: policy.namespace },
    spec: {
      endpointSelector: { matchLabels: policy.endpointSelector },
      ingress: [
        {
          fromEndpoints: policy.allowFrom.map((src) => ({
            matchLabels: { ...src.labels, ...(src.cluster ? { [CLUSTER_LABEL]: src.cluster } : {}) },
          })),
          ...(policy.ports
            ? { toPorts: [{ ports: policy.ports.map((p) => ({ port: String(p.port), protocol: p.protocol })) }] }
            : {}),
        },
      ],
    },
  };
}

const appliesTo = (item: { clusters?: string[] | undefined }, cluster: string) =>
  item.clusters === undefined || item.clusters.includes(cluster);

/** All global Services as one multi-doc YAML (every cluster gets the ones that name it, or all). */
export function globalServicesYaml(bp: Blueprint, cluster?: string): string {
  return multiDoc(bp.globalServices.filter((s) => !cluster || appliesTo(s, cluster)).map(globalServiceManifest));
}

export function policiesYaml(bp: Blueprint, cluster?: string): string {
  return multiDoc(bp.policies.filter((p) => !cluster || appliesTo(p, cluster)).map(policyManifest));
}
