import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { ActivityDeps } from '../activities/deps.ts';
import { activityHygiene } from './activity-hygiene.ts';
import { runtimeLog } from './runtime.ts';
import { cachedWorkflowBundle } from './workflow-bundle.ts';
import type { WorkerTuning } from '../config/env.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process, or takes it from the machine cache when no source changed (workflow-bundle.ts). */
export function workflowBundle(failureConverterPath?: string): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= cachedWorkflowBundle({ workflowsPath, failureConverterPath, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (m: string) => runtimeLog('warn', `bundler: ${m}`),
  error: (m: string) => runtimeLog('error', `bundler: ${m}`),
};

export interface MeshpilotWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  dataConverter?: DataConverter;
  identity?: string;
  /** slots, pollers, sticky cache (config/env.ts workerTuning); default: 64 activity slots, the rest the SDK's */
  tuning?: WorkerTuning;
}

export async function createMeshpilotWorker(opts: MeshpilotWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(opts.dataConverter?.failureConverterPath),
    activities: createActivities(opts.deps),
    dataConverter: opts.dataConverter,
    ...(opts.identity ? { identity: opts.identity } : {}),
    interceptors: { activity: [activityHygiene] },
    // A cancel reaches an activity only in the answer to a heartbeat: at most one per second per running activity
    // (the default is 80% of the heartbeat timeout), so an abort stops tools within about a second.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    // On SIGTERM quick tool calls may finish; then running activities are cancelled (their tools are terminated)
    // and retried by the next worker without counting against their budget. Past the force time the worker stops
    // regardless, and its remaining tools die with the process.
    shutdownGraceTime: '3s',
    shutdownForceTime: '15s',
    maxConcurrentActivityTaskExecutions: 64,
    ...opts.tuning,
  });
}
