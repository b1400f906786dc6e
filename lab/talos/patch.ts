import { existsSync, readFileSync } from 'node:fs';
import { ConfigDecodeError, decodeConfigDocuments } from './config-schema.ts';
import { toolPath } from '../tools/call-context.ts';

/**
 * Talos machine-config patches as `gen config --config-patch` loads them (siderolabs/talos@v1.9.5
 * pkg/machinery/config/configpatcher/load.go): `@file` or inline text. The lab applies strategic merge
 * patches (pkg/machinery/config/merge/merge.go): maps merge key by key, lists append except the fields
 * tagged `merge:"replace"` in v1alpha1_types.go, a zero value in the patch ("", 0, null) changes nothing (a false
 * does: booleans are pointers), and `$patch: delete` removes a key
 * (configpatcher/testdata/patchdelete/strategic2.yaml). RFC 6902 patches are not simulated.
 */
type Tree = Record<string, unknown>;

/** v1alpha1 fields whose lists/maps replace rather than merge (v1alpha1_types.go `merge:"replace"`). */
const REPLACE_KEYS = new Set(['podSubnets', 'serviceSubnets', 'auditPolicy']);

export class PatchError extends Error {}

const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Loads one `--config-patch`/`--patch` value (configpatcher/load.go LoadPatches): `@file` or inline text, decoded
 * strictly like a machine config (lab/talos/config-schema.ts). Errors are the bare texts; `gen config` prefixes
 * them with "error parsing config JSON patch: ", apply-config and machineconfig patch print them as they are.
 */
export function loadPatch(spec: string): Tree[] {
  let text = spec;
  if (spec.startsWith('@')) {
    const file = spec.slice(1);
    if (!existsSync(toolPath(file))) throw new PatchError(`open ${file}: no such file or directory`);
    text = readFileSync(toolPath(file), 'utf8');
  }
  if (/^\s*\[/.test(text) || /^\s*-\s/.test(text)) throw new PatchError('meshpilot lab: JSON 6902 patches are not simulated (use a strategic merge patch)');
  try {
    return decodeConfigDocuments(text, { allowPatchDelete: true }).map((d) => d.value);
  } catch (err) {
    if (err instanceof ConfigDecodeError) throw new PatchError(err.message);
    throw err;
  }
}

/** Strategic merge of `patch` into `base` (mutates base). Only the v1alpha1 document is patched here. */
export function strategicMerge(base: Tree, patch: Tree): void {
  for (const [key, right] of Object.entries(patch)) {
    if (key === '$patch') continue;
    const left = base[key];
    // merge.go: a zero right-hand value (nil pointer, "", 0) leaves the left one as it is
    if (right === null || right === undefined || right === '' || right === 0) continue;
    if (isMap(right) && right.$patch === 'delete') delete base[key];
    else if (REPLACE_KEYS.has(key)) base[key] = structuredClone(right);
    else if (isMap(right) && (isMap(left) || left === undefined)) {
      // merging into a fresh map drops `$patch: delete` markers for keys that were never there
      const into = isMap(left) ? left : {};
      strategicMerge(into, right);
      // a map emptied by deletes is omitted, as the Go structs' `omitempty` would
      if (Object.keys(into).length === 0 && Object.keys(right).length > 0) delete base[key];
      else base[key] = into;
    } else if (Array.isArray(left) && Array.isArray(right)) base[key] = [...left, ...structuredClone(right)];
    else base[key] = structuredClone(right);
  }
}
