// Starting a detach (`meshpilot detach`, `/mesh detach`): the one place either surface asks Temporal for one.
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import type { ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, detachWorkflowId, RUN_KIND, SA } from '../contracts/names.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { meshDetach, type MeshDetachInput } from '../workflows/mesh-detach.ts';
import { DetachInputError } from './errors.ts';
import { isRunning } from './rollouts.ts';

/** Mesh and cluster names as the blueprint allows them (metadata.name, clusters[].name: DNS labels). */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface StartDetachOptions {
  mesh: string;
  cluster: string;
  reason: string;
  requestedBy: ActorInput;
  taskQueue?: string;
  limits?: PauseLimits;
}

export interface StartedDetach {
  workflowId: string;
  /** false when a detach of this cluster was already running: we attached to it */
  started: boolean;
}

/** Checks the inputs before anything starts, naming the argument that is wrong. */
export function validateDetach(o: Pick<StartDetachOptions, 'mesh' | 'cluster' | 'reason'>): void {
  if (!NAME.test(o.mesh) || o.mesh.length > 40) throw new DetachInputError('mesh', `${JSON.stringify(o.mesh)} is not a mesh name (the blueprint's metadata.name: lower-case letters, digits and "-")`);
  if (!NAME.test(o.cluster) || o.cluster.length > 32) throw new DetachInputError('cluster', `${JSON.stringify(o.cluster)} is not a cluster name (the blueprint's clusters[].name)`);
  if (o.reason.trim().length < 3) throw new DetachInputError('reason', 'say why the cluster leaves (at least 3 characters; it is kept in the audit)');
}

/**
 * Starts the detach of one cluster, or attaches to the one running (USE_EXISTING); a finished detach may run again
 * (it reads the live mesh first, so it converges).
 */
export async function startDetach(client: Client, o: StartDetachOptions): Promise<StartedDetach> {
  validateDetach(o);
  const workflowId = detachWorkflowId(o.mesh, o.cluster);
  if (await isRunning(client, workflowId)) return { workflowId, started: false };
  const input: MeshDetachInput = { mesh: o.mesh, cluster: o.cluster, reason: o.reason.trim(), requestedBy: o.requestedBy, ...(o.limits ? { limits: o.limits } : {}) };
  await client.workflow.start(meshDetach, {
    workflowId,
    taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Mesh ${o.mesh}: detach ${o.cluster} (by ${o.requestedBy.by} via ${o.requestedBy.via ?? 'api'})`,
    staticDetails: [
      `**Detach** ${o.cluster} from mesh ${o.mesh}, requested by ${o.requestedBy.by} via ${o.requestedBy.via ?? 'api'}: ${input.reason}`,
      '',
      'Every remaining peer forgets it (one at a time, global services checked after each), the remaining mesh is verified, then its own peer list is emptied. It keeps running on its own; nothing is wiped.',
    ].join('\n'),
    typedSearchAttributes: [
      { key: SA.mesh, value: o.mesh },
      { key: SA.cluster, value: o.cluster },
      { key: SA.kind, value: RUN_KIND.detach },
      { key: SA.state, value: 'running' },
    ],
  });
  return { workflowId, started: true };
}
