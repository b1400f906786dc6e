// Blueprints are referenced by name from one configured directory; chat never accepts a path or an upload.
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';

/** A DNS label: no dots, slashes or `..`, so a name can never leave the directory. */
export const BLUEPRINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class BlueprintNameError extends Error {
  override name = 'BlueprintNameError';
}

export async function listBlueprints(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .map((f) => f.match(/^(.+)\.ya?ml$/)?.[1])
    .filter((n): n is string => n !== undefined && BLUEPRINT_NAME.test(n))
    .sort();
}

/** `usa-europe` → `<dir>/usa-europe.yaml` (or `.yml`), refusing anything that is not a plain name or resolves outside the directory. */
export async function resolveBlueprint(dir: string, name: string): Promise<string> {
  if (!BLUEPRINT_NAME.test(name)) {
    throw new BlueprintNameError(`\`${name.slice(0, 80)}\` is not a blueprint name: use lower-case letters, digits and dashes (e.g. usa-europe)`);
  }
  const root = await realpath(dir);
  for (const ext of ['.yaml', '.yml']) {
    let file: string;
    try {
      file = await realpath(path.join(root, `${name}${ext}`));
    } catch {
      continue;
    }
    // A symlink inside the directory must not point outside it.
    if (path.dirname(file) !== root) throw new BlueprintNameError(`blueprint ${name} points outside the blueprint directory`);
    return file;
  }
  const known = await listBlueprints(root);
  throw new BlueprintNameError(`no blueprint named ${name}${known.length ? ` (available: ${known.join(', ')})` : ' (the blueprint directory is empty)'}`);
}
