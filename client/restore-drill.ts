// `meshpilot restore-drill`: the one place a surface asks Temporal for a restore drill.
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { RestoreDrillInput, RestoreDrillResult } from '../contracts/backup.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, restoreDrillWorkflowId, RUN_KIND, SA } from '../contracts/names.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { restoreDrill } from '../workflows/restore-drill.ts';
import { backupClusters } from './backup.ts';
import { BackupInputError } from './errors.ts';
import { isRunning } from './rollouts.ts';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IP = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `--node NAME=ADDRESS`: the spare node the snapshot is restored onto. */
export function parseDrillNode(text: string): { name: string; address: string } {
  const [name = '', address = ''] = text.split('=');
  if (!NAME.test(name) || !IP.test(address)) throw new BackupInputError('node', `${JSON.stringify(text)} is not NAME=ADDRESS (e.g. drill-cp-1=192.168.10.90)`);
  return { name, address };
}

export interface StartRestoreDrillOptions {
  plan: RolloutPlan;
  cluster: string;
  snapshotId?: string;
  drillNode: { name: string; address: string };
  by: ActorInput;
  taskQueue?: string;
  limits?: PauseLimits;
}

/** Checks a drill request against the blueprint before anything starts, naming the argument that is wrong. */
export function validateRestoreDrill(o: Pick<StartRestoreDrillOptions, 'plan' | 'cluster' | 'snapshotId' | 'drillNode'>): void {
  backupClusters(o.plan, o.cluster);
  if (o.snapshotId !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(o.snapshotId)) throw new BackupInputError('snapshot', `${JSON.stringify(o.snapshotId)} is not a snapshot id (see meshpilot backup list)`);
  const used = o.plan.clusters.flatMap((c) => c.nodes).find((n) => n.address === o.drillNode.address || n.name === o.drillNode.name);
  if (used) throw new BackupInputError('node', `${o.drillNode.name} (${o.drillNode.address}) is ${used.name} (${used.address}), a node of this mesh: a drill needs a spare node`);
}

/** Starts the drill, or attaches to the one running for the same (mesh, cluster, node). */
export async function startRestoreDrill(client: Client, o: StartRestoreDrillOptions): Promise<{ workflowId: string; started: boolean }> {
  validateRestoreDrill(o);
  const [cluster] = backupClusters(o.plan, o.cluster);
  const workflowId = restoreDrillWorkflowId(o.plan.mesh, cluster!.name, o.drillNode.name);
  if (await isRunning(client, workflowId)) return { workflowId, started: false };
  const input: RestoreDrillInput = {
    mesh: o.plan.mesh,
    revision: o.plan.revision,
    cluster: cluster!.name,
    drillNode: o.drillNode,
    requestedBy: o.by,
    ...(o.snapshotId ? { snapshotId: o.snapshotId } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
  };
  await client.workflow.start(restoreDrill, {
    workflowId,
    taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Restore drill: ${cluster!.name} (mesh ${o.plan.mesh}) onto ${o.drillNode.name}, by ${o.by.by}`,
    staticDetails: `**Restore drill** of ${cluster!.name}: snapshot ${o.snapshotId ?? '(newest)'} restored onto the spare node ${o.drillNode.name} (${o.drillNode.address}) with talosctl bootstrap --recover-from, then proven.`,
    typedSearchAttributes: [
      { key: SA.mesh, value: o.plan.mesh },
      { key: SA.cluster, value: cluster!.name },
      { key: SA.kind, value: RUN_KIND.restoreDrill },
      { key: SA.state, value: 'running' },
    ],
  });
  return { workflowId, started: true };
}

export async function restoreDrillResult(client: Client, workflowId: string): Promise<RestoreDrillResult> {
  return (await client.workflow.getHandle(workflowId).result()) as RestoreDrillResult;
}
