// Cilium versions across the mesh: ClusterMesh supports peers one minor apart only during an upgrade, and a
// release left failed/pending means the next change will trip over it.
import { minorOf, minorsApart } from '../../blueprint/versions.ts';
import { secretRefs, type ActivityDeps } from '../deps.ts';
import { helmRelease } from '../helm.ts';
import { withKubeconfig } from '../kube/kubeconfig.ts';
import { readCilium } from '../upgrade/reads.ts';
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
  // the clustermesh-apiserver must run the agents' version (cilium-cli once left it behind: cilium/cilium#26462)
  const skewed: string[] = [];
  for (const r of releases.filter((x) => x.status !== 'absent')) {
    const f = await withKubeconfig(deps, secretRefs.kubeconfig(i.mesh, r.cluster), (access) => readCilium(deps, access));
    const agents = f.versions.cilium ?? [];
    const apiserver = f.versions['clustermesh-apiserver'] ?? [];
    if (apiserver.length && (agents.length !== 1 || apiserver.some((v) => v !== agents[0]))) {
      skewed.push(`${r.cluster}: clustermesh-apiserver ${apiserver.join('/')}, agents ${agents.join('/') || 'none'}`);
    }
  }
  if (skewed.length) {
    evidence.apiserverSkew = skewed.join('; ');
    return verdict(check, undefined, 'fail', `the clustermesh-apiserver runs another version than its agents (${skewed.join('; ')})`,
      'upgrade both from the same chart (`meshpilot upgrade FILE` re-runs cilium-verify, or re-run the rollout); `kubectl -n kube-system rollout status deploy/clustermesh-apiserver` shows a stuck one', evidence, remedy);
  }
  if (versions.length > 1) {
    const known = versions.filter((v) => v !== 'none');
    const oldest = known.reduce((a, b) => (minorsApart(b, a) > 0 ? b : a), known[0] ?? 'none');
    const newest = known.reduce((a, b) => (minorsApart(a, b) > 0 ? b : a), known[0] ?? 'none');
    const listed = releases.map((r) => `${r.cluster} ${r.chartVersion ?? 'none'}`).join(', ');
    if (known.length === versions.length && minorsApart(oldest, newest) <= 1) {
      // one minor apart: what a mesh looks like while `meshpilot upgrade` moves it cluster by cluster
      return verdict(check, undefined, 'warn', `Cilium differs across clusters, within one minor (${listed}): supported while an upgrade is under way`,
        `finish the upgrade so every cluster runs ${i.expected} (meshpilot upgrade FILE)`, evidence, remedy);
    }
    return verdict(check, undefined, 'fail', `Cilium differs across clusters: ${listed}${known.length === versions.length ? ` — ${minorOf(oldest)} and ${minorOf(newest)} are more than one minor apart, which ClusterMesh does not support` : ''}`,
      `align every cluster on ${i.expected}: one minor at a time with meshpilot upgrade, or re-run the rollout for a cluster left behind on the same minor`, evidence, remedy);
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
