// A replacement worker starts without re-bundling unchanged workflow code, and never runs a stale bundle.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { projectRoot } from '../../config/env.ts';
import { bundleSources, cachedWorkflowBundle } from '../../workers/workflow-bundle.ts';

describe('workflow bundle cache', () => {
  mkdirSync(path.join(projectRoot, '.test-output'), { recursive: true });
  // inside the clone, so the fixture resolves @temporalio/workflow from node_modules
  const dir = mkdtempSync(path.join(projectRoot, '.test-output', 'bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const workflowsPath = path.join(dir, 'workflows.ts');
  const helper = path.join(dir, 'greeting.ts');
  const cacheDir = path.join(dir, 'cache');
  const silent = { log: () => {}, trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

  test('built once, then taken from the cache while every source is unchanged; an edit to any source rebuilds it', async () => {
    writeFileSync(helper, "export const greeting = 'hello';\n");
    writeFileSync(workflowsPath, "import { greeting } from './greeting.ts';\nexport async function greet(): Promise<string> { return greeting; }\n");
    const first = await cachedWorkflowBundle({ workflowsPath, cacheDir, logger: silent });
    assert.equal(first.fromCache, false);
    assert.ok(bundleSources(first.code).includes(helper), 'an imported file is one of the recorded sources');
    const second = await cachedWorkflowBundle({ workflowsPath, cacheDir, logger: silent });
    assert.equal(second.fromCache, true);
    assert.equal(second.code, first.code);
    // the change is in an imported file, not the entry point
    writeFileSync(helper, "export const greeting = 'bonjour';\n");
    const third = await cachedWorkflowBundle({ workflowsPath, cacheDir, logger: silent });
    assert.equal(third.fromCache, false);
    assert.match(third.code, /bonjour/);
    assert.doesNotMatch(third.code, /'hello'/);
  });
});
