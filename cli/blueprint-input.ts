import { formatIssue, loadBlueprintFile } from '../blueprint/load.ts';
import { planRollout, type RolloutPlan } from '../blueprint/plan.ts';
import { CliError } from './io.ts';

/** Loads, validates and plans a blueprint file; an invalid one is a CliError listing every problem. */
export async function planFromFile(file: string, opts: { strict?: boolean } = {}): Promise<RolloutPlan> {
  const loaded = await loadBlueprintFile(file, { strict: opts.strict });
  if (!loaded.ok || !loaded.blueprint) {
    throw new CliError(
      `${file} is not a valid blueprint:\n${loaded.errors.map((e) => `  ${formatIssue(file, e)}`).join('\n')}`,
      1,
      `run: meshpilot validate ${file}`,
    );
  }
  return planRollout(loaded.blueprint, { strict: opts.strict });
}
