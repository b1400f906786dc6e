// The files `meshpilot plan --out DIR` writes: every rendered artifact under a stable relative path, so a
// reviewer (or a GitOps repo) sees exactly what each step will apply. Pure: the CLI does the writing.
import { toYaml } from './render/yaml.ts';
import type { RolloutPlan } from './plan.ts';

export interface Artifact {
  /** relative, forward slashes */
  path: string;
  content: string;
}

export function planArtifacts(plan: RolloutPlan): Artifact[] {
  const out: Artifact[] = [{ path: 'plan.json', content: `${JSON.stringify(plan, null, 2)}\n` }];
  for (const c of plan.clusters) {
    const dir = c.name;
    out.push(
      { path: `${dir}/talos/patch-all.yaml`, content: c.talos.patches.all },
      { path: `${dir}/talos/patch-controlplane.yaml`, content: c.talos.patches.controlplane },
      { path: `${dir}/talos/patch-worker.yaml`, content: c.talos.patches.worker },
      { path: `${dir}/cilium/values.yaml`, content: toYaml(c.cilium.values) },
      { path: `${dir}/cilium/clustermesh-values.yaml`, content: toYaml(c.cilium.clustermeshValues) },
      { path: `${dir}/cilium/peers-values.yaml`, content: toYaml(plan.meshPhase.peerValues[c.name] ?? {}) },
      { path: `${dir}/lb-ipam.yaml`, content: c.lbIpam.manifests },
    );
    const m = plan.meshPhase.manifestsByCluster[c.name];
    if (m?.globalServices) out.push({ path: `${dir}/global-services.yaml`, content: m.globalServices });
    if (m?.policies) out.push({ path: `${dir}/policies.yaml`, content: m.policies });
  }
  return out;
}
