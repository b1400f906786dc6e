import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { blocked, fatal } from '../contracts/failures.ts';
import type { ActivityDeps } from './deps.ts';
import { withKubeconfig, type KubeAccess } from './kube/kubeconfig.ts';
import { diagnoseLoadBalancer } from './kube/lb-diagnosis.ts';
import { gatherLbFacts, getLeaseHolder, getService } from './kube/lb-facts.ts';
import { ingressIps } from './kube/objects.ts';
import { callTool, classify, parseJson } from './kube/tool-call.ts';
import { helmArgv } from './helm/argv.ts';
import { pollWithin } from './poll.ts';

/**
 * Kubernetes-side adapters: tool versions, manifests, and the LoadBalancer checks that turn a silent
 * `<pending>` into a diagnosis (lb-diagnosis.ts).
 */
const POLL_MS = 500;

export async function toolVersions(deps: ActivityDeps): Promise<{ helm: string; kubectl: string; cilium: string }> {
  const [h, k, c] = await Promise.all([
    callTool(deps, 'helm', helmArgv.version(), { retries: 1, timeoutMs: 20_000 }),
    callTool(deps, 'kubectl', ['version', '--client', '-o', 'json'], { retries: 1, timeoutMs: 20_000 }),
    callTool(deps, 'cilium', ['version', '--client'], { retries: 1, timeoutMs: 20_000 }),
  ]);
  if (h.exitCode !== 0) throw classify(h, 'helm version', 'install helm v3.16');
  if (k.exitCode !== 0) throw classify(k, 'kubectl version', 'install kubectl v1.32');
  if (c.exitCode !== 0) throw classify(c, 'cilium version', 'install cilium-cli v0.16');
  const kubectl = z.object({ clientVersion: z.object({ gitVersion: z.string() }) }).safeParse(parseJson(k));
  const cilium = /^cilium-cli:\s+(\S+)/m.exec(c.stdout)?.[1];
  if (!kubectl.success || !cilium) throw fatal('could not read the kubectl/cilium client versions', 'check the tools are the pinned ones');
  return { helm: h.stdout.trim().replace(/\+.*$/, ''), kubectl: kubectl.data.clientVersion.gitVersion, cilium };
}

async function apply(deps: ActivityDeps, access: KubeAccess, manifests: string): Promise<string[]> {
  const r = await callTool(deps, 'kubectl', ['apply', '-f', '-'], { env: access.env, input: manifests, retries: 2 });
  if (r.exitCode !== 0) {
    // CRDs are registered by cilium-operator after it starts: a missing kind right after install is a matter of time
    if (/no matches for kind|ensure CRDs are installed first/.test(r.stderr)) throw classify({ ...r, stderr: `${r.stderr}\nServiceUnavailable: CRD not served yet` }, 'kubectl apply');
    throw classify(r, 'kubectl apply', 'check the manifests with kubectl apply --dry-run=server');
  }
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** kubectl apply is idempotent by itself: re-applying prints `unchanged`. */
export async function applyManifests(deps: ActivityDeps, i: { kubeconfigRef: string; manifests: string }): Promise<{ results: string[] }> {
  if (!i.manifests.trim()) return { results: [] };
  for (const d of parseAllDocuments(i.manifests)) {
    if (d.errors.length) throw fatal(`manifests are not valid YAML: ${d.errors[0]!.message}`);
  }
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => ({ results: await apply(deps, access, i.manifests) }));
}

/** The throwaway LoadBalancer Service that proves a pool and its announcement work before anything depends on them. */
export const LB_CANARY = { namespace: 'kube-system', name: 'meshpilot-lb-canary' } as const;
const canaryManifest = `apiVersion: v1
kind: Service
metadata:
  name: ${LB_CANARY.name}
  namespace: ${LB_CANARY.namespace}
  labels:
    app.kubernetes.io/managed-by: meshpilot
    meshpilot.dev/lb-canary: "true"
spec:
  type: LoadBalancer
  selector:
    meshpilot.dev/lb-canary: "true"
  ports:
  - name: probe
    port: 2379
    protocol: TCP
`;

