// The README's first command tells its story in words: `meshpilot demo` (what `npm run demo` runs after set-up) on
// free ports, with the lab scenario it shows by default. The pause is part of the story; no line of its output —
// stdout or stderr — is raw JSON (the SDK's "Activity failed" warning for a blocked step used to be).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { projectRoot } from '../../config/env.ts';
import { freePort } from '../helpers/sushy.ts';

function parsesAsJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

describe('meshpilot demo', () => {
  test('completes the lb-pending story with its pause told in words, and prints no JSON line', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MESHPILOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'meshpilot-demo-')),
      MESHPILOT_DEV_PORT: String(port),
      MESHPILOT_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      NO_COLOR: '1',
    };
    delete env.MESHPILOT_LOG_LEVEL; // the demo's own default
    const r = await execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), 'demo'], { env, reject: false, timeout: 600_000 });
    const transcript = `--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    assert.equal(r.exitCode, 0, transcript);
    assert.match(r.stdout, /» paused at cluster-europe\/lb-ipam: LoadBalancer .* is <pending>/, transcript);
    assert.match(r.stdout, /demo finished: rollout completed/, transcript);
    const json = [...r.stdout.split('\n'), ...r.stderr.split('\n')].filter((l) => l.trim() && parsesAsJson(l));
    assert.deepEqual(json, [], `no raw JSON in the demo's output:\n${transcript}`);
    assert.doesNotMatch(transcript, /MeshpilotBlocked/, 'an expected pause is not a warning');
  });
});
