import { loadCodecKeyring } from '../codec/config.ts';
import { DEFAULT_CODEC_PORT, startCodecServer, type RunningCodecServer } from '../codec/server.ts';
import { loadEnv } from '../config/env.ts';
import { resolveTemporalBinary } from '../temporal/cli-binary.ts';
import { startDevServer } from '../temporal/dev-server.ts';
import { humanLineSink } from '../workers/log-classify.ts';
import { runWorker } from '../workers/run.ts';
import { labDirFor } from './context.ts';
import type { CliIO } from './io.ts';
import path from 'node:path';

/**
 * Everything on one laptop: the real Temporal dev server (SQLite in the data dir, so a restart keeps running
 * rollouts), the Web UI, a worker, and the codec server when payloads are encrypted. Ctrl-C stops all of it.
 */
export async function startDevStack(io: CliIO, opts: { lab?: boolean; headless?: boolean; log: (l: string) => void }) {
  const env = loadEnv(io.env);
  const bin = await resolveTemporalBinary({ env: io.env, install: true, allowDownload: false, log: opts.log });
  const keys = await loadCodecKeyring(io.env);
  let codec: RunningCodecServer | undefined;
  if (keys) {
    codec = await startCodecServer({ keys, port: DEFAULT_CODEC_PORT, uiOrigins: [`http://localhost:${env.MESHPILOT_UI_PORT}`, `http://127.0.0.1:${env.MESHPILOT_UI_PORT}`] });
    opts.log(`codec server: ${codec.url} (the UI decodes payloads through it)`);
  }
  const server = await startDevServer({
    cliPath: bin.path!,
    port: env.MESHPILOT_DEV_PORT,
    uiPort: env.MESHPILOT_UI_PORT,
    dataDir: path.join(env.MESHPILOT_DATA_DIR, 'temporal'),
    namespace: env.TEMPORAL_NAMESPACE,
    headless: opts.headless,
    codecEndpoint: codec?.url,
  });
  const workerEnv = loadEnv({ ...io.env, TEMPORAL_ADDRESS: server.address });
  let worker;
  try {
    worker = await runWorker({
      env: workerEnv,
      rawEnv: io.env,
      labDir: opts.lab ? labDirFor(workerEnv) : undefined,
      devKey: true,
      // a person reads this terminal: human lines (an expected pause is one info line), not JSON
      logSink: humanLineSink(opts.log),
    });
    opts.log(`worker polling task queue ${worker.taskQueue}${opts.lab ? ' (lab)' : ''}`);
  } catch (err) {
    await server.stop();
    await codec?.close();
    throw err;
  }
  return {
    server,
    worker,
    async stop() {
      try {
        await worker.stop();
      } finally {
        await server.stop();
        await codec?.close();
      }
    },
  };
}

