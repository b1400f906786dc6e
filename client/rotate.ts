// `meshpilot rotate certs|ca`: the one place a surface asks Temporal for a certificate or CA rotation.
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, rotateWorkflowId, RUN_KIND, SA } from '../contracts/names.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { meshRotate, type MeshRotateInput, type MeshRotateResult, type RotateKind } from '../workflows/mesh-rotate.ts';
import { isRunning } from './rollouts.ts';

export interface StartRotateOptions {
  plan: RolloutPlan;
  kind: RotateKind;
  by: ActorInput;
  warnDays?: number;
  taskQueue?: string;
  limits?: PauseLimits;
}

/**
 * Starts the rotation, or attaches to the one running for the mesh: certs and CA share one workflow id, since both
 * change the same Helm values; a different kind while one runs is refused by the caller seeing `kind`.
 */
export async function startRotate(client: Client, o: StartRotateOptions): Promise<{ workflowId: string; started: boolean }> {
  const workflowId = rotateWorkflowId(o.plan.mesh);
  if (await isRunning(client, workflowId)) return { workflowId, started: false };
  const input: MeshRotateInput = {
    mesh: o.plan.mesh,
    revision: o.plan.revision,
    clusters: o.plan.clusters.map((c) => c.name),
    kind: o.kind,
    requestedBy: o.by,
    ...(o.warnDays !== undefined ? { warnDays: o.warnDays } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
  };
  const what = o.kind === 'ca' ? 'CA rotation' : 'Certificate rotation';
  await client.workflow.start(meshRotate, {
    workflowId,
    taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `${what}: ${o.plan.mesh} (${input.clusters.join(', ')}), by ${o.by.by}`,
    staticDetails:
      o.kind === 'ca'
        ? `**CA rotation** of ${o.plan.mesh}: every cluster trusts old + new CA, re-issues from the new one, then drops the old one; the mesh is checked after every cluster's change.`
        : `**Certificate rotation** of ${o.plan.mesh}: each cluster's ClusterMesh certificates re-issued from the mesh CA, one cluster at a time, the mesh checked after each.`,
    typedSearchAttributes: [
      { key: SA.mesh, value: o.plan.mesh },
      { key: SA.kind, value: RUN_KIND.rotate },
      { key: SA.state, value: 'running' },
    ],
  });
  return { workflowId, started: true };
}

export async function rotateResult(client: Client, workflowId: string): Promise<MeshRotateResult> {
  return (await client.workflow.getHandle(workflowId).result()) as MeshRotateResult;
}
