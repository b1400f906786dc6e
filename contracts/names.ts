// Workflow-safe: the one place for queue names, workflow-ID builders and search-attribute keys.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The queue every worker serves unless workers are split by site. */
export const DEFAULT_TASK_QUEUE = 'meshpilot';

/** A site worker (`meshpilot worker --site usa`) polls this queue, so talosctl/BMC calls run inside that site's network. */
export function siteTaskQueue(site: string): string {
  return `meshpilot-site-${site}`;
}

/**
 * One rollout per (mesh, change): the id is derived from the blueprint's content hash, so starting the
 * same change twice attaches to the running rollout instead of starting a second one.
 */
export function rolloutWorkflowId(mesh: string, rolloutId: string): string {
  return `rollout-${mesh}-${rolloutId}`;
}

/** A cluster's child: unique within its rollout, readable in the UI list. */
export function clusterWorkflowId(parentId: string, cluster: string): string {
  return `${parentId}-cluster-${cluster}`;
}

/**
 * One upgrade per (mesh, blueprint revision): starting the same revision again attaches to the running upgrade; a
 * finished one may run again (it surveys the live versions first, so it converges).
 */
export function upgradeWorkflowId(mesh: string, revision: string): string {
  return `upgrade-${mesh}-${revision}`;
}

/** `upgrade --plan`: a read-only survey of the live versions; several may run side by side. */
export function upgradeSurveyWorkflowId(mesh: string, revision: string, suffix: string): string {
  return `upgrade-plan-${mesh}-${revision}-${suffix}`;
}

/**
 * One detach per (mesh, cluster) at a time: starting it again while it runs attaches to it; a finished one may run
 * again (every step reads the live mesh first, so it converges).
 */
export function detachWorkflowId(mesh: string, cluster: string): string {
  return `detach-${mesh}-${cluster}`;
}

/** One verify run per trigger; schedule-started runs get Temporal's own suffix. */
export function verifyWorkflowId(mesh: string, suffix: string): string {
  return `verify-${mesh}-${suffix}`;
}

/** One schedule per mesh: re-creating it updates it. */
export function verifyScheduleId(mesh: string): string {
  return `verify-${mesh}`;
}

/**
 * One backup per (mesh, cluster, trigger): a manual one gets `manual-<time>`, a schedule's runs get Temporal's own
 * time suffix after `scheduled`. Two backups of one cluster may not overlap (the schedule skips, `backup now`
 * attaches): see client/backup.ts.
 */
export function backupWorkflowId(mesh: string, cluster: string, suffix: string): string {
  return `backup-${mesh}-${cluster}-${suffix}`;
}

/** One backup schedule per (mesh, cluster): re-creating it updates it. */
export function backupScheduleId(mesh: string, cluster: string): string {
  return `backup-${mesh}-${cluster}`;
}

/** One restore drill per (mesh, source cluster, drill node) at a time: starting it again attaches. */
export function restoreDrillWorkflowId(mesh: string, cluster: string, drillNode: string): string {
  return `restore-drill-${mesh}-${cluster}-${drillNode}`;
}

/** One certificate or CA rotation per mesh at a time (both change the same Helm values): starting it again attaches. */
export function rotateWorkflowId(mesh: string): string {
  return `rotate-${mesh}`;
}

/** One failover drill per (mesh, region) at a time: starting it again while it runs attaches; a finished one may run again. */
export function failoverDrillWorkflowId(mesh: string, region: string): string {
  return `failover-drill-${mesh}-${region}`;
}

/** What a run is (search attribute MeshpilotKind): how visibility tells rollouts, their cluster children and verify runs apart. */
export const RUN_KIND = {
  rollout: 'rollout',
  clusterRollout: 'cluster-rollout',
  upgrade: 'upgrade',
  clusterUpgrade: 'cluster-upgrade',
  upgradeSurvey: 'upgrade-survey',
  detach: 'detach',
  verify: 'verify',
  backup: 'backup',
  restoreDrill: 'restore-drill',
  rotate: 'rotate',
  failoverDrill: 'failover-drill',
} as const;
export type RunKind = (typeof RUN_KIND)[keyof typeof RUN_KIND];

export const SA = {
  mesh: defineSearchAttributeKey('MeshpilotMesh', SearchAttributeType.KEYWORD),
  state: defineSearchAttributeKey('MeshpilotState', SearchAttributeType.KEYWORD),
  blockedStep: defineSearchAttributeKey('MeshpilotBlockedStep', SearchAttributeType.KEYWORD),
  cluster: defineSearchAttributeKey('MeshpilotCluster', SearchAttributeType.KEYWORD),
  kind: defineSearchAttributeKey('MeshpilotKind', SearchAttributeType.KEYWORD),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(SA);
