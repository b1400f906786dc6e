// Reading a blueprint file: size limit, YAML with line numbers, then validation. Every failure becomes one
// clear issue (never a stack trace); this is the only blueprint module that does I/O.
import { open } from 'node:fs/promises';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Blueprint } from './schema.ts';
import type { BlueprintIssue, IssuePath, RawIssue, ValidationResult } from './issues.ts';
import { checkInput, toIssue, type ValidateOptions } from './validate.ts';

/** A blueprint is a few hundred lines; anything near this is a wrong file, not a big mesh. */
export const MAX_BLUEPRINT_BYTES = 1024 * 1024;

export interface LoadedBlueprint extends ValidationResult {
  /** present when the file parsed and fits the schema (check `ok` for semantic errors) */
  blueprint?: Blueprint;
}

const fail = (message: string, line?: number): LoadedBlueprint => ({
  ok: false,
  errors: [{ path: '(file)', message, ...(line !== undefined ? { line } : {}) }],
  warnings: [],
});

function lineOf(doc: Document, counter: LineCounter, path: IssuePath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Parses and validates blueprint text; `name` only labels messages. */
export function loadBlueprintText(text: string, opts: ValidateOptions = {}): LoadedBlueprint {
  if (text.length > MAX_BLUEPRINT_BYTES) {
    return fail(`blueprint is ${text.length} bytes; the limit is ${MAX_BLUEPRINT_BYTES} (1 MiB): is this the right file?`);
  }
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  if (!Array.isArray(docs)) return fail('the file holds no YAML document: expected a MeshBlueprint mapping');
  if (docs.length === 0) return fail('the file is empty: expected a MeshBlueprint mapping (see examples/usa-europe.yaml)');
  if (docs.length > 1) {
    return fail('the file holds more than one YAML document: a blueprint is one document', lineOf(docs[1]!, counter, []));
  }
  const doc = docs[0]!;
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = counter.linePos(yamlError.pos[0]).line;
    return fail(`not valid YAML: ${yamlError.message.split('\n')[0]}`, line);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    return fail(`YAML could not be read: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return fail('the file is empty: expected a MeshBlueprint mapping (see examples/usa-europe.yaml)');
  const r = checkInput(data, opts);
  const withLine = (raw: RawIssue): BlueprintIssue => toIssue(raw, lineOf(doc, counter, raw.path));
  return {
    ok: r.errors.length === 0,
    errors: r.errors.map(withLine),
    warnings: r.warnings.map(withLine),
    ...(r.blueprint ? { blueprint: r.blueprint } : {}),
  };
}

export async function loadBlueprintFile(file: string, opts: ValidateOptions = {}): Promise<LoadedBlueprint> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { size, isFile } = await handle.stat().then((s) => ({ size: s.size, isFile: s.isFile() }));
      if (!isFile) return fail(`${file} is not a regular file`);
      if (size > MAX_BLUEPRINT_BYTES) {
        return fail(`${file} is ${(size / 1e6).toFixed(1)} MB; a blueprint is at most 1 MiB: is this the right file?`);
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
    return fail(`cannot read ${file}: ${why}`);
  }
  if (text.includes('\u0000')) return fail(`${file} is a binary file, not YAML`);
  return loadBlueprintText(text, opts);
}

/** "file:line: path: message" for terminals and logs. */
export function formatIssue(file: string, issue: BlueprintIssue): string {
  return `${file}${issue.line !== undefined ? `:${issue.line}` : ''}: ${issue.path}: ${issue.message}`;
}
