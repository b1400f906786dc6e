// The layer rules of docs/architecture.md are enforced by the linter, not by review: a probe file that breaks each
// rule is linted with the project's own config and must be refused with that rule's message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = resolve(import.meta.dirname, '../..');

const PROBES: { dir: string; code: string; message: RegExp }[] = [
  { dir: 'workflows', code: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", message: /no Node built-ins/ },
  { dir: 'workflows', code: "import { execa } from 'execa';\nexport const x = execa;\n", message: /workflow code does no I\/O/ },
  { dir: 'workflows', code: "import { pollWithin } from '../activities/poll.ts';\nexport const x = pollWithin;\n", message: /activities as types only/ },
  { dir: 'contracts', code: "import { buildProgram } from '../cli/main.ts';\nexport const x = buildProgram;\n", message: /contracts import only/ },
  { dir: 'chat', code: "import { buildProgram } from '../cli/main.ts';\nexport const x = buildProgram;\n", message: /chat uses client/ },
  { dir: 'activities', code: "import { buildProgram } from '../cli/main.ts';\nexport const x = buildProgram;\n", message: /never import workflows/ },
];

describe('lint: layer rules', () => {
  test('each layer violation is refused with its rule, and a type-only activity import in a workflow is allowed', async () => {
    const eslint = new ESLint({ cwd: ROOT, cache: false });
    const files: string[] = [];
    try {
      for (const [i, p] of PROBES.entries()) {
        const file = join(ROOT, p.dir, `lint-probe-${process.pid}-${i}.ts`);
        files.push(file);
        await writeFile(file, p.code);
        const [result] = await eslint.lintFiles([file]);
        const messages = result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
        assert.ok(
          messages.some((m) => p.message.test(m)),
          `${p.dir}: expected ${p.message} from no-restricted-imports, got ${JSON.stringify(result!.messages.map((m) => m.message))}`,
        );
      }
      const allowed = join(ROOT, 'workflows', `lint-probe-${process.pid}-ok.ts`);
      files.push(allowed);
      await writeFile(allowed, "import type { pollWithin } from '../activities/poll.ts';\nexport type X = typeof pollWithin;\n");
      const [ok] = await eslint.lintFiles([allowed]);
      assert.deepEqual(
        ok!.messages.filter((m) => m.ruleId === 'no-restricted-imports'),
        [],
        'a type-only import of an activity module is what workflows are meant to do',
      );
    } finally {
      await Promise.all(files.map((f) => rm(f, { force: true })));
    }
  });
});
