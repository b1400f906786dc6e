// etcd backups (`meshpilot backup …`): the one place a surface asks Temporal to take, schedule, list or prune them.
import { randomBytes } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { DEFAULT_RETENTION, type BackupCluster, type BackupInput, type BackupNotifyConfig, type BackupResult, type PruneOutcome, type RetentionPolicy, type SnapshotMeta } from '../contracts/backup.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { backupScheduleId, backupWorkflowId, DEFAULT_TASK_QUEUE, RUN_KIND, SA } from '../contracts/names.ts';
import type { PauseLimits } from '../contracts/steps.ts';
import { clusterBackup } from '../workflows/backup.ts';
import { backupCatalog, backupPrune } from '../workflows/backup-catalog.ts';
import { BackupInputError, BackupScheduleNotFound, ScheduleInputError } from './errors.ts';
import { isRunning } from './rollouts.ts';
import { DEFAULT_CATCHUP_WINDOW, cadenceSpec, parseCatchupWindow, scheduleSummaryFacts, type Cadence } from './schedules.ts';

export { BackupInputError, BackupScheduleNotFound } from './errors.ts';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

export function assertMesh(mesh: string): void {
  if (!NAME.test(mesh) || mesh.length > 40) throw new BackupInputError('mesh', `${JSON.stringify(mesh)} is not a mesh name (the blueprint's metadata.name: lower-case letters, digits and "-")`);
}

/** The clusters of a plan as a backup needs them (all, or the one named), each with its control planes in order. */
export function backupClusters(plan: RolloutPlan, cluster?: string): BackupCluster[] {
  const all = plan.clusters.map((c) => ({ name: c.name, controlPlanes: c.nodes.filter((n) => n.role === 'controlplane').map((n) => ({ name: n.name, address: n.address })) }));
  if (cluster === undefined) return all;
  const one = all.find((c) => c.name === cluster);
  if (!one) throw new BackupInputError('cluster', `${JSON.stringify(cluster)} is not a cluster of mesh ${plan.mesh} (clusters: ${all.map((c) => c.name).join(', ')})`);
  return [one];
}

/** `--keep-last N` and `--max-age 30d`: validated here, so both surfaces refuse the same input the same way. */
export function parseRetention(o: { keepLast?: string | number; maxAge?: string }): RetentionPolicy {
  if (o.keepLast === undefined && o.maxAge === undefined) return DEFAULT_RETENTION;
  const policy: RetentionPolicy = {};
  if (o.keepLast !== undefined) {
    const n = Number(o.keepLast);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new BackupInputError('keep-last', `${JSON.stringify(String(o.keepLast))} is not a whole number from 1 to 10000`);
    policy.keepLast = n;
  }
  if (o.maxAge !== undefined) {
    const t = o.maxAge.trim();
    if (!/^(\d+[dhm])+$/.test(t)) throw new BackupInputError('max-age', `${JSON.stringify(o.maxAge)} is not a duration like 30d, 12h or 1d12h`);
    let ms = 0;
    for (const [, n, u] of t.matchAll(/(\d+)([dhm])/g)) ms += Number(n) * UNIT_MS[u as keyof typeof UNIT_MS];
    if (ms < 3_600_000) throw new BackupInputError('max-age', `${o.maxAge} is shorter than an hour: every snapshot would be gone before the next one`);
    policy.maxAgeMs = ms;
  }
  return policy;
}

export interface StartBackupOptions {
  plan: RolloutPlan;
  /** one cluster; default every cluster of the plan */
  cluster?: string;
  retention: RetentionPolicy;
  by: ActorInput;
  notify?: BackupNotifyConfig;
  taskQueue?: string;
  limits?: PauseLimits;
}

export interface StartedBackup {
  cluster: string;
  workflowId: string;
  /** false: a manual backup of this cluster was running already, and this attached to it */
  started: boolean;
}

