// Redraws the README's pictures under docs/img/: the seed mesh's topology (`meshpilot plan --out`) and the
// timeline of the demo's rollout (`npm run demo`: lb-pending, then amend), on its own dev server and ports.
// Run: node --import tsx scripts/dev/readme-pictures.ts
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runDemo } from '../../cli/demo.ts';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { projectRoot } from '../../config/env.ts';

const img = path.join(projectRoot, 'docs', 'img');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-readme-pictures-'));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const io = (env: NodeJS.ProcessEnv): CliIO => ({ out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), isTTY: false, color: false, env });
try {
  const plan = path.join(tmp, 'plan');
  if ((await main(['plan', path.join(projectRoot, 'examples', 'usa-europe.yaml'), '--out', plan], io({}))) !== 0) throw new Error('plan failed');
  copyFileSync(path.join(plan, 'topology.svg'), path.join(img, 'topology-usa-europe.svg'));

  const dataDir = path.join(tmp, 'data');
  const env = { ...process.env, MESHPILOT_DATA_DIR: dataDir, MESHPILOT_DEV_PORT: String(await freePort()), MESHPILOT_UI_PORT: String(await freePort()) };
  const state = await runDemo(io(env), { scenario: 'lb-pending', keep: false, toolLatencyMs: 0 });
  if (state !== 'completed') throw new Error(`the demo ended ${state}`);
  const [id] = readdirSync(path.join(dataDir, 'reports'));
  copyFileSync(path.join(dataDir, 'reports', id!, 'timeline.svg'), path.join(img, 'timeline-demo.svg'));
  process.stdout.write(`wrote docs/img/topology-usa-europe.svg and docs/img/timeline-demo.svg (${id})\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
