// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no process/env, no I/O libraries.
// (What the samples enforce with an ESLint override, checked here for every workflow and contract module.)
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../config/env.ts';

const BANNED = /from ['"](node:[a-z_/]+|fs|child_process|net|http|https|os|crypto|dns|worker_threads|path|execa|undici|proper-lockfile)['"]|process\.(env|argv|exit)|\brequire\(/;

/** test/scripts/lint-rules.test.ts writes rule-breaking probes there for a moment (the linter needs a real path) */
const LINT_PROBE = /^lint-probe-.*\.ts$/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') && !LINT_PROBE.test(e.name) ? [path.join(dir, e.name)] : [],
  );
}

test('workflows/ and contracts/ import nothing that does I/O, and activities only as types', () => {
  const files = [...tsFiles(path.join(projectRoot, 'workflows')), ...tsFiles(path.join(projectRoot, 'contracts'))];
  assert.ok(files.length > 10);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = path.relative(projectRoot, file);
    assert.doesNotMatch(text, BANNED, `${rel} uses something the workflow sandbox must not`);
    for (const m of text.matchAll(/^import (?!type)[^;]*from ['"]([^'"]+)['"]/gm)) {
      assert.ok(!/^(\.\.\/)+activities(\/|\.ts|$)/.test(m[1]!), `${rel} imports activity code (${m[1]}); import its types only`);
    }
  }
});
