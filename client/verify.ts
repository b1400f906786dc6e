// Verify runs for the CLI and the chat app: run once now, find past reports, and the schedule functions.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, RUN_KIND, SA, verifyWorkflowId } from '../contracts/names.ts';
import type { VerifyInput, VerifyNotifyConfig } from '../contracts/verify/input.ts';
import type { VerifyReport } from '../contracts/verify/report.ts';
import { verifyMesh } from '../workflows/verify.ts';

export {
  assertMeshName,
  cadenceSpec,
  describeVerifySchedule,
  deleteVerifySchedule,
  listVerifySchedules,
  pauseVerifySchedule,
  parseCatchupWindow,
  parseEvery,
  ScheduleInputError,
  triggerVerifySchedule,
  unpauseVerifySchedule,
  upsertVerifySchedule,
  validateCron,
  VerifyScheduleNotFound,
  VerifyRunInProgress,
  type Cadence,
  type VerifyScheduleOptions,
  type VerifyScheduleView,
} from './schedules.ts';

export interface StartVerifyOptions {
  notify?: VerifyNotifyConfig;
  source?: string;
  taskQueue?: string;
  certWarnDays?: number;
}

/** Starts one verify run of the mesh now; every manual run has its own id (`verify-<mesh>-manual-<time>-<rand>`). */
export async function startVerify(client: Client, plan: RolloutPlan, by: ActorInput, opts: StartVerifyOptions = {}): Promise<{ workflowId: string }> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const workflowId = verifyWorkflowId(plan.mesh, `manual-${stamp}-${randomBytes(3).toString('hex')}`);
  const input: VerifyInput = {
    plan,
    requestedBy: { by: by.by, via: by.via ?? 'api' },
    ...(opts.notify ? { notify: opts.notify } : {}),
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.certWarnDays !== undefined ? { certWarnDays: opts.certWarnDays } : {}),
  };
  await client.workflow.start(verifyMesh, {
    workflowId,
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    staticSummary: `Verify ${plan.mesh} (by ${by.by} via ${by.via ?? 'api'}, revision ${plan.revision})`,
    typedSearchAttributes: [
      { key: SA.mesh, value: plan.mesh },
      { key: SA.kind, value: RUN_KIND.verify },
      { key: SA.state, value: 'running' },
    ],
  });
  return { workflowId };
}

/** Result of a verify run (waits for it). */
export function verifyResult(client: Client, workflowId: string): Promise<VerifyReport> {
  return client.workflow.getHandle<typeof verifyMesh>(workflowId).result();
}

/** Runs the checks once now and returns the report (`meshpilot verify FILE`, `/mesh verify NAME`). */
export async function verifyNow(client: Client, plan: RolloutPlan, by: ActorInput, opts: StartVerifyOptions = {}): Promise<VerifyReport> {
  const { workflowId } = await startVerify(client, plan, by, opts);
  return verifyResult(client, workflowId);
}

export interface VerifyRunListing {
  workflowId: string;
  mesh: string;
  status: string;
  startTime: string;
  closeTime?: string;
}

/** Verify runs of a mesh (or all), newest first, from visibility. */
export async function listVerifyRuns(client: Client, opts: { mesh?: string; limit?: number } = {}): Promise<VerifyRunListing[]> {
  const clauses = [`${SA.kind.name} = '${RUN_KIND.verify}'`];
  if (opts.mesh) clauses.push(`${SA.mesh.name} = '${opts.mesh.replace(/'/g, '')}'`);
  const out: VerifyRunListing[] = [];
  for await (const wf of client.workflow.list({ query: clauses.join(' AND ') })) {
    out.push({
      workflowId: wf.workflowId,
      mesh: wf.typedSearchAttributes.get(SA.mesh) ?? '',
      status: wf.status.name,
      startTime: wf.startTime.toISOString(),
      ...(wf.closeTime ? { closeTime: wf.closeTime.toISOString() } : {}),
    });
    if (out.length >= (opts.limit ?? 20)) break;
  }
  return out;
}
