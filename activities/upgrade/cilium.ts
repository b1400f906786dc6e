// After a Cilium upgrade: every component ready and running the chart's version — the clustermesh-apiserver
// included, which cilium-cli once left on the old version (cilium/cilium#26462, cilium/cilium-cli#689).
import { blocked } from '../../contracts/failures.ts';
import type { ActivityDeps } from '../deps.ts';
import { withKubeconfig } from '../kube/kubeconfig.ts';
import { pollWithin } from '../poll.ts';
import { readCilium, type CiliumFacts } from './reads.ts';

/** The components whose version must be the chart's (hubble-relay and envoy follow the chart too, when present). */
const COMPONENTS = ['cilium', 'cilium-operator', 'clustermesh-apiserver', 'hubble-relay'] as const;

export function versionDrift(f: CiliumFacts, version: string): string[] {
  return COMPONENTS.flatMap((c) => {
    const v = f.versions[c];
    if (!v?.length) return [];
    const off = v.filter((x) => x !== version);
    return off.length ? [`${c} runs ${v.join(' and ')}`] : [];
  });
}

export async function ciliumAtVersion(deps: ActivityDeps, i: { cluster: string; kubeconfigRef: string; version: string }): Promise<{ summary: string }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    let last: CiliumFacts = { versions: {}, notReady: [] };
    const ok = await pollWithin(
      deps.pollBudgetMs,
      Math.max(100, Math.min(2_000, deps.pollBudgetMs / 20)),
      `${i.cluster}: Cilium ${i.version} everywhere`,
      async () => {
        last = await readCilium(deps, access);
        return last.notReady.length === 0 && versionDrift(last, i.version).length === 0 && (last.versions.cilium?.length ?? 0) > 0 ? true : undefined;
      },
      () => ({ notReady: last.notReady.join(', '), drift: versionDrift(last, i.version).join('; ') }),
    );
    if (ok) return { summary: `Cilium ${i.version}: ${Object.entries(last.versions).map(([c, v]) => `${c} ${v.join('/')}`).join(', ')}` };
    const drift = versionDrift(last, i.version);
    const apiserverBehind = drift.some((d) => d.startsWith('clustermesh-apiserver'));
    throw blocked({
      reason: `Cilium in ${i.cluster} is not all at ${i.version}: ${[...drift, ...last.notReady.map((n) => `${n} not ready`)].join('; ') || 'no agents found'}`,
      hint: apiserverBehind
        ? 'the clustermesh-apiserver must run the agents\' version (cilium/cilium#26462): check `kubectl -n kube-system rollout status deploy/clustermesh-apiserver` and `helm history cilium -n kube-system`, then resume'
        : 'check `cilium status` and `kubectl -n kube-system rollout status ds/cilium`; a rollout that does not finish is usually an image pull or a crashing agent (kubectl -n kube-system logs ds/cilium); then resume',
      evidence: Object.fromEntries([...Object.entries(last.versions).map(([c, v]) => [c, v.join('/')]), ['notReady', last.notReady.join(',')]]),
    });
  });
}
