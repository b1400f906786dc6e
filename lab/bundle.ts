import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from '../config/env.ts';

/**
 * Every lab tool call is a fresh `node` process. Through tsx that costs ~1 s of CPU per call; a prebuilt ESM
 * bundle starts in well under 100 ms. lab/tools/entry.mjs uses the bundle when it is newer than every lab
 * source file, and falls back to tsx otherwise, so a stale bundle can never run.
 */
export const labBundleDir = path.join(projectRoot, '.tools', 'lab-bundle');
const labSrc = path.join(projectRoot, 'lab');

export function newestSourceMtime(dir = labSrc): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.mjs')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function bundleIsFresh(): boolean {
  try {
    return statSync(path.join(labBundleDir, 'main.mjs')).mtimeMs > newestSourceMtime();
  } catch {
    return false;
  }
}

export async function ensureLabBundle(): Promise<void> {
  if (bundleIsFresh()) return;
  rmSync(labBundleDir, { recursive: true, force: true });
  mkdirSync(labBundleDir, { recursive: true });
  await build({
    entryPoints: { main: path.join(labSrc, 'tools', 'main.ts') },
    outdir: labBundleDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
}
