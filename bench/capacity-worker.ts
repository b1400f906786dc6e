// One worker process of a capacity run: the real meshpilot worker (workflows, activities, payload encryption, the
// MESHPILOT_WORKER_* sizing) with no lab of its own. Its tool calls go to the separate lab process
// (bench/capacity-lab.ts) through the lab's shims and socket, so this process only orchestrates.
//
// The N rollouts of a run each have their own lab (one simulated fleet per mesh). A tool process learns its lab
// from MESHPILOT_LAB_DIR in its environment, and the etcd gate reads the metrics of its mesh's lab: both are
// picked per call from the workflow the activity belongs to (Context.current()), which names the mesh.
//
// Environment: TEMPORAL_ADDRESS, MESHPILOT_TASK_QUEUE, MESHPILOT_DATA_DIR (shared by the run's workers: one secret
// store), MESHPILOT_SECRET_KEY, MESHPILOT_CODEC_KEYS, MESHPILOT_WORKER_*, MESHPILOT_LAB_SOCKET and
// CAPACITY_LABS (a JSON file: mesh → { labDir, metricsUrl with ADDRESS in place of the node address }).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { dataConverterFromEnv } from '../codec/data-converter.ts';
import { loadEnv, temporalSettings, workerTuning } from '../config/env.ts';
import { LAB_SOCKET_ENV } from '../lab/server/tool-server.ts';
import { LAB_DIR_ENV } from '../lab/state.ts';
import { connectWorker } from '../temporal/connection.ts';
import { buildActivityDeps, labBinDir } from '../workers/deps.ts';
import { untilSignal } from '../workers/run.ts';
import { installRuntime } from '../workers/runtime.ts';
import { createMeshpilotWorker } from '../workers/worker.ts';
import { meshOfWorkflowId } from './capacity-plan.ts';

export interface CapacityLab {
  labDir: string;
  metricsUrl: string;
}

const env = loadEnv(process.env);
const labsFile = process.env.CAPACITY_LABS;
const socket = process.env[LAB_SOCKET_ENV];
if (!labsFile || !socket) throw new Error('capacity worker: CAPACITY_LABS and MESHPILOT_LAB_SOCKET are required');
const labs = new Map(Object.entries(JSON.parse(readFileSync(labsFile, 'utf8')) as Record<string, CapacityLab>));

/** The lab of the rollout the running activity belongs to. */
function currentLab(): CapacityLab {
  const workflowId = Context.current().info.workflowExecution?.workflowId ?? '';
  const lab = labs.get(meshOfWorkflowId(workflowId) ?? '');
  if (!lab) throw new Error(`capacity worker: no lab for workflow ${workflowId}`);
  return lab;
}

installRuntime({ logLevel: 'warn' });
const connection = await connectWorker(temporalSettings(env));
const { deps, close } = await buildActivityDeps({ dataDir: env.MESHPILOT_DATA_DIR, secretKey: env.MESHPILOT_SECRET_KEY, pollBudgetMs: 8_000 });
const base: NodeJS.ProcessEnv = { ...deps.tools.env, PATH: `${labBinDir}${path.delimiter}${deps.tools.env.PATH ?? ''}`, [LAB_SOCKET_ENV]: socket };
// Read by runTool as `{ ...tools.env }` inside the activity: the spread asks for the keys, and the lab directory
// is the calling activity's.
deps.tools.env = new Proxy(base, {
  ownKeys: (target) => [...Reflect.ownKeys(target), LAB_DIR_ENV],
  getOwnPropertyDescriptor: (target, key) =>
    key === LAB_DIR_ENV ? { value: currentLab().labDir, enumerable: true, configurable: true, writable: false } : Reflect.getOwnPropertyDescriptor(target, key),
  get: (target, key) => (key === LAB_DIR_ENV ? currentLab().labDir : Reflect.get(target, key)),
});
deps.etcdMetricsUrl = (address) => currentLab().metricsUrl.replace('ADDRESS', encodeURIComponent(address));

const worker = await createMeshpilotWorker({
  connection,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.MESHPILOT_TASK_QUEUE,
  deps,
  dataConverter: await dataConverterFromEnv(process.env, deps.secrets),
  identity: `capacity-${process.pid}@${hostname()}`,
  tuning: workerTuning(env),
});
const running = worker.run();
process.stdout.write(`ready ${process.pid}\n`);
await Promise.race([untilSignal(), running]);
if (worker.getState() === 'RUNNING') worker.shutdown();
await running;
await close();
await connection.close();
