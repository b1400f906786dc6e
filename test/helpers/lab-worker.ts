import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { DataConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { execa, type ResultPromise } from 'execa';
import { projectRoot } from '../../config/env.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';
import { withLabState } from '../../lab/state.ts';
import type { ActivityDeps } from '../../activities/deps.ts';
import { buildActivityDeps } from '../../workers/deps.ts';
import { createMeshpilotWorker } from '../../workers/worker.ts';
import { startTemporal } from './temporal.ts';

export const SEED_BLUEPRINT = path.join(projectRoot, 'examples', 'usa-europe.yaml');

export interface LabWorker {
  taskQueue: string;
  labDir: string;
  dataDir: string;
  plan: RolloutPlan;
  deps: ActivityDeps;
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * A real worker (real workflows, real activities) on a fresh lab built from a blueprint, on its own task queue.
 * Nothing is mocked: the activities call the lab's simulated talosctl/helm/cilium/kubectl as processes.
 */
export async function startLabWorker(
  env: TestWorkflowEnvironment,
  opts: {
    scenario: ScenarioName;
    blueprint?: string;
    toolLatencyMs?: number;
    pollBudgetMs?: number;
    dataConverter?: DataConverter;
    /** one process per simulated call (MESHPILOT_LAB_PROCESS_PER_CALL=1) instead of the in-process tool server */
    processPerCall?: boolean;
  },
): Promise<LabWorker> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-test-'));
  const labDir = path.join(dataDir, 'lab');
  const plan = await planFromFile(opts.blueprint ?? SEED_BLUEPRINT);
  // Tests share one server: a per-lab revision keeps their rollout IDs apart (the ID is the blueprint revision).
  plan.revision = `${plan.revision}-${randomUUID().slice(0, 6)}`;
  createLab(labDir, fleetFromPlan(plan), { scenario: opts.scenario, toolLatencyMs: opts.toolLatencyMs ?? 0 });
  const { deps, close } = await buildActivityDeps({
    dataDir,
    secretKey: randomBytes(32).toString('hex'),
    labDir,
    labProcessPerCall: opts.processPerCall,
    pollBudgetMs: opts.pollBudgetMs ?? 3_000,
  });
  const taskQueue = `test-${randomUUID()}`;
  const worker = await createMeshpilotWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, deps, dataConverter: opts.dataConverter });
  const running = worker.run();
  return {
    taskQueue,
    labDir,
    dataDir,
    plan,
    deps,
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await close();
    },
  };
}

/** Repairs the simulated world the way an operator would fix the real one, so a plain `resume` can succeed. */
/**
 * `meshpilot worker --lab` as its own process (what `meshpilot dev --lab` runs), on a data directory and a task
 * queue of its own, for tests that SIGKILL it: `spawn()` starts one more with the same environment.
 */
export function labWorkerProcess(address: string, dataDir: string, queuePrefix: string): { taskQueue: string; spawn: () => ResultPromise } {
  const taskQueue = `${queuePrefix}-${randomUUID()}`;
  const env = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    MESHPILOT_DATA_DIR: dataDir,
    MESHPILOT_TASK_QUEUE: taskQueue,
    MESHPILOT_SECRET_KEY: randomBytes(32).toString('hex'),
    MESHPILOT_LOG_LEVEL: 'warn',
  };
  return { taskQueue, spawn: () => execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), 'worker', '--lab'], { env, reject: false, stdio: 'ignore' }) };
}

export async function healLab(labDir: string, scenario: ScenarioName): Promise<void> {
  await withLabState(labDir, (s) => {
    switch (scenario) {
      case 'node-unreachable':
        s.faults.unreachableNodes = [];
        break;
      case 'etcd-slow':
        delete s.faults.slowEtcdMember;
        break;
      case 'cp-only-excluded':
        s.faults.keepCpExcludeLabel = false;
        for (const n of Object.values(s.nodes)) delete n.labels['node.kubernetes.io/exclude-from-external-load-balancers'];
        break;
      case 'flaky-tools':
        delete s.faults.flakyEvery;
        break;
      default:
        throw new Error(`healLab: scenario ${scenario} is fixed by amending the blueprint, not by healing the lab`);
    }
  });
}

/**
 * For a describe() block: one real Temporal server for the block, and `lab()` to start lab workers on it that are
 * all stopped afterwards.
 */
export function useLabSuite() {
  let env: TestWorkflowEnvironment | undefined;
  const labs: LabWorker[] = [];
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    for (const l of labs) await l.stop();
    await env?.teardown();
  });
  return {
    get env(): TestWorkflowEnvironment {
      if (!env) throw new Error('the Temporal server is not up yet');
      return env;
    },
    async lab(opts: Parameters<typeof startLabWorker>[1]): Promise<LabWorker> {
      const l = await startLabWorker(this.env, opts);
      labs.push(l);
      return l;
    },
  };
}
