// Cilium versions across the mesh: ClusterMesh supports peers one minor apart only during an upgrade, and a
// release left failed/pending means the next change will trip over it.
import { secretRefs, type ActivityDeps } from '../deps.ts';
import { helmRelease } from '../helm.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { rolloutRemedy, verdict, type Evidence } from './verdicts.ts';

export async function checkCiliumVersions(deps: ActivityDeps, i: { mesh: string; clusters: string[]; expected: string; source?: string }): Promise<Verdict> {
  const check = 'cilium-version';
  const releases = await Promise.all(
    i.clusters.map(async (cluster) => ({ cluster, ...(await helmRelease(deps, { kubeconfigRef: secretRefs.kubeconfig(i.mesh, cluster), release: 'cilium', namespace: 'kube-system' })) })),
  );
  const evidence: Evidence = { blueprint: i.expected };
  for (const r of releases) evidence[r.cluster] = `${r.chartVersion ?? 'none'} (${r.status}, revision ${r.revision})`;
  const versions = [...new Set(releases.map((r) => r.chartVersion ?? 'none'))];
  const unhealthy = releases.filter((r) => r.status !== 'deployed');
  const remedy = rolloutRemedy(i.mesh, i.source);
  if (versions.length > 1) {
    return verdict(check, undefined, 'fail', `Cilium differs across clusters: ${releases.map((r) => `${r.cluster} ${r.chartVersion ?? 'none'}`).join(', ')}`,
      `align every cluster on ${i.expected}: re-running the rollout upgrades the odd one (its cilium-install step converges the release)`, evidence, remedy);
  }
  if (unhealthy.length) {
    return verdict(check, undefined, 'fail', `the cilium release is not deployed in ${unhealthy.map((r) => `${r.cluster} (${r.status})`).join(', ')}`,
      '`helm history cilium -n kube-system` shows what happened; re-running the rollout recovers a release stuck pending', evidence, remedy);
  }
  if (versions[0] !== i.expected) {
    return verdict(check, undefined, 'warn', `every cluster runs Cilium ${versions[0]}, the blueprint says ${i.expected}`,
      'someone upgraded outside meshpilot: update the blueprint, or re-run the rollout to return to its version', evidence, remedy);
  }
  return verdict(check, undefined, 'ok', `Cilium ${i.expected} in all ${releases.length} clusters`, '', evidence);
}
