// Reading a blueprint file: size limit, strict UTF-8, a cheap token pass that bounds what the YAML parser will
// build, YAML with line numbers, then validation. Every failure becomes one clear issue (never a stack trace),
// and no file of at most 1 MiB costs more than a bounded amount of memory and time: the token pass refuses the
// shapes that make a parser's work explode (deep nesting, hundreds of thousands of tiny values) before any tree
// is built. This is the only blueprint module that does I/O.
import { open } from 'node:fs/promises';
import { CST, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { Blueprint } from './schema.ts';
import type { BlueprintIssue, IssuePath, RawIssue, ValidationResult } from './issues.ts';
import { MAX_BLUEPRINT_BYTES, MAX_FLOW_DEPTH, MAX_YAML_NODES } from './limits.ts';
import { checkInput, toIssue, type ValidateOptions } from './validate.ts';

export { MAX_BLUEPRINT_BYTES };

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

/** 1-based line of a character offset, without building a line table. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Lexer tokens that are markers, not source text (they do not advance the offset). */
const MARKERS = new Set(['\u{FEFF}', '\x02', '\x18', '\x1f']);
const VALUE_TOKENS = new Set<string>(['scalar', 'single-quoted-scalar', 'double-quoted-scalar', 'block-scalar-header', 'flow-map-start', 'flow-seq-start', 'seq-item-ind', 'explicit-key-ind', 'alias']);

/**
 * One streaming pass of the YAML lexer (no tree, constant memory): how deep `[`/`{` nest and how many values the
 * file declares. Both bound what the parser would allocate, so a hostile file is refused here in a fraction of
 * the time and memory a parse would take.
 */
function yamlShapeProblem(text: string): LoadedBlueprint | undefined {
  let offset = 0;
  let depth = 0;
  let values = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'flow-map-start' || type === 'flow-seq-start') {
      if (++depth > MAX_FLOW_DEPTH) {
        return fail(`YAML nested more than ${MAX_FLOW_DEPTH} levels deep ([ and {): no blueprint field is; is this the right file?`, lineAt(text, offset));
      }
    } else if (type === 'flow-map-end' || type === 'flow-seq-end') depth = Math.max(0, depth - 1);
    if (type && VALUE_TOKENS.has(type) && ++values > MAX_YAML_NODES) {
      return fail(`the file holds more than ${MAX_YAML_NODES} YAML values: a blueprint is far smaller (the seed's two-cluster mesh has under 300); is this the right file?`, lineAt(text, offset));
    }
    if (!MARKERS.has(token)) offset += token.length;
  }
  return undefined;
}

/** The first mapping key given twice (YAML forbids it; the second would silently win), or a key that is not text. */
function duplicateKey(doc: Document, counter: LineCounter): LoadedBlueprint | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isSeq(node)) stack.push(...node.items);
    else if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        const line = (key as { range?: [number, number, number] } | null)?.range ? counter.linePos((key as { range: [number] }).range[0]).line : undefined;
        if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number' && typeof key.value !== 'boolean')) {
          return fail('a mapping key that is not plain text: blueprint keys are field names', line);
        }
        const name = String(key.value);
        if (seen.has(name)) return fail(`the key "${name.slice(0, 80)}" appears twice in one mapping: YAML keys are unique (the second would silently replace the first)`, line);
        seen.add(name);
        stack.push(pair.value);
      }
    }
  }
  return undefined;
}

/** Parses and validates blueprint text. */
export function loadBlueprintText(text: string, opts: ValidateOptions = {}): LoadedBlueprint {
  if (text.length > MAX_BLUEPRINT_BYTES) {
    return fail(`blueprint is ${text.length} characters; the limit is ${MAX_BLUEPRINT_BYTES} (1 MiB): is this the right file?`);
  }
  const shape = yamlShapeProblem(text);
  if (shape) return shape;
  const counter = new LineCounter();
  // uniqueKeys: the parser's own duplicate-key check compares every key with every other (quadratic: minutes for
  // one 50,000-key mapping); duplicateKey() below does the same job with a set per mapping.
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: false });
  if (!Array.isArray(docs)) return fail('the file holds no YAML document: expected a MeshBlueprint mapping');
  if (docs.length === 0) return fail('the file is empty: expected a MeshBlueprint mapping (see examples/usa-europe.yaml)');
  if (docs.length > 1) {
    return fail('the file holds more than one YAML document: a blueprint is one document', lineOf(docs[1]!, counter, []));
  }
  const doc = docs[0]!;
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = counter.linePos(yamlError.pos[0]).line;
    // The parser recurses per level of block nesting; it catches its own stack overflow and reports it like this.
    if (/Maximum call stack size exceeded/.test(yamlError.message)) return fail('YAML nested too deeply to read: no blueprint field is; is this the right file?', line);
    return fail(`not valid YAML: ${yamlError.message.split('\n')[0]}`, line);
  }
  const dup = duplicateKey(doc, counter);
  if (dup) return dup;
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    if (err instanceof RangeError) return fail('YAML nested too deeply to read: no blueprint field is; is this the right file?');
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

/** Strict UTF-8: a byte sequence that is not UTF-8 is an error naming its line, never silently replaced. */
function decodeUtf8(bytes: Buffer, file: string): { text: string } | { problem: LoadedBlueprint } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    // Where: decode leniently and walk the replacement characters; the first one that is not a literal U+FFFD in
    // the file (EF BF BD) stands for the first bad byte. One pass, whatever the file holds.
    const lenient = new TextDecoder('utf-8').decode(bytes);
    let offset = 0;
    let from = 0;
    for (let at = lenient.indexOf('\uFFFD'); at !== -1; at = lenient.indexOf('\uFFFD', at + 1)) {
      offset += Buffer.byteLength(lenient.slice(from, at));
      if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) break;
      offset += 3;
      from = at + 1;
    }
    const line = bytes.subarray(0, offset).reduce((count, byte) => count + (byte === 0x0a ? 1 : 0), 1);
    return { problem: fail(`${file} is not valid UTF-8 (byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} at offset ${offset}): save it as UTF-8; nothing is guessed or replaced`, line) };
  }
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
      const decoded = decodeUtf8(await handle.readFile(), file);
      if ('problem' in decoded) return decoded.problem;
      text = decoded.text;
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
