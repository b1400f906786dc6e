import { hostname } from 'node:os';
import { dataConverterFromEnv } from '../codec/data-converter.ts';
import { temporalSettings, type MeshpilotEnv } from '../config/env.ts';
import { DEFAULT_TASK_QUEUE, siteTaskQueue } from '../contracts/names.ts';
import { connectWorker } from '../temporal/connection.ts';
import { buildActivityDeps } from './deps.ts';
import { installRuntime } from './runtime.ts';
import { createMeshpilotWorker } from './worker.ts';

export interface RunWorkerOptions {
  env: MeshpilotEnv;
  rawEnv: NodeJS.ProcessEnv;
  site?: string;
  labDir?: string;
  devKey?: boolean;
  log: (line: string) => void;
}

export interface RunningWorker {
  taskQueue: string;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Connects, builds the activities' dependencies and runs a worker until stop() (graceful: running activities finish or are cancelled). */
export async function runWorker(opts: RunWorkerOptions): Promise<RunningWorker> {
  installRuntime({ logLevel: opts.env.MESHPILOT_LOG_LEVEL, metricsPort: opts.env.MESHPILOT_METRICS_PORT });
  const site = opts.site ?? opts.env.MESHPILOT_SITE;
  const taskQueue = site ? siteTaskQueue(site) : opts.env.MESHPILOT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const connection = await connectWorker(temporalSettings(opts.env));
  const { deps, close } = await buildActivityDeps({
    dataDir: opts.env.MESHPILOT_DATA_DIR,
    secretKey: opts.env.MESHPILOT_SECRET_KEY,
    devKey: opts.devKey,
    labDir: opts.labDir,
    env: opts.rawEnv,
  });
  const worker = await createMeshpilotWorker({
    connection,
    namespace: opts.env.TEMPORAL_NAMESPACE,
    taskQueue,
    deps,
    dataConverter: await dataConverterFromEnv(opts.rawEnv, deps.secrets),
    identity: `meshpilot${site ? `-${site}` : ''}@${hostname()}`,
  });
  opts.log(`worker polling task queue ${taskQueue}${opts.labDir ? ` (lab: ${opts.labDir})` : ''}${opts.env.MESHPILOT_METRICS_PORT ? `, metrics on :${opts.env.MESHPILOT_METRICS_PORT}/metrics` : ''}`);
  const done = worker.run().finally(async () => {
    await close();
    await connection.close();
  });
  return {
    taskQueue,
    done,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/**
 * Resolves when the process is asked to stop (Ctrl-C, SIGTERM from a supervisor). The listeners stay for the
 * life of the process: with none left, the next signal would kill it before child processes are stopped
 * (execa's cleanup re-raises a signal nobody else handles). A second signal forces the exit.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = 0;
    const on = (sig: NodeJS.Signals) => {
      received += 1;
      if (received === 1) resolve(sig);
      else process.exit(130);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
