// Blueprints for the tests: the shipped examples as plain data, and a way to break one thing at a time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { validateBlueprint } from '../../blueprint/validate.ts';
import type { BlueprintIssue, ValidationResult } from '../../blueprint/issues.ts';

export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export type Doc = any;

export function example(name: 'usa-europe' | 'three-regions'): Doc {
  return parse(readFileSync(`${EXAMPLES}${name}.yaml`, 'utf8'));
}

/** Validates the example after `change` edits a deep copy of it. */
export function withChange(change: (doc: Doc) => void, opts: { base?: 'usa-europe' | 'three-regions'; strict?: boolean } = {}): ValidationResult {
  const doc = example(opts.base ?? 'usa-europe');
  change(doc);
  return validateBlueprint(doc, { strict: opts.strict ?? false });
}

/** The one issue at `path` whose message matches, with a readable failure listing what was found instead. */
export function findIssue(issues: BlueprintIssue[], path: string, pattern: RegExp): BlueprintIssue {
  const hit = issues.find((i) => i.path === path && pattern.test(i.message));
  if (!hit) {
    throw new Error(`no issue at ${path} matching ${pattern}; got:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n') || '  (none)'}`);
  }
  return hit;
}
