// A blueprint file to a rollout plan: what every surface (CLI, chat, tests) does before it starts or amends a run.
import type { BlueprintIssue } from './issues.ts';
import { formatIssue, loadBlueprintFile } from './load.ts';
import { planRollout, type RolloutPlan } from './plan.ts';

/** The file is not a valid blueprint: every problem, each with its line where known. */
export class BlueprintFileInvalid extends Error {
  override name = 'BlueprintFileInvalid';
  constructor(
    readonly file: string,
    readonly errors: BlueprintIssue[],
  ) {
    super(`${file} is not a valid blueprint:\n${errors.map((e) => `  ${formatIssue(file, e)}`).join('\n')}`);
  }
}

/** Loads, validates and plans a blueprint file; an invalid one throws BlueprintFileInvalid listing every problem. */
export async function planFromFile(file: string, opts: { strict?: boolean } = {}): Promise<RolloutPlan> {
  const loaded = await loadBlueprintFile(file, { strict: opts.strict });
  if (!loaded.ok || !loaded.blueprint) throw new BlueprintFileInvalid(file, loaded.errors);
  return planRollout(loaded.blueprint, { strict: opts.strict });
}
