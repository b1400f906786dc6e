import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import type { LbFacts } from './lb-diagnosis.ts';
import type { KubeAccess } from './kubeconfig.ts';
import { l2PolicySchema, leaseSchema, listOf, nodeSchema, poolSchema, serviceSchema } from './objects.ts';
import { callTool, classify, parseJson } from './tool-call.ts';

/** Reads what the LB diagnosis needs from the cluster (kubectl get -o json), tolerating kinds not served yet. */
async function getList<T extends z.ZodTypeAny>(deps: ActivityDeps, access: KubeAccess, args: string[], item: T): Promise<z.infer<T>[] | undefined> {
  const r = await callTool(deps, 'kubectl', ['get', ...args, '-o', 'json'], { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/doesn't have a resource type/.test(r.stderr)) return undefined;
    throw classify(r, `kubectl get ${args.join(' ')}`);
  }
  const parsed = listOf(item).safeParse(parseJson(r));
  if (!parsed.success) throw classify({ ...r, stderr: `unexpected shape: ${parsed.error.issues[0]?.message}` }, `kubectl get ${args[0]}`);
  return parsed.data.items;
}

export async function getService(deps: ActivityDeps, access: KubeAccess, namespace: string, name: string) {
  const r = await callTool(deps, 'kubectl', ['get', 'service', name, '-n', namespace, '-o', 'json'], { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/\(NotFound\)/.test(r.stderr)) return undefined;
    throw classify(r, `kubectl get service ${namespace}/${name}`);
  }
  return serviceSchema.parse(parseJson(r));
}

export async function getLeaseHolder(deps: ActivityDeps, access: KubeAccess, namespace: string, name: string): Promise<string | undefined> {
  const r = await callTool(deps, 'kubectl', ['get', 'lease', `cilium-l2announce-${namespace}-${name}`, '-n', 'kube-system', '-o', 'json'], { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/\(NotFound\)/.test(r.stderr)) return undefined;
    throw classify(r, 'kubectl get lease');
  }
  return leaseSchema.parse(parseJson(r)).spec.holderIdentity || undefined;
}

export async function gatherLbFacts(deps: ActivityDeps, access: KubeAccess, namespace: string, name: string): Promise<LbFacts> {
  const [service, pools, policies, nodes, leases, services, cm] = await Promise.all([
    getService(deps, access, namespace, name),
    getList(deps, access, ['ciliumloadbalancerippools.cilium.io'], poolSchema),
    getList(deps, access, ['ciliuml2announcementpolicies.cilium.io'], l2PolicySchema),
    getList(deps, access, ['nodes'], nodeSchema),
    getList(deps, access, ['leases', '-n', 'kube-system'], leaseSchema),
    getList(deps, access, ['services', '-A'], serviceSchema),
    callTool(deps, 'kubectl', ['get', 'configmap', 'cilium-config', '-n', 'kube-system', '-o', 'json'], { env: access.env, retries: 2 }),
  ]);
  let l2Enabled: boolean | undefined;
  if (cm.exitCode === 0) {
    const data = z.object({ data: z.record(z.string(), z.string()).optional() }).parse(parseJson(cm)).data ?? {};
    l2Enabled = data['enable-l2-announcements'] === 'true';
  }
  return { service, pools: pools ?? [], policies, nodes: nodes ?? [], leases: leases ?? [], services: services ?? [], l2Enabled };
}
