// The only place the CLI (and later chat) talks to Temporal about upgrades: the read-only survey behind `--plan`, the
// start of an upgrade, and its plan. Status, watch and operator actions are the rollout's (client/rollouts.ts): an
// upgrade answers the same status query, so every surface reads it the same way.
import { randomUUID } from 'node:crypto';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { planUpgrade, type UpgradePlan } from '../blueprint/upgrade/plan.ts';
import type { MeshSurvey } from '../blueprint/upgrade/survey.ts';
import { upgradePlanQuery, type ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, RUN_KIND, SA, upgradeSurveyWorkflowId, upgradeWorkflowId } from '../contracts/names.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { meshUpgrade, type MeshUpgradeInput } from '../workflows/mesh-upgrade.ts';
import { upgradeSurvey } from '../workflows/upgrade-survey.ts';
import { RolloutNotFound } from './errors.ts';
import { reachable } from './rollouts.ts';

export interface LivePlan {
  survey: MeshSurvey;
  plan: UpgradePlan;
}

/**
 * Reads the live versions (a short read-only workflow: the tools run on the workers, which reach the clusters) and
 * plans the upgrade from them with the pure function the upgrade itself runs.
 */
export async function planUpgradeLive(client: Client, opts: { plan: RolloutPlan; taskQueue?: string; siteQueues?: boolean }): Promise<LivePlan> {
  const survey = await reachable(client, () => client.workflow.execute(upgradeSurvey, {
    workflowId: upgradeSurveyWorkflowId(opts.plan.mesh, opts.plan.revision, randomUUID().slice(0, 8)),
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [{ plan: opts.plan, siteQueues: opts.siteQueues }],
    staticSummary: `${opts.plan.mesh}: the live versions, for the upgrade to revision ${opts.plan.revision}`,
    typedSearchAttributes: [
      { key: SA.mesh, value: opts.plan.mesh },
      { key: SA.kind, value: RUN_KIND.upgradeSurvey },
    ],
  }));
  return { survey, plan: planUpgrade(opts.plan, survey) };
}

export interface StartUpgradeOptions {
  plan: RolloutPlan;
  requestedBy: ActorInput;
  taskQueue?: string;
  siteQueues?: boolean;
  limits?: PauseLimits;
}

export interface StartedUpgrade {
  workflowId: string;
  upgradeId: string;
  /** false when the same revision was already upgrading: attached to it instead of starting a second one */
  started: boolean;
}

async function isRunning(client: Client, workflowId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Whether an upgrade of this revision runs now (a second start attaches to it). */
export function upgradeRunning(client: Client, plan: RolloutPlan): Promise<boolean> {
  return reachable(client, () => isRunning(client, upgradeWorkflowId(plan.mesh, plan.revision)));
}

/** Starts (or attaches to) the upgrade to one blueprint revision. */
export function startUpgrade(client: Client, opts: StartUpgradeOptions): Promise<StartedUpgrade> {
  return reachable(client, () => startUpgradeNow(client, opts));
}

async function startUpgradeNow(client: Client, opts: StartUpgradeOptions): Promise<StartedUpgrade> {
  const upgradeId = opts.plan.revision;
  const workflowId = upgradeWorkflowId(opts.plan.mesh, upgradeId);
  if (await isRunning(client, workflowId)) return { workflowId, upgradeId, started: false };
  const input: MeshUpgradeInput = { upgradeId, plan: opts.plan, requestedBy: opts.requestedBy, siteQueues: opts.siteQueues, limits: opts.limits };
  const v = opts.plan.clusters[0];
  await client.workflow.start(meshUpgrade, {
    workflowId,
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [input],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Upgrade of mesh ${opts.plan.mesh} to Talos ${v?.talos.version}, Kubernetes ${v?.talos.kubernetesVersion}, Cilium ${v?.cilium.chartVersion} (revision ${upgradeId})`,
    staticDetails: [
      `**Upgrade** of mesh ${opts.plan.mesh} to revision \`${upgradeId}\`, started by ${opts.requestedBy.by} via ${opts.requestedBy.via ?? 'api'}`,
      '',
      ...opts.plan.clusters.map((c) => `- **${c.name}**: Talos ${c.talos.version}, Kubernetes ${c.talos.kubernetesVersion}, Cilium ${c.cilium.chartVersion}; ${c.nodes.length} nodes`),
    ].join('\n'),
    typedSearchAttributes: [
      { key: SA.mesh, value: opts.plan.mesh },
      { key: SA.kind, value: RUN_KIND.upgrade },
      { key: SA.state, value: 'running' },
    ],
  });
  return { workflowId, upgradeId, started: true };
}

/** What a running or finished upgrade read and planned (absent before its survey step finished). */
export async function getUpgradePlan(client: Client, id: string): Promise<{ survey?: MeshSurvey; plan?: UpgradePlan }> {
  try {
    return await reachable(client, () => client.workflow.getHandle(id).query(upgradePlanQuery));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new RolloutNotFound(id);
    throw err;
  }
}