function backupInput(o: Omit<StartBackupOptions, 'cluster' | 'taskQueue'>, cluster: BackupCluster): BackupInput {
  if (!cluster.controlPlanes.length) throw new BackupInputError('cluster', `${cluster.name} has no control-plane node in the blueprint`);
  return {
    mesh: o.plan.mesh,
    revision: o.plan.revision,
    cluster,
    retention: o.retention,
    requestedBy: o.by,
    ...(o.notify ? { notify: o.notify } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
  };
}

const searchAttributes = (mesh: string, cluster: string) => [
  { key: SA.mesh, value: mesh },
  { key: SA.cluster, value: cluster },
  { key: SA.kind, value: RUN_KIND.backup },
  { key: SA.state, value: 'running' },
];

/**
 * `backup now`: one backup per cluster, id `backup-<mesh>-<cluster>-manual`. A manual backup of that cluster still
 * running is attached to (USE_EXISTING), a finished one may run again; each run names its snapshot by its own run.
 */
export async function startBackups(client: Client, o: StartBackupOptions): Promise<StartedBackup[]> {
  assertMesh(o.plan.mesh);
  const clusters = backupClusters(o.plan, o.cluster);
  const out: StartedBackup[] = [];
  for (const c of clusters) {
    const input = backupInput(o, c);
    const workflowId = backupWorkflowId(o.plan.mesh, c.name, 'manual');
    if (await isRunning(client, workflowId)) {
      out.push({ cluster: c.name, workflowId, started: false });
      continue;
    }
    await client.workflow.start(clusterBackup, {
      workflowId,
      taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `Backup ${c.name} (mesh ${o.plan.mesh}): etcd snapshot, by ${o.by.by} via ${o.by.via ?? 'api'}`,
      staticDetails: `**etcd backup** of ${c.name} in mesh ${o.plan.mesh} (revision ${o.plan.revision}): a healthy control plane, talosctl etcd snapshot, stored encrypted; retention ${JSON.stringify(o.retention)}.`,
      typedSearchAttributes: searchAttributes(o.plan.mesh, c.name),
    });
    out.push({ cluster: c.name, workflowId, started: true });
  }
  return out;
}

export async function backupResult(client: Client, workflowId: string): Promise<BackupResult> {
  return (await client.workflow.getHandle(workflowId).result()) as BackupResult;
}

const shortId = () => `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** Every stored snapshot of a mesh (or one cluster), newest first per cluster: metadata only. */
export async function listBackups(client: Client, mesh: string, opts: { cluster?: string; taskQueue?: string } = {}): Promise<SnapshotMeta[]> {
  assertMesh(mesh);
  if (opts.cluster !== undefined && !NAME.test(opts.cluster)) throw new BackupInputError('cluster', `${JSON.stringify(opts.cluster)} is not a cluster name`);
  return client.workflow.execute(backupCatalog, {
    workflowId: `backup-catalog-${mesh}-${shortId()}`,
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [{ mesh, ...(opts.cluster ? { cluster: opts.cluster } : {}) }],
    staticSummary: `List the etcd snapshots of ${mesh}`,
    typedSearchAttributes: [
      { key: SA.mesh, value: mesh },
      { key: SA.kind, value: RUN_KIND.backup },
    ],
  });
}

/** Applies a retention policy now (or, with dryRun, says what it would remove). */
export async function pruneBackups(client: Client, mesh: string, o: { retention: RetentionPolicy; cluster?: string; dryRun?: boolean; taskQueue?: string; by: ActorInput }): Promise<PruneOutcome[]> {
  assertMesh(mesh);
  return client.workflow.execute(backupPrune, {
    workflowId: `backup-prune-${mesh}-${shortId()}`,
    taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
    args: [{ mesh, retention: o.retention, ...(o.cluster ? { cluster: o.cluster } : {}), ...(o.dryRun ? { dryRun: true } : {}) }],
    staticSummary: `Prune the etcd snapshots of ${mesh}${o.dryRun ? ' (dry run)' : ''}, by ${o.by.by}`,
    typedSearchAttributes: [
      { key: SA.mesh, value: mesh },
      { key: SA.kind, value: RUN_KIND.backup },
    ],
  });
}

// ---- schedules: one per (mesh, cluster), ids backup-<mesh>-<cluster> ------------------------------------------

export interface BackupScheduleOptions extends Omit<StartBackupOptions, 'limits'> {
  cadence: Cadence;
  catchupWindow?: string;
}

export interface BackupScheduleView {
  scheduleId: string;
  mesh: string;
  cluster: string;
  cadence: string;
  paused: boolean;
  nextRunAt?: string;
  lastRun?: { workflowId: string; startedAt: string };
  running: string[];
}

/** Creates each cluster's schedule, or updates it in place (cadence, control planes, retention, notify). */
export async function upsertBackupSchedules(client: Client, o: BackupScheduleOptions): Promise<Array<{ scheduleId: string; cluster: string; created: boolean; cadence: string }>> {
  assertMesh(o.plan.mesh);
  const { spec, text } = cadenceSpec(o.cadence);
  const catchupMs = parseCatchupWindow(o.catchupWindow ?? DEFAULT_CATCHUP_WINDOW);
  const out = [];
  for (const c of backupClusters(o.plan, o.cluster)) {
    const input = backupInput({ ...o, by: { by: o.by.by, via: `${o.by.via ?? 'api'} (schedule)` } }, c);
    const scheduleId = backupScheduleId(o.plan.mesh, c.name);
    const body = {
      spec,
      action: {
        type: 'startWorkflow' as const,
        workflowType: clusterBackup,
        // Temporal appends the scheduled time, so each run has its own id (and its own snapshot id)
        workflowId: backupWorkflowId(o.plan.mesh, c.name, 'scheduled'),
        taskQueue: o.taskQueue ?? DEFAULT_TASK_QUEUE,
        args: [input] as [BackupInput],
        staticSummary: `Backup ${c.name} (mesh ${o.plan.mesh}, ${text}, revision ${o.plan.revision})`,
        typedSearchAttributes: searchAttributes(o.plan.mesh, c.name),
      },
      // SKIP: a backup still running (or paused for want of a healthy control plane) is not doubled
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: catchupMs, pauseOnFailure: false },
    };
    try {
      await client.schedule.create({
        scheduleId,
        ...body,
        memo: { mesh: o.plan.mesh, cluster: c.name, createdBy: o.by.by },
        typedSearchAttributes: [
          { key: SA.mesh, value: o.plan.mesh },
          { key: SA.kind, value: RUN_KIND.backup },
        ],
      });
      out.push({ scheduleId, cluster: c.name, created: true, cadence: text });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, ...body, state: { ...prev.state, note: `updated by ${o.by.by}` } }));
      out.push({ scheduleId, cluster: c.name, created: false, cadence: text });
    }
  }
  return out;
}

/**
 * `backup schedule create MESH` (no blueprint): changes the cadence (and retention) of the mesh's existing
 * schedules, keeping the clusters and control planes their blueprint gave them.
 */
export async function updateBackupSchedules(
  client: Client,
  mesh: string,
  o: { cadence: Cadence; retention?: RetentionPolicy; cluster?: string; by: ActorInput; catchupWindow?: string },
): Promise<Array<{ scheduleId: string; cluster: string; created: boolean; cadence: string }>> {
  const views = (await listBackupSchedules(client, mesh)).filter((v) => !o.cluster || v.cluster === o.cluster);
  if (!views.length) throw new BackupScheduleNotFound(mesh, o.cluster);
  const { spec, text } = cadenceSpec(o.cadence);
  const catchupMs = o.catchupWindow ? parseCatchupWindow(o.catchupWindow) : undefined;
  for (const v of views) {
    await client.schedule.getHandle(v.scheduleId).update((prev) => {
      if (prev.action.type !== 'startWorkflow') return prev;
      const [input] = prev.action.args as [BackupInput];
      const revision = scheduleSummaryFacts(prev.action.staticSummary).revision ?? input.revision;
      return {
        ...prev,
        spec,
        action: { ...prev.action, args: [{ ...input, ...(o.retention ? { retention: o.retention } : {}) }], staticSummary: `Backup ${v.cluster} (mesh ${mesh}, ${text}, revision ${revision})` },
        ...(catchupMs !== undefined ? { policies: { ...prev.policies, catchupWindow: catchupMs } } : {}),
        state: { ...prev.state, note: `updated by ${o.by.by}` },
      };
    });
  }
  return views.map((v) => ({ scheduleId: v.scheduleId, cluster: v.cluster, created: false, cadence: text }));
}

/** Every backup schedule (of one mesh, when given). */
export async function listBackupSchedules(client: Client, mesh?: string): Promise<BackupScheduleView[]> {
  if (mesh !== undefined) assertMesh(mesh);
  const ids: Array<{ id: string; mesh: string; cluster: string }> = [];
  for await (const s of client.schedule.list()) {
    const type = s.action?.type === 'startWorkflow' ? s.action.workflowType : undefined;
    if (type !== clusterBackup.name) continue;
    const memo = (s.memo ?? {}) as { mesh?: string; cluster?: string };
    if (!memo.mesh || !memo.cluster || (mesh !== undefined && memo.mesh !== mesh)) continue;
    ids.push({ id: s.scheduleId, mesh: memo.mesh, cluster: memo.cluster });
  }
  const views = await Promise.all(
    ids.map(async ({ id, mesh: m, cluster }) => {
      const d = await client.schedule.getHandle(id).describe();
      const last = d.info.recentActions.at(-1);
      const { cadence } = scheduleSummaryFacts(d.action.type === 'startWorkflow' ? d.action.staticSummary : undefined);
      return {
        scheduleId: id,
        mesh: m,
        cluster,
        cadence,
        paused: d.state.paused,
        ...(d.info.nextActionTimes[0] ? { nextRunAt: d.info.nextActionTimes[0].toISOString() } : {}),
        ...(last ? { lastRun: { workflowId: last.action.workflow.workflowId, startedAt: last.takenAt.toISOString() } } : {}),
        running: d.info.runningActions.map((a) => a.workflow.workflowId),
      };
    }),
  );
  return views.sort((a, b) => a.mesh.localeCompare(b.mesh) || a.cluster.localeCompare(b.cluster));
}

async function schedulesOf(client: Client, mesh: string, cluster?: string): Promise<BackupScheduleView[]> {
  const views = (await listBackupSchedules(client, mesh)).filter((v) => !cluster || v.cluster === cluster);
  if (!views.length) throw new BackupScheduleNotFound(mesh, cluster);
  return views;
}

/** Runs each schedule's action now (overlap SKIP) and returns the started runs' workflow ids once recorded. */
export async function triggerBackupSchedules(client: Client, mesh: string, opts: { cluster?: string; timeoutMs?: number } = {}): Promise<Array<{ cluster: string; workflowId: string }>> {
  const out = [];
  for (const v of await schedulesOf(client, mesh, opts.cluster)) {
    const handle = client.schedule.getHandle(v.scheduleId);
    const before = await handle.describe();
    const known = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    for (;;) {
      const d = await handle.describe();
      const fresh = d.info.recentActions.find((a) => !known.has(a.action.workflow.workflowId));
      if (fresh) {
        out.push({ cluster: v.cluster, workflowId: fresh.action.workflow.workflowId });
        break;
      }
      if (Date.now() > deadline) throw new Error(`triggered ${v.scheduleId}, but no run appeared within ${opts.timeoutMs ?? 30_000} ms (a run still in progress is never doubled: ${v.running.join(', ') || 'none'})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return out;
}

export async function pauseBackupSchedules(client: Client, mesh: string, by: ActorInput, cluster?: string): Promise<string[]> {
  const views = await schedulesOf(client, mesh, cluster);
  for (const v of views) await client.schedule.getHandle(v.scheduleId).pause(`paused by ${by.by}${by.reason ? `: ${by.reason}` : ''}`);
  return views.map((v) => v.scheduleId);
}

export async function unpauseBackupSchedules(client: Client, mesh: string, by: ActorInput, cluster?: string): Promise<string[]> {
  const views = await schedulesOf(client, mesh, cluster);
  for (const v of views) await client.schedule.getHandle(v.scheduleId).unpause(`unpaused by ${by.by}`);
  return views.map((v) => v.scheduleId);
}

export async function deleteBackupSchedules(client: Client, mesh: string, cluster?: string): Promise<string[]> {
  const views = await schedulesOf(client, mesh, cluster);
  for (const v of views) {
    try {
      await client.schedule.getHandle(v.scheduleId).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return views.map((v) => v.scheduleId);
}

export { ScheduleInputError };
