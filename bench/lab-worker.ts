// A real meshpilot worker on a fresh lab, for one benchmark run: the same wiring as `meshpilot dev --lab`.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { createLab } from '../lab/fleet.ts';
import { fleetFromPlan } from '../lab/from-blueprint.ts';
import type { ScenarioName } from '../lab/scenarios.ts';
import type { ActivityDeps } from '../activities/deps.ts';
import { buildActivityDeps } from '../workers/deps.ts';
import { createMeshpilotWorker } from '../workers/worker.ts';
import { withShims, writeToolShims } from './tool-shims.ts';

export interface BenchLab {
  labDir: string;
  /** the shims' pid → API server log (bench/tool-shims.ts) */
  tagLog: string;
  taskQueue: string;
  deps: ActivityDeps;
  stop(): Promise<void>;
  /** deletes the lab directory (after its call log has been read) */
  remove(): void;
}

/** Lab directories live under one temp root per bench run, removed at the end. */
export function benchTempRoot(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'meshpilot-bench-'));
}

/** A fresh lab for `plan`, with only the lab's own tools and env: what the worker's activities would get. */
export async function createBenchLab(root: string, plan: RolloutPlan, opts: { scenario: ScenarioName; toolLatencyMs: number; pollBudgetMs: number }) {
  const dataDir = mkdtempSync(path.join(root, `${plan.mesh}-`));
  const labDir = path.join(dataDir, 'lab');
  createLab(labDir, fleetFromPlan(plan), { scenario: opts.scenario, toolLatencyMs: opts.toolLatencyMs });
  const { deps, close } = await buildActivityDeps({
    dataDir,
    secretKey: randomBytes(32).toString('hex'),
    labDir,
    pollBudgetMs: opts.pollBudgetMs,
  });
  const tagLog = path.join(dataDir, 'tags.log');
  withShims(deps.tools.env, writeToolShims(path.join(dataDir, 'shims')), tagLog);
  return { dataDir, labDir, tagLog, deps, close };
}

/** The lab plus a worker running on its own task queue. */
export async function startBenchWorker(
  connection: NativeConnection,
  namespace: string,
  root: string,
  plan: RolloutPlan,
  opts: { scenario: ScenarioName; toolLatencyMs: number; pollBudgetMs: number },
): Promise<BenchLab> {
  const { dataDir, labDir, tagLog, deps, close } = await createBenchLab(root, plan, opts);
  const taskQueue = `bench-${randomUUID()}`;
  const worker = await createMeshpilotWorker({ connection, namespace, taskQueue, deps });
  const running = worker.run();
  return {
    labDir,
    tagLog,
    taskQueue,
    deps,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await close();
    },
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}
