// The rollout's canary global Service must still see backends from the other clusters: the end-to-end proof
// that global services fail over.
import type { ActivityDeps } from '../deps.ts';
import { globalServiceBackends } from '../cilium.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { rolloutRemedy, verdict, type ClusterCheckInput } from './verdicts.ts';
import { secretRefs } from '../deps.ts';

export async function checkGlobalCanary(
  deps: ActivityDeps,
  i: ClusterCheckInput & { namespace: string; name: string; remotePodCidrs: string[] },
): Promise<Verdict> {
  const check = 'global-canary';
  const b = await globalServiceBackends(deps, { kubeconfigRef: secretRefs.kubeconfig(i.mesh, i.cluster), namespace: i.namespace, name: i.name, remotePodCidrs: i.remotePodCidrs });
  const evidence = { service: `${i.namespace}/${i.name}`, localBackends: b.local, remoteBackends: b.remote };
  if (b.remote > 0) return verdict(check, i.cluster, 'ok', `${i.cluster}: canary sees ${b.remote} remote and ${b.local} local backend(s)`, '', evidence);
  const summary =
    b.local === 0
      ? `${i.cluster}: the canary global Service ${i.namespace}/${i.name} has no backends at all (missing, or its pods are not ready)`
      : `${i.cluster}: the canary global Service sees ${b.local} local and no remote backends`;
  return verdict(check, i.cluster, 'fail', summary,
    'global services will not fail over: check the clustermesh-status verdicts first; re-running the rollout re-deploys the canary (global-canary step)',
    evidence, rolloutRemedy(i.mesh, i.source));
}
