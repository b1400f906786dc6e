// `meshpilot upgrade FILE --plan`: the upgrade's survey alone, read-only, so the plan can be shown (and refused)
// before anything runs. The CLI plans from its result with the same pure function the upgrade runs.
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { MeshSurvey } from '../blueprint/upgrade/survey.ts';
import { surveyMesh } from './mesh-upgrade.ts';

export async function upgradeSurvey(input: { plan: RolloutPlan; siteQueues?: boolean }): Promise<MeshSurvey> {
  return surveyMesh(input);
}
