import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ActivityDeps } from '../activities/deps.ts';
import { projectRoot } from '../config/env.ts';
import { ensureLabBundle } from '../lab/bundle.ts';
import { startLabMetricsServer } from '../lab/etcd-metrics.ts';
import { LAB_DIR_ENV } from '../lab/state.ts';
import { LAB_SOCKET_ENV, startLabToolServer } from '../lab/server/tool-server.ts';
import { EncryptedFileSecretStore, keyFromString } from '../secrets/encrypted-file-store.ts';
import { acquireWorkerHygiene, type HygieneReport } from './hygiene.ts';

export const labBinDir = path.join(projectRoot, 'lab', 'bin');

export interface DepsOptions {
  dataDir: string;
  /** MESHPILOT_SECRET_KEY; required unless `devKey` */
  secretKey?: string;
  /** dev only: keep a generated key in the data dir when MESHPILOT_SECRET_KEY is not set */
  devKey?: boolean;
  /** lab mode: the simulated tools first on PATH, and the lab's etcd metrics endpoint */
  labDir?: string;
  /**
   * lab mode: one process per simulated call, as real tools are (MESHPILOT_LAB_PROCESS_PER_CALL=1), instead of the
   * worker's in-process tool server: what happens to tool processes on a cancel or a crash is then visible
   */
  labProcessPerCall?: boolean;
  /** the worker's identity (Temporal's worker identity): start-up sweeps only touch what workers of this identity left */
  identity?: string;
  pollBudgetMs?: number;
  env?: NodeJS.ProcessEnv;
}

export function resolveSecretKey(opts: DepsOptions): Buffer {
  if (opts.secretKey) return keyFromString(opts.secretKey);
  if (!opts.devKey) {
    throw new Error('MESHPILOT_SECRET_KEY is not set: the secret store needs a key (e.g. `openssl rand -hex 32`)');
  }
  const file = path.join(opts.dataDir, 'dev-secret.key');
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  return keyFromString(readFileSync(file, 'utf8').trim());
}

/**
 * Everything activities need, built once per worker process. First the start-up sweep (workers/hygiene.ts): what a
 * previous worker of the same identity left behind is killed and removed before this one runs a tool.
 */
export async function buildActivityDeps(opts: DepsOptions): Promise<{ deps: ActivityDeps; hygiene: HygieneReport; close: () => Promise<void> }> {
  const env = { ...(opts.env ?? process.env) };
  const workDir = path.join(opts.dataDir, 'work');
  mkdirSync(workDir, { recursive: true });
  const secrets = new EncryptedFileSecretStore(path.join(opts.dataDir, 'secrets'), resolveSecretKey(opts));
  const hygiene = acquireWorkerHygiene({ dataDir: opts.dataDir, identity: opts.identity, env });
  let etcdMetricsUrl = (address: string, port: number) => `http://${address.includes(':') ? `[${address}]` : address}:${port}/metrics`;
  let close = async () => {};
  try {
    if (opts.labDir) {
      await ensureLabBundle();
      env.PATH = `${labBinDir}${path.delimiter}${env.PATH ?? ''}`;
      env[LAB_DIR_ENV] = opts.labDir;
      const metrics = await startLabMetricsServer(opts.labDir);
      const toolServer = opts.labProcessPerCall
        ? undefined
        : await startLabToolServer().catch(async (err: unknown) => {
            await metrics.close();
            throw err;
          });
      if (toolServer) env[LAB_SOCKET_ENV] = toolServer.socketPath;
      else delete env[LAB_SOCKET_ENV];
      etcdMetricsUrl = metrics.urlFor;
      close = async () => {
        await toolServer?.close();
        await metrics.close();
      };
    }
  } catch (err) {
    hygiene.release();
    throw err;
  }
  // Tool children get the worker's environment minus meshpilot's own secrets.
  for (const k of Object.keys(env)) if (/^(MESHPILOT_SECRET_KEY|MESHPILOT_CODEC_KEYS|SLACK_|TEMPORAL_API_KEY)/.test(k)) delete env[k];
  return {
    deps: {
      tools: { env, cwd: workDir },
      secrets,
      workDir,
      etcdMetricsUrl,
      pollBudgetMs: opts.pollBudgetMs ?? (opts.labDir ? 8_000 : 10 * 60_000),
      ...(opts.labDir ? { verifyEtcdWindowMs: 0 } : {}),
    },
    hygiene: hygiene.report,
    async close() {
      try {
        await close();
      } finally {
        hygiene.release();
      }
    },
  };
}
