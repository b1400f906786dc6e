// Pure: what `meshpilot detach MESH CLUSTER` will do, step by step (`--plan` prints it before anything runs). A
// detach reads everything else from the live mesh, so the plan names the clusters only by their roles.
import { DETACH_STEPS, type DetachStepName } from '../contracts/steps.ts';
import type { StepPlan } from './plan.ts';

export function planDetach(mesh: string, cluster: string): StepPlan[] {
  const details: Record<DetachStepName, string[]> = {
    'detach-preflight': [
      `LEAVING ${cluster}: its kubeconfig mesh/${mesh}/${cluster}/kubeconfig must be in the secret store, and its Cilium must run with a clustermesh-apiserver`,
      `REMAINING: the peers in ${cluster}'s clustermesh.config.clusters, and theirs; a peer meshpilot holds no kubeconfig for is named, never changed`,
    ],
    'remove-peer': [`PEERS: each remaining cluster's entries without ${cluster} (the chart version stays the deployed one; every other value is kept)`],
    'detach-verify': [`every remaining peer still connected, ${cluster} no longer configured`],
    'global-services': ['gate: an operator may accept an expected loss with `meshpilot override ID --step global-services --reason …`'],
    isolate: [`${cluster}: clustermesh.config.clusters: [] (Cilium, its clustermesh-apiserver and every workload keep running)`],
  };
  return DETACH_STEPS.map((d) => ({ name: d.name, title: d.title, skippable: d.skippable, gate: d.gate, runs: [...d.runs], details: details[d.name] }));
}
