import { hostname } from 'node:os';
import { dataConverterFromEnv } from '../codec/data-converter.ts';
import { temporalSettings, workerTuning, type MeshpilotEnv } from '../config/env.ts';
import { DEFAULT_TASK_QUEUE, siteTaskQueue } from '../contracts/names.ts';
import { connectWorker } from '../temporal/connection.ts';
import { recoverLostAttempts } from './crash-recovery.ts';
import { buildActivityDeps } from './deps.ts';
import type { LogSink } from './log.ts';
import { installRuntime, runtimeLog } from './runtime.ts';
import { createMeshpilotWorker } from './worker.ts';

export interface RunWorkerOptions {
  env: MeshpilotEnv;
  rawEnv: NodeJS.ProcessEnv;
  site?: string;
  labDir?: string;
  devKey?: boolean;
  /** where every log line of the worker process goes (default: JSON lines on stderr) */
  logSink?: LogSink;
}

export interface RunningWorker {
  taskQueue: string;
  identity: string;
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Connects, builds the activities' dependencies and runs a worker until stop() (graceful: running activities finish or are cancelled). */
export async function runWorker(opts: RunWorkerOptions): Promise<RunningWorker> {
  installRuntime({ logLevel: opts.env.MESHPILOT_LOG_LEVEL, metricsPort: opts.env.MESHPILOT_METRICS_PORT, sink: opts.logSink });
  const site = opts.site ?? opts.env.MESHPILOT_SITE;
  const taskQueue = site ? siteTaskQueue(site) : opts.env.MESHPILOT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const identity = `meshpilot${site ? `-${site}` : ''}@${hostname()}`;
  const connection = await connectWorker(temporalSettings(opts.env));
  const { deps, hygiene, close } = await buildActivityDeps({
    dataDir: opts.env.MESHPILOT_DATA_DIR,
    secretKey: opts.env.MESHPILOT_SECRET_KEY,
    devKey: opts.devKey,
    labDir: opts.labDir,
    labProcessPerCall: opts.env.MESHPILOT_LAB_PROCESS_PER_CALL,
    identity,
    env: opts.rawEnv,
  });
  if (hygiene.killedGroups.length || hygiene.removedScratch.length || hygiene.lostAttempts.length) {
    const recovered = await recoverLostAttempts(connection, { namespace: opts.env.TEMPORAL_NAMESPACE, identity, attempts: hygiene.lostAttempts });
    runtimeLog('warn', 'cleaned up after a previous worker of this identity that did not stop cleanly', {
      identity,
      killedProcessGroups: hygiene.killedGroups,
      removedSecretScratch: hygiene.removedScratch.length,
      attemptsRetriedNow: recovered.failed,
      attemptsAlreadyGone: recovered.gone,
    });
  }
  for (const w of hygiene.warnings) runtimeLog('warn', w, { identity });
  let worker;
  try {
    worker = await createMeshpilotWorker({
      connection,
      namespace: opts.env.TEMPORAL_NAMESPACE,
      taskQueue,
      deps,
      dataConverter: await dataConverterFromEnv(opts.rawEnv, deps.secrets),
      identity,
      tuning: workerTuning(opts.env),
    });
  } catch (err) {
    await close();
    await connection.close();
    throw err;
  }
  runtimeLog('info', `worker polling task queue ${taskQueue}`, {
    taskQueue,
    identity,
    ...(opts.labDir ? { lab: opts.labDir, labToolProcesses: opts.env.MESHPILOT_LAB_PROCESS_PER_CALL ? 'one per call' : 'in-process server' } : {}),
    ...(opts.env.MESHPILOT_METRICS_PORT ? { metrics: `:${opts.env.MESHPILOT_METRICS_PORT}/metrics` } : {}),
  });
  const running = worker;
  const done = running.run().finally(async () => {
    await close();
    await connection.close();
  });
  return {
    taskQueue,
    identity,
    done,
    async stop() {
      if (running.getState() === 'RUNNING') running.shutdown();
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
