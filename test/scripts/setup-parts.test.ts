// The demo installs only what it uses: `scripts/setup.sh` (what `npm run demo` runs) lists the base part only,
// `--all` (what `npm test` runs) adds the test peers and real components.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { execa } from 'execa';
import { projectRoot } from '../../config/env.ts';

async function steps(...args: string[]): Promise<string[]> {
  const r = await execa('bash', ['scripts/setup.sh', ...args, '--list'], { cwd: projectRoot });
  return r.stdout.split('\n').filter(Boolean);
}

describe('set-up parts', () => {
  it("the demo's set-up is npm, the temporal CLI and the lab shim: nothing only tests use", async () => {
    const demo = await steps();
    assert.deepEqual(demo, ['npm', 'scripts/setup.d/base/10-temporal.sh', 'scripts/setup.d/base/20-lab-shim.sh']);
  });

  it('the test set-up adds every test peer after the base part', async () => {
    const all = await steps('--all');
    const demo = await steps();
    assert.deepEqual(all.slice(0, demo.length), demo);
    const extra = all.slice(demo.length);
    assert.ok(extra.length > 0 && extra.every((s) => s.startsWith('scripts/setup.d/tests/')), extra.join(', '));
    for (const peer of ['sushy', 'etcd', 'toxiproxy', 'helm-chart', 'chromium', 'kubernetes', 'cilium-operator', 'talosctl']) {
      assert.ok(extra.some((s) => s.includes(peer)), `tests part lacks ${peer}`);
    }
  });

  it('refuses an unknown argument, naming it', async () => {
    const r = await execa('bash', ['scripts/setup.sh', '--everything'], { cwd: projectRoot, reject: false });
    assert.equal(r.exitCode, 2);
    assert.match(r.stderr, /unknown argument '--everything'/);
  });
});
