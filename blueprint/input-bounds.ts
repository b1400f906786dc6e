// Before the schema sees a document: one linear walk that bounds its shape, so no input (a YAML file, JSON from
// an API) can make validation slow or big, and no text that cannot be shown or stored faithfully gets through.
// Pure and workflow-safe. The schema then holds every field to its own, tighter limit.
import { IssueSink, type IssuePath, type RawIssue } from './issues.ts';
import { MAX_NODES_PER_CLUSTER, MAX_VALUE_DEPTH, MAX_YAML_NODES } from './limits.ts';

/** The longest text any field takes (a description; a URL is 2,048). */
export const MAX_STRING = 8192;
const MAX_KEY = 512;
/** The longest list any field takes (nodes of one cluster). */
const MAX_ITEMS = MAX_NODES_PER_CLUSTER;

/**
 * Control characters other than tab and line breaks, and the bidirectional overrides that make text read
 * differently from what it holds ("Trojan Source", CVE-2021-42574): a waiver reason shown on every plan must
 * say what it says.
 */
const HIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/;

/** In unicode mode a surrogate pair is one code point: only a lone surrogate matches. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Why a string cannot be kept, or undefined when it can. */
export function textProblem(s: string): string | undefined {
  if (LONE_SURROGATE.test(s)) {
    return 'is not valid Unicode (a lone surrogate: it cannot be written as UTF-8); fix the file\'s encoding or the escape';
  }
  const m = HIDDEN.exec(s);
  if (m) {
    const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return `holds the invisible control character U+${code} at character ${m.index + 1}: remove it`;
  }
  return undefined;
}

interface Frame {
  value: unknown;
  path: IssuePath;
  depth: number;
}

/** Every problem with the document's shape (capped like all reports); empty when the schema may look at it. */
export function boundInput(data: unknown): RawIssue[] {
  const sink = new IssueSink();
  const stack: Frame[] = [{ value: data, path: [], depth: 0 }];
  let values = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (++values > MAX_YAML_NODES) {
      sink.error([], `the document holds more than ${MAX_YAML_NODES} values: a blueprint is far smaller (is this the right file?)`);
      break;
    }
    if (typeof value === 'string') {
      if (value.length > MAX_STRING) sink.error(path, `text of ${value.length} characters; at most ${MAX_STRING}`);
      else {
        const problem = textProblem(value);
        if (problem) sink.error(path, `this text ${problem}`);
      }
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_VALUE_DEPTH) {
      sink.error(path, `nested more than ${MAX_VALUE_DEPTH} levels deep: no blueprint field is`);
      continue;
    }
    if (Array.isArray(value)) {
      if (value.length > MAX_ITEMS) {
        sink.error(path, `a list of ${value.length} items; no blueprint list takes more than ${MAX_ITEMS}`);
        continue;
      }
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i], depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > MAX_ITEMS) {
      sink.error(path, `a mapping with ${entries.length} keys; no blueprint mapping takes more than ${MAX_ITEMS}`);
      continue;
    }
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      const problem = key.length > MAX_KEY ? `is ${key.length} characters long; at most ${MAX_KEY}` : textProblem(key);
      if (problem) {
        sink.error(path, `the key ${JSON.stringify(key.slice(0, 40))}${key.length > 40 ? '…' : ''} ${problem}`);
        continue;
      }
      stack.push({ value: child, path: [...path, key], depth: depth + 1 });
    }
  }
  const out = sink.errors;
  if (sink.omitted.errors > 0) out.push({ path: [], message: `${sink.omitted.errors} more problems of this kind not listed` });
  return out;
}
