// Determinism guard: histories recorded from real lab rollouts (scripts/dev/record-histories.ts) must replay
// against today's workflow code. A failure here means a change would break running rollouts: use patched().
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { projectRoot } from '../../config/env.ts';
import { workflowBundle } from '../../workers/worker.ts';

const dir = path.join(projectRoot, 'test', 'fixtures', 'histories');
const ids = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as Record<string, string>;
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'index.json').sort();

describe('replay of recorded rollouts', () => {
  test('there are recorded histories of both workflow types', () => {
    assert.ok(files.some((f) => f.startsWith('mesh-rollout-')));
    assert.ok(files.some((f) => f.startsWith('cluster-rollout-')));
  });

  for (const file of files) {
    test(`${file} replays deterministically`, async () => {
      // the CLI's history JSON, as `temporal workflow show --output json` writes it; the SDK parses it itself
      const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: unknown[] };
      assert.ok(history.events.length > 20, 'a real history');
      assert.ok(ids[file], `${file} has its workflow id in index.json`);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, ids[file]);
    });
  }
});
