// The meshes of a capacity run: N independent 2-cluster meshes (the benchmark's 1 CP + 1 worker per cluster), each
// under its own mesh name, so secrets, workflow ids and labs never meet.
import { parse, stringify } from 'yaml';
import { formatIssue, loadBlueprintText } from '../blueprint/load.ts';
import { planRollout, type RolloutPlan } from '../blueprint/plan.ts';
import { benchBlueprintYaml } from './blueprint.ts';

/** `cap<tag>-<k>`: the tag (letters and digits) tells runs apart, k the mesh within a run. */
export const capacityMeshName = (tag: string, k: number) => `cap${tag}-${k}`;

/** The mesh a workflow id belongs to (`rollout-<mesh>-<revision>[-cluster-<name>]`), for the meshes of a run. */
export function meshOfWorkflowId(workflowId: string): string | undefined {
  return /^rollout-(cap[0-9a-z]+-\d+)-/.exec(workflowId)?.[1];
}

export function capacityPlans(n: number, tag: string): RolloutPlan[] {
  if (!/^[0-9a-z]+$/.test(tag)) throw new Error(`capacity tag: letters and digits only, got ${JSON.stringify(tag)}`);
  const template = parse(benchBlueprintYaml(2));
  return Array.from({ length: n }, (_, i) => {
    const doc = structuredClone(template);
    doc.metadata.name = capacityMeshName(tag, i + 1);
    const loaded = loadBlueprintText(stringify(doc));
    if (!loaded.ok || !loaded.blueprint) {
      throw new Error(`capacity blueprint ${doc.metadata.name} is invalid:\n${loaded.errors.map((e) => formatIssue('(capacity)', e)).join('\n')}`);
    }
    return planRollout(loaded.blueprint);
  });
}
