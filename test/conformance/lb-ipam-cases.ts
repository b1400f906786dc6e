import { stringify as stringifyYaml } from 'yaml';

// kubectl reads YAML 1.1 (an unquoted No is a boolean): write what it reads as intended
const stringify = (v: unknown) => stringifyYaml(v, { version: '1.1' });

/**
 * The LB-IPAM cases the lab is held to: each is a sequence of manifests applied to a cluster (the real stack
 * and the lab alike), then the Services' and pools' status are compared, and `meshpilot diagnose lb` is asked
 * about one Service. Every object carries the case label and every pool selects only its own case's
 * Services, so a case never sees another's leftovers; each case has its own addresses.
 */
export const CASE_LABEL = 'conformance.meshpilot.dev/case';

type Block = { cidr: string } | { start: string; stop?: string };

export function pool(caseId: string, name: string, blocks: Block[], opts: { select?: Record<string, string> | 'any'; disabled?: boolean; allowFirstLastIPs?: 'Yes' | 'No' } = {}): string {
  const selector = opts.select === 'any' ? undefined : { matchLabels: { [CASE_LABEL]: caseId, ...(opts.select ?? {}) } };
  return stringify({
    apiVersion: 'cilium.io/v2alpha1',
    kind: 'CiliumLoadBalancerIPPool',
    metadata: { name, labels: { [CASE_LABEL]: caseId } },
    spec: {
      blocks,
      ...(selector ? { serviceSelector: selector } : {}),
      ...(opts.disabled !== undefined ? { disabled: opts.disabled } : {}),
      ...(opts.allowFirstLastIPs ? { allowFirstLastIPs: opts.allowFirstLastIPs } : {}),
    },
  });
}

export function service(
  caseId: string,
  name: string,
  opts: { labels?: Record<string, string>; requestIps?: string; loadBalancerIP?: string; ipFamilyPolicy?: string; ipFamilies?: string[]; port?: number } = {},
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'default',
      labels: { [CASE_LABEL]: caseId, ...(opts.labels ?? {}) },
      ...(opts.requestIps ? { annotations: { 'lbipam.cilium.io/ips': opts.requestIps } } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      selector: { app: name },
      ports: [{ name: 'https', port: opts.port ?? 443, protocol: 'TCP' }],
      ...(opts.loadBalancerIP ? { loadBalancerIP: opts.loadBalancerIP } : {}),
      ...(opts.ipFamilyPolicy ? { ipFamilyPolicy: opts.ipFamilyPolicy } : {}),
      ...(opts.ipFamilies ? { ipFamilies: opts.ipFamilies } : {}),
    },
  });
}

export type Step = { apply: string } | { wait: 'creation-second' };

export interface NormalizedCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
  /** pools: 'current' when it equals metadata.generation; Services: whether it is set at all */
  observedGeneration?: string | boolean;
  lastTransitionTime: boolean;
}
export interface Snapshot {
  services: Record<string, { ingress: { ip: string; ipMode?: string }[]; loadBalancer: unknown; conditions: NormalizedCondition[] }>;
  pools: Record<string, { disabled: unknown; conditions: NormalizedCondition[] }>;
}

export interface LbCase {
  id: string;
  title: string;
  steps: Step[];
  services: string[];
  pools: string[];
  /** what the real operator writes, spelled out (the lab must then agree) */
  expect: (s: Snapshot) => void;
  /** the Service `meshpilot diagnose lb` is asked about, and what its reason and hint must say */
  diagnose?: { service: string; ok: boolean; address?: string; reason: RegExp; hint?: RegExp };
}
