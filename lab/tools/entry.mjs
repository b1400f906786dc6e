// Plain-JS entry for the lab shims. Runs the prebuilt bundle when it is fresh (fast start), else the TypeScript
// sources through tsx (see lab/bundle.ts), then exits with the tool's exit code.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const labDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(labDir, '..', '.tools', 'lab-bundle', 'main.mjs');

function newest(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n = Math.max(n, newest(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.mjs')) n = Math.max(n, statSync(p).mtimeMs);
  }
  return n;
}

let fresh = false;
try {
  fresh = statSync(bundle).mtimeMs > newest(labDir);
} catch {}

let main;
if (fresh) {
  ({ main } = await import(pathToFileURL(bundle).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
}
const [tool, ...argv] = process.argv.slice(2);
process.exitCode = await main(tool, argv);
