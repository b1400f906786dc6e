import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/**
 * Bundling the workflow code (webpack) is most of a worker's start-up time — seconds of CPU — and a worker that
 * replaces a crashed one should be polling again quickly. So the bundle is kept in the machine cache
 * (`$MESHPILOT_CACHE_DIR/workflow-bundles`, default ~/.cache/meshpilot) with the content hash of every source
 * file that went into it, read from the bundle's own source map. A cached bundle is used only when every one of
 * those files still has the same content; any edit (or an SDK upgrade: its files are sources too) rebuilds it.
 * Adding an import means editing a file that is already a source, so a new dependency cannot be missed.
 */
export interface CachedBundleOptions {
  workflowsPath: string;
  failureConverterPath?: string;
  logger?: BundleOptions['logger'];
  cacheDir?: string;
}

interface Entry {
  code: string;
  /** absolute source path → sha256 of its content when the bundle was built */
  sources: Record<string, string>;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export function bundleCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.MESHPILOT_CACHE_DIR || path.join(os.homedir(), '.cache', 'meshpilot'), 'workflow-bundles');
}

/** The files a bundle was built from: the absolute paths in its inline source map that exist on disk. */
export function bundleSources(code: string): string[] {
  const m = /sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)/.exec(code);
  if (!m) return [];
  const map = JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as { sources?: string[] };
  return (map.sources ?? []).filter((s) => path.isAbsolute(s) && existsSync(s));
}

function fresh(entry: Entry): boolean {
  const files = Object.entries(entry.sources);
  if (files.length === 0) return false;
  return files.every(([file, hash]) => {
    try {
      return sha256(readFileSync(file)) === hash;
    } catch {
      return false;
    }
  });
}

export async function cachedWorkflowBundle(opts: CachedBundleOptions): Promise<WorkflowBundleWithSourceMap & { fromCache: boolean }> {
  const dir = opts.cacheDir ?? bundleCacheDir();
  const { version } = createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string };
  const key = sha256(JSON.stringify([opts.workflowsPath, opts.failureConverterPath ?? '', version, process.version]));
  const file = path.join(dir, `${key}.json`);
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    if (typeof entry.code === 'string' && fresh(entry)) return { code: entry.code, sourceMap: '', fromCache: true };
  } catch {
    // absent or unreadable: build it
  }
  const bundle = await bundleWorkflowCode({ workflowsPath: opts.workflowsPath, failureConverterPath: opts.failureConverterPath, logger: opts.logger });
  const sources = Object.fromEntries(bundleSources(bundle.code).map((f) => [f, sha256(readFileSync(f))]));
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ code: bundle.code, sources } satisfies Entry), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a read-only cache is no reason not to run
  }
  return { ...bundle, fromCache: false };
}
