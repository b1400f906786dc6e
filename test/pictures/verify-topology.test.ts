// `meshpilot verify FILE --out DIR` on the seed's mesh rolled out on the lab, after drift: Europe's pool used up
// and USA's clustermesh config losing Europe. The picture is the plan's, coloured by the verdicts: a red link for
// the disconnected peers, a red pool for the exhausted one; it opens in Chromium.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { disconnectPeer, exhaustPool } from '../../lab/drift.ts';
import { LIGHT } from '../../pictures/theme.ts';
import { SEED_BLUEPRINT, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { launchChromium, type HeadlessBrowser } from '../ui/browser.ts';
import { assertRenders } from './browser-check.ts';
import { svgText } from './svg-text.ts';

describe('verify --out: the topology coloured by the verdicts', () => {
  const suite = useLabSuite();
  let browser: HeadlessBrowser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('a disconnected peer is a red link, an exhausted pool a red pool; exit 1', async () => {
    const l = await suite.lab({ scenario: 'happy' });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    assert.equal((await waitFor(suite.env.client, workflowId, isFinished, 180_000)).state, 'completed');
    await exhaustPool(l.labDir, 'cluster-europe');
    await disconnectPeer(l.labDir, 'cluster-usa', 'cluster-europe');

    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-verify-out-'));
    let stdout = '';
    let stderr = '';
    const io: CliIO = {
      out: (t) => void (stdout += t),
      err: (t) => void (stderr += t),
      isTTY: false,
      color: false,
      env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: suite.env.address, MESHPILOT_TASK_QUEUE: l.taskQueue, MESHPILOT_ACTOR: 'tester' },
    };
    assert.equal(await main(['verify', SEED_BLUEPRINT, '--out', dir], io), 1, stderr);
    assert.match(stdout, /fail +clustermesh-status@cluster-usa/);
    assert.match(stderr, /wrote topology\.svg under/);

    const raw = readFileSync(path.join(dir, 'topology.svg'), 'utf8');
    const text = svgText(raw);
    assert.match(text, /Mesh usa-europe — verified: \d+ check\(s\) failing/);
    assert.match(text, /ClusterMesh · WireGuard · DISCONNECTED/);
    assert.match(text, /LB l2 192\.168\.20\.240-192\.168\.20\.250 \(0\/\d+ free\) EXHAUSTED/);
    assert.match(text, /LB l2 192\.168\.10\.240\/28 \(\d+\/16 free\)/, 'the healthy pool shows its free addresses');
    assert.match(text, /FAIL cluster-usa: 1 of 1 peer\(s\) not connected/);
    assert.match(raw, new RegExp(`<path fill="none" stroke="${LIGHT.fail}"[^>]*stroke-width="4"`), 'the link is red');
    assert.match(raw, new RegExp(`fill="${LIGHT.failBg}"`), 'the pool row is red');
    await assertRenders(browser, path.join(dir, 'topology.svg'), 'topology-verified-drift');
  });
});
