// Workflow-safe: update, signal and query definitions, shared by workflows, client, CLI and chat.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ClusterPlan, RolloutPlan } from '../blueprint/plan.ts';
import type { MeshSurvey } from '../blueprint/upgrade/survey.ts';
import type { UpgradePlan } from '../blueprint/upgrade/plan.ts';
import type { BlockedSummary, ClusterStatus, MeshRolloutStatus } from './status.ts';

/** Who acts, through which surface, and why: kept in the run's audit. */
export interface ActorInput {
  by: string;
  via?: string;
  reason?: string;
}

export interface ResumeInput extends ActorInput {
  /** the step to re-check now; default: whatever is blocked */
  step?: string;
}
export interface StepActionInput extends ActorInput {
  step: string;
  reason: string;
}
export interface AbortInput extends ActorInput {
  reason: string;
}
export interface AmendInput extends ActorInput {
  plan: RolloutPlan;
}

export interface ActionResult {
  accepted: true;
  message: string;
}

export const resumeUpdate = defineUpdate<ActionResult, [ResumeInput]>('resume');
export const skipUpdate = defineUpdate<ActionResult, [StepActionInput]>('skip');
export const overrideUpdate = defineUpdate<ActionResult, [StepActionInput]>('override');
export const abortUpdate = defineUpdate<ActionResult, [AbortInput]>('abort');
export const amendUpdate = defineUpdate<ActionResult, [AmendInput]>('amend');

export const clusterStatusQuery = defineQuery<ClusterStatus>('status');
/** an upgrade: what it read from the live mesh and the path it takes (absent until the survey step has run) */
export const upgradePlanQuery = defineQuery<{ survey?: MeshSurvey; plan?: UpgradePlan }>('upgradePlan');
export const meshStatusQuery = defineQuery<MeshRolloutStatus>('status');

/** parent → child: the operator aborted the rollout */
export const abortClusterSignal = defineSignal<[AbortInput]>('meshpilot.abortCluster');
/** parent → child: an accepted amendment, with the child's new plan */
export const amendClusterSignal = defineSignal<[{ plan: ClusterPlan; actor: ActorInput }]>('meshpilot.amendCluster');
/** child → parent: a step blocked (summary) or unblocked (null), so the parent's state and search attributes say "paused" */
export const clusterBlockedSignal = defineSignal<[{ cluster: string; blocked: BlockedSummary | null }]>('meshpilot.clusterBlocked');
