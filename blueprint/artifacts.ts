// The files `meshpilot plan --out DIR` writes: every artifact a step hands to a tool, byte for byte as the rollout
// hands it (the workflows compute them with the same functions, blueprint/render/step-artifacts.ts), so a reviewer
// (or a GitOps repo) sees exactly what each step applies. Pure: the CLI does the writing.
import { ARTIFACT } from './artifact-paths.ts';
import type { RolloutPlan } from './plan.ts';
import { canaryManifests, helmValuesAt, meshManifests, pinnedApiserverIp } from './render/step-artifacts.ts';
import { toYaml } from './render/yaml.ts';

export interface Artifact {
  /** relative, forward slashes */
  path: string;
  content: string;
}

export function planArtifacts(plan: RolloutPlan): Artifact[] {
  const out: Artifact[] = [{ path: ARTIFACT.plan, content: `${JSON.stringify(plan, null, 2)}\n` }];
  // What connect lists for each peer: its pinned address (a peer without one gets its address at run time).
  const peers = plan.clusters.map((c) => {
    const pinned = pinnedApiserverIp(c.cilium);
    return { name: c.name, ...(pinned ? { address: pinned } : {}) };
  });
  for (const c of plan.clusters) {
    out.push(
      { path: ARTIFACT.patchAll(c.name), content: c.talos.patches.all },
      { path: ARTIFACT.patchControlplane(c.name), content: c.talos.patches.controlplane },
      { path: ARTIFACT.patchWorker(c.name), content: c.talos.patches.worker },
      { path: ARTIFACT.values(c.name), content: toYaml(helmValuesAt['cilium-install'](c.cilium)) },
      { path: ARTIFACT.clustermeshValues(c.name), content: toYaml(helmValuesAt['clustermesh-enable'](c.cilium)) },
    );
    if (plan.meshPhase.method === 'helm') out.push({ path: ARTIFACT.connectValues(c.name), content: toYaml(helmValuesAt.connect(c.cilium, c.name, peers)) });
    out.push({ path: ARTIFACT.lbIpam(c.name), content: c.lbIpam.manifests }, { path: ARTIFACT.globalCanary(c.name), content: canaryManifests(c.name) });
    const manifests = meshManifests(plan.meshPhase.manifestsByCluster[c.name]);
    if (manifests) out.push({ path: ARTIFACT.meshManifests(c.name), content: manifests });
  }
  return out;
}