async function waitCrdsServed(deps: ActivityDeps, access: KubeAccess, budgetMs: number): Promise<void> {
  const crds = ['ciliumloadbalancerippools.cilium.io', 'ciliuml2announcementpolicies.cilium.io'];
  const ok = await pollWithin(budgetMs, POLL_MS, 'Cilium LB-IPAM CRDs', async () => {
    for (const crd of crds) {
      const r = await callTool(deps, 'kubectl', ['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=5s'], { env: access.env, retries: 2 });
      if (r.exitCode !== 0) {
        if (/\(NotFound\)|timed out waiting/.test(r.stderr)) return undefined;
        throw classify(r, `kubectl wait crd/${crd}`);
      }
    }
    return true;
  });
  if (!ok) {
    throw blocked({
      reason: 'the Cilium LB-IPAM CRDs are not Established: cilium-operator has not registered them',
      hint: 'check that cilium-operator runs (cilium status) — it creates the CRDs at start-up',
      evidence: { crds: crds.join(',') },
    });
  }
}

/**
 * Polls a LoadBalancer Service until it has an address and (when L2 announces it) a lease holder, then
 * diagnoses from the cluster's own state.
 */
async function awaitLoadBalancer(deps: ActivityDeps, access: KubeAccess, namespace: string, name: string, requireAnnouncer: boolean) {
  const ready = await pollWithin(deps.pollBudgetMs, POLL_MS, `LoadBalancer ${namespace}/${name}`, async () => {
    const svc = await getService(deps, access, namespace, name);
    const ip = svc ? ingressIps(svc)[0] : undefined;
    if (!ip) return undefined;
    if (!requireAnnouncer) return { address: ip };
    const holder = await getLeaseHolder(deps, access, namespace, name);
    return holder ? { address: ip, announcedBy: holder } : undefined;
  });
  if (ready) return ready;
  const facts = await gatherLbFacts(deps, access, namespace, name);
  if (!requireAnnouncer) facts.bgpConfigured = true;
  const verdict = diagnoseLoadBalancer(facts, { namespace, name });
  if (verdict.ok) return { address: verdict.address, ...(verdict.announcedBy ? { announcedBy: verdict.announcedBy } : {}) };
  throw blocked(verdict.details);
}

const usesBgp = (manifests: string) => /kind:\s*CiliumBGP(ClusterConfig|PeeringPolicy)/.test(manifests);

export async function ensureLbIpam(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; manifests: string; canary?: boolean },
): Promise<{ canaryAddress: string; announcedBy?: string }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    await waitCrdsServed(deps, access, deps.pollBudgetMs);
    await apply(deps, access, i.manifests);
    if (i.canary === false) return { canaryAddress: '' };
    await apply(deps, access, canaryManifest);
    const got = await awaitLoadBalancer(deps, access, LB_CANARY.namespace, LB_CANARY.name, !usesBgp(i.manifests));
    // The canary must not keep an address a pinned clustermesh-apiserver IP may need.
    await deleteCanary(deps, access);
    return { canaryAddress: got.address, ...(got.announcedBy ? { announcedBy: got.announcedBy } : {}) };
  });
}

async function deleteCanary(deps: ActivityDeps, access: KubeAccess): Promise<void> {
  const r = await callTool(deps, 'kubectl', ['delete', 'service', LB_CANARY.name, '-n', LB_CANARY.namespace, '--ignore-not-found'], { env: access.env, retries: 2 });
  if (r.exitCode !== 0) throw classify(r, 'kubectl delete the LB canary');
}

export async function clustermeshApiserverAddress(deps: ActivityDeps, i: { kubeconfigRef: string }): Promise<{ address: string }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    // a canary left by an interrupted lb-ipam step could hold the apiserver's pinned IP
    await deleteCanary(deps, access);
    const cm = await callTool(deps, 'kubectl', ['get', 'configmap', 'cilium-config', '-n', 'kube-system', '-o', 'json'], { env: access.env, retries: 2 });
    const l2 = cm.exitCode === 0 && (parseJson<{ data?: Record<string, string> }>(cm).data?.['enable-l2-announcements'] === 'true');
    const got = await awaitLoadBalancer(deps, access, 'kube-system', 'clustermesh-apiserver', l2);
    return { address: got.address };
  });
}
