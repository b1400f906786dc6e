// Measurement (a): one meshpilot rollout of an N-cluster mesh on a fresh lab, with everything the table needs.
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { readCalls } from '../lab/call-log.ts';
import { getRolloutView } from '../client/rollouts.ts';
import { start } from '../test/helpers/rollout.ts';
import { criticalPath, type CriticalPath } from './critical-path.ts';
import { cpuSince, sampleCpu } from './cpu.ts';
import { startBenchWorker } from './lab-worker.ts';
import { readTags } from './tool-shims.ts';
import { runSequentialRunbook } from './sequential-runbook.ts';
import { createBenchLab } from './lab-worker.ts';

export interface LabSettings {
  toolLatencyMs: number;
  pollBudgetMs: number;
}

export interface MeshpilotRun {
  clusters: number;
  state: string;
  wallMs: number;
  toolCalls: number;
  critical: CriticalPath;
  /** history events of the parent and of the largest child (latest run of each) */
  parentEvents: number;
  maxChildEvents: number;
  cpu: { workerAndTools: number; server: number };
}

/** Rolls the plan out with a fresh worker and lab; the wall time is the parent's own start → close. */
export async function runMeshpilot(env: TestWorkflowEnvironment, root: string, plan: RolloutPlan, lab: LabSettings): Promise<MeshpilotRun> {
  const w = await startBenchWorker(env.nativeConnection, env.namespace ?? 'default', root, plan, { scenario: 'happy', ...lab });
  try {
    const cpu0 = sampleCpu();
    const { workflowId } = await start(env.client, plan, w.taskQueue);
    const parent = env.client.workflow.getHandle(workflowId);
    // Wait on the result (a long poll), not by querying: a status poll would query the parent and every child
    // several times a second, and the worker would spend the benchmark answering the benchmark.
    await Promise.race([
      parent.result().catch(() => undefined),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`${plan.mesh}: no result within 15 min`)), 15 * 60_000).unref()),
    ]);
    const cpu = cpuSince(cpu0);
    const view = await getRolloutView(env.client, workflowId);
    const d = await parent.describe();
    const wallMs = (d.closeTime?.getTime() ?? Date.now()) - d.startTime.getTime();
    const parentEvents = (await parent.fetchHistory()).events?.length ?? 0;
    let maxChildEvents = 0;
    for (const c of view.clusters) {
      maxChildEvents = Math.max(maxChildEvents, (await env.client.workflow.getHandle(c.workflowId).fetchHistory()).events?.length ?? 0);
    }
    const calls = readCalls(w.labDir);
    return {
      clusters: plan.clusters.length,
      state: view.state,
      wallMs,
      toolCalls: calls.length,
      critical: criticalPath(plan, view, calls, readTags(w.tagLog)),
      parentEvents,
      maxChildEvents,
      cpu,
    };
  } finally {
    await w.stop();
    w.remove();
  }
}

export interface RunbookRun {
  wallMs: number;
  toolCalls: number;
  cpuWorkerAndTools: number;
}

/** Measurement (b): the sequential runbook on its own fresh lab, same tools, PATH and env as the worker's. */
export async function runRunbook(root: string, plan: RolloutPlan, lab: LabSettings): Promise<RunbookRun> {
  const l = await createBenchLab(root, plan, { scenario: 'happy', ...lab });
  try {
    const cpu0 = sampleCpu();
    const wallMs = await runSequentialRunbook(l.deps, plan, path.join(l.dataDir, 'runbook'));
    return { wallMs, toolCalls: readCalls(l.labDir).length, cpuWorkerAndTools: cpuSince(cpu0).workerAndTools };
  } finally {
    await l.close();
  }
}
