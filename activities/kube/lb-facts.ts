import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import type { LbFacts } from './lb-diagnosis.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { l2PolicySchema, leaseSchema, listOf, nodeSchema, poolSchema, serviceSchema } from './objects.ts';

const namedSchema = z.object({ metadata: z.object({ name: z.string() }) });
import { callTool, classify, parseJson } from './tool-call.ts';

/** Only the tool environment: `meshpilot diagnose lb` reads a cluster outside any worker. */
type ToolDeps = Pick<ActivityDeps, 'tools'>;

/** Global kubectl flags of this access (`--context` when the caller picked one). */
const kubectlArgs = (access: KubeAccess, args: string[]) => [...(access.context ? ['--context', access.context] : []), ...args];

/** Reads what the LB diagnosis needs from the cluster (kubectl get -o json), tolerating kinds not served yet. */
async function getList<T extends z.ZodTypeAny>(deps: ToolDeps, access: KubeAccess, args: string[], item: T): Promise<z.infer<T>[] | undefined> {
  const r = await callTool(deps, 'kubectl', kubectlArgs(access, ['get', ...args, '-o', 'json']), { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/doesn't have a resource type/.test(r.stderr)) return undefined;
    throw classify(r, `kubectl get ${args.join(' ')}`);
  }
  const parsed = listOf(item).safeParse(parseJson(r));
  if (!parsed.success) throw classify({ ...r, stderr: `unexpected shape: ${parsed.error.issues[0]?.message}` }, `kubectl get ${args[0]}`);
  return parsed.data.items;
}

export async function getService(deps: ToolDeps, access: KubeAccess, namespace: string, name: string) {
  const r = await callTool(deps, 'kubectl', kubectlArgs(access, ['get', 'service', name, '-n', namespace, '-o', 'json']), { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/\(NotFound\)/.test(r.stderr)) return undefined;
    throw classify(r, `kubectl get service ${namespace}/${name}`);
  }
  return serviceSchema.parse(parseJson(r));
}

export async function getLeaseHolder(deps: ToolDeps, access: KubeAccess, namespace: string, name: string): Promise<string | undefined> {
  const r = await callTool(deps, 'kubectl', kubectlArgs(access, ['get', 'lease', `cilium-l2announce-${namespace}-${name}`, '-n', 'kube-system', '-o', 'json']), { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/\(NotFound\)/.test(r.stderr)) return undefined;
    throw classify(r, 'kubectl get lease');
  }
  return leaseSchema.parse(parseJson(r)).spec.holderIdentity || undefined;
}

export async function gatherLbFacts(deps: ToolDeps, access: KubeAccess, namespace: string, name: string): Promise<LbFacts> {
  const [service, pools, policies, nodes, leases, services, cm, bgpClusterConfigs, bgpPeeringPolicies] = await Promise.all([
    getService(deps, access, namespace, name),
    getList(deps, access, ['ciliumloadbalancerippools.cilium.io'], poolSchema),
    getList(deps, access, ['ciliuml2announcementpolicies.cilium.io'], l2PolicySchema),
    getList(deps, access, ['nodes'], nodeSchema),
    getList(deps, access, ['leases', '-n', 'kube-system'], leaseSchema),
    getList(deps, access, ['services', '-A'], serviceSchema),
    callTool(deps, 'kubectl', kubectlArgs(access, ['get', 'configmap', 'cilium-config', '-n', 'kube-system', '-o', 'json']), { env: access.env, retries: 2 }),
    getList(deps, access, ['ciliumbgpclusterconfigs.cilium.io'], namedSchema),
    getList(deps, access, ['ciliumbgppeeringpolicies.cilium.io'], namedSchema),
  ]);
  let l2Enabled: boolean | undefined;
  if (cm.exitCode === 0) {
    const data = z.object({ data: z.record(z.string(), z.string()).optional() }).parse(parseJson(cm)).data ?? {};
    l2Enabled = data['enable-l2-announcements'] === 'true';
  }
  const bgpConfigured = Boolean(bgpClusterConfigs?.length || bgpPeeringPolicies?.length);
  return {
    service,
    pools: pools ?? [],
    poolsServed: pools !== undefined,
    policies,
    nodes: nodes ?? [],
    leases: leases ?? [],
    services: services ?? [],
    l2Enabled,
    ...(bgpConfigured ? { bgpConfigured } : {}),
  };
}
