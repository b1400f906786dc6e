// Blueprints are referenced by name from one configured directory; chat never accepts a path or an upload, and
// never shows one: replies name `usa-europe.yaml`, not where the server keeps it.
import { lstat, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { BlueprintFileInvalid, planFromFile } from '../blueprint/plan-file.ts';
import type { RolloutPlan } from '../blueprint/plan.ts';

/** A DNS label: no dots, slashes or `..`, so a name can never leave the directory. */
export const BLUEPRINT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Problems listed in one Slack reply; the rest are counted. */
const MAX_LISTED = 20;

export class BlueprintNameError extends Error {
  override name = 'BlueprintNameError';
}

/** An invalid blueprint, as chat shows it: the file's name and line, never a server path. */
export class BlueprintRefused extends Error {
  override name = 'BlueprintRefused';
}

/** `root/name.yaml` when it is a regular file whose real location is in `root` itself (a symlink may not lead out). */
async function insideRoot(root: string, entry: string): Promise<string | undefined> {
  try {
    const file = await realpath(path.join(root, entry));
    if (path.dirname(file) !== root) return undefined;
    return (await lstat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** The names chat offers: plain names of regular files in the directory, none that resolve elsewhere. */
export async function listBlueprints(dir: string): Promise<string[]> {
  const root = await realpath(dir).catch(() => undefined);
  if (!root) return [];
  const entries = await readdir(root).catch(() => [] as string[]);
  const names: string[] = [];
  for (const entry of entries) {
    const name = entry.match(/^(.+)\.ya?ml$/)?.[1];
    if (name !== undefined && BLUEPRINT_NAME.test(name) && (await insideRoot(root, entry))) names.push(name);
  }
  return [...new Set(names)].sort();
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

/** Loads, validates and plans blueprint `name` from the directory; problems name `<name>.yaml:<line>`. */
export async function planBlueprint(dir: string, name: string): Promise<RolloutPlan> {
  const file = await resolveBlueprint(dir, name);
  try {
    return await planFromFile(file);
  } catch (err) {
    if (!(err instanceof BlueprintFileInvalid)) throw err;
    const shown = path.basename(file);
    const issues = err.errors.map((e) => `${shown}${e.line !== undefined ? `:${e.line}` : ''}: ${e.path}: ${e.message.split(file).join(shown)}`);
    const listed = issues.slice(0, MAX_LISTED).map((l) => `• ${l}`);
    const more = issues.length > MAX_LISTED ? [`…and ${issues.length - MAX_LISTED} more (\`meshpilot validate ${shown}\` lists up to 100)`] : [];
    throw new BlueprintRefused([`Blueprint \`${name}\` is not valid:`, ...listed, ...more].join('\n'));
  }
}
