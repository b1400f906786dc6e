// Hubble relay: the seed's rule — get observability running before strict cross-cluster ingress rules are
// relied on, because a packet dropped between continents is otherwise very hard to explain.
import { z } from 'zod';
import { CLUSTER_LABEL } from '../../blueprint/render/mesh-manifests.ts';
import type { ActivityDeps } from '../deps.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { kubectlGet, onCluster, verdict, type ClusterCheckInput } from './verdicts.ts';

const deploymentSchema = z.object({
  spec: z.object({ replicas: z.number().optional() }).default({}),
  status: z.object({ readyReplicas: z.number().optional(), replicas: z.number().optional() }).default({}),
});

/** A policy whose peers are selected by cluster (io.cilium.k8s.policy.cluster) is a strict cross-cluster rule. */
export const hasStrictCrossClusterPolicy = (policiesYaml: string) => policiesYaml.includes(CLUSTER_LABEL);

export async function checkHubbleRelay(deps: ActivityDeps, i: ClusterCheckInput & { policies: string }): Promise<Verdict> {
  const check = 'hubble-relay';
  const strict = hasStrictCrossClusterPolicy(i.policies);
  return onCluster(deps, i, async (access) => {
    const d = await kubectlGet(deps, access, ['deployment', 'hubble-relay', '-n', 'kube-system'], deploymentSchema);
    const want = d?.spec.replicas ?? 1;
    const ready = d?.status.readyReplicas ?? 0;
    const evidence = { deployed: Boolean(d), ready: `${ready}/${want}`, strictCrossClusterPolicies: strict };
    if (d && ready >= want && want > 0) return verdict(check, i.cluster, 'ok', `${i.cluster}: hubble-relay ready (${ready}/${want})`, '', evidence);
    const what = d ? `hubble-relay is not ready (${ready}/${want})` : 'hubble-relay is not deployed';
    const hint = 'enable Hubble in the Cilium values (hubble.relay.enabled: true) and check `cilium hubble port-forward` + `hubble observe --verdict DROPPED` works';
    return strict
      ? verdict(check, i.cluster, 'fail', `${i.cluster}: ${what}, yet strict cross-cluster policies are enforced`, `${hint}; until then, dropped cross-region packets cannot be traced`, evidence)
      : verdict(check, i.cluster, 'warn', `${i.cluster}: ${what}`, `${hint} before enforcing strict cross-cluster policies`, evidence);
  });
}
