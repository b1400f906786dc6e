// A backup's state and what its handlers do to it, apart from the body that runs the steps (as MeshDetachState is
// for a detach). Plain data survives continue-as-new through `carried()`.
import { workflowInfo } from '@temporalio/workflow';
import { snapshotId, type BackupCarried, type BackupInput, type BackupResult, type PruneOutcome, type SnapshotMember, type SnapshotMeta } from '../contracts/backup.ts';
import { refused } from '../contracts/failures.ts';
import { blockedSummaryOf, type MeshRolloutStatus, type RunState } from '../contracts/status.ts';
import { BACKUP_STEPS, DEFAULT_PAUSE_LIMITS, type BackupStepName } from '../contracts/steps.ts';
import { initialSteps, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

/** A pause or failure people should hear about (failure-only notifications). */
export interface BackupNotice {
  key: string;
  state: 'paused' | 'failed';
  step: string;
  reason: string;
  hint: string;
}

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 2 : 0)} MiB`;

export class BackupState {
  state: RunState = 'running';
  error: string | undefined;
  source: BackupCarried['source'];
  snapshot: SnapshotMeta | undefined;
  prune: PruneOutcome | undefined;
  notifyError: string | undefined;
  /** notices waiting for the notifier loop; `notified` remembers pauses already told (one message per pause) */
  readonly notices: BackupNotice[] = [];
  readonly runner: StepRunner<BackupStepName>;
  readonly workflowId = workflowInfo().workflowId;
  readonly snapshotId: string;
  private readonly notified: Set<string>;
  private readonly startedAt: string;
  private updatedAt: string;
  private readonly runnerState: StepRunnerState;
  private readonly sa = new SearchAttributeTracker();

  constructor(readonly input: BackupInput) {
    const c = input.carried;
    this.startedAt = c?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.snapshotId = c?.snapshotId ?? snapshotId(this.startedAt, workflowInfo().runId);
    this.runnerState = c?.runner ?? { steps: initialSteps(BACKUP_STEPS), actions: [] };
    this.source = c?.source;
    this.snapshot = c?.snapshot;
    this.notified = new Set(c?.notifiedPauses ?? []);
    this.runner = new StepRunner(this.runnerState, BACKUP_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, () => this.changed());
  }

  carried(): BackupCarried {
    return {
      startedAt: this.startedAt,
      snapshotId: this.snapshotId,
      runner: this.runnerState,
      notifiedPauses: [...this.notified],
      ...(this.source ? { source: this.source } : {}),
      ...(this.snapshot ? { snapshot: this.snapshot } : {}),
    };
  }

  get notifying(): boolean {
    return Boolean(this.input.notify?.webhook || this.input.notify?.slack);
  }

  private notice(n: BackupNotice): void {
    if (!this.notifying || this.notified.has(n.key)) return;
    this.notified.add(n.key);
    this.notices.push(n);
  }

  /** After every change: run state, search attributes (only on change), the UI's details, a notice on a new pause. */
  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blocked = this.runner.blockedStep();
    if (this.state === 'running' || this.state === 'paused') this.state = blocked ? 'paused' : 'running';
    if (blocked?.blocked) this.notice({ key: `${blocked.name}@${blocked.blocked.since}`, state: 'paused', step: blocked.name, reason: blocked.blocked.reason, hint: blocked.blocked.hint });
    if (this.state === 'failed') {
      const failed = this.runnerState.steps.find((s) => s.state === 'failed');
      this.notice({ key: 'failed', state: 'failed', step: failed?.name ?? '-', reason: this.error ?? 'failed', hint: `meshpilot status ${this.workflowId}` });
    }
    this.sa.update({ state: this.state, blockedStep: blocked ? `backup/${blocked.name}` : 'none' });
    showDetails(this.details());
  }

  private details(): string {
    const { mesh, cluster, retention, requestedBy } = this.input;
    const s = this.snapshot;
    const policy = [retention.keepLast !== undefined ? `keep the last ${retention.keepLast}` : '', retention.maxAgeMs !== undefined ? `none older than ${Math.round(retention.maxAgeMs / 3_600_000)} h` : '']
      .filter(Boolean)
      .join(', ');
    return [
      `## Backup of ${cluster.name} (mesh ${mesh}): ${this.state}`,
      '',
      `Requested by ${requestedBy.by} via ${requestedBy.via ?? 'api'}${requestedBy.reason ? `: ${requestedBy.reason}` : ''}`,
      '',
      `- **source**: ${this.source ? `${this.source.node.name} (${this.source.node.address}), ${this.source.members.length} etcd member(s): ${this.source.members.map((m) => m.hostname).join(', ')}` : 'not chosen yet'}`,
      `- **snapshot**: ${s ? `\`${s.id}\`, ${mib(s.sizeBytes)}, sha256 \`${s.sha256.slice(0, 16)}…\`, etcd revision ${s.etcd.revision}, ${s.etcd.totalKeys} keys; stored encrypted as \`${s.ref}\`` : `\`${this.snapshotId}\` (not taken yet)`}`,
      `- **retention**: ${policy || 'none'}${this.prune ? `: removed ${this.prune.deleted.length ? this.prune.deleted.join(', ') : 'nothing'}, ${this.prune.kept.length} kept` : ''}`,
      ...(this.notifyError ? [`- **notification failed**: ${this.notifyError}`] : []),
      ...(this.error ? ['', `**Error:** ${this.error}`] : []),
      '',
      stepsTable('Backup', this.runnerState.steps, this.workflowId),
    ].join('\n');
  }

  status(): MeshRolloutStatus {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      revision: this.input.revision,
      state: this.state,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      clusters: [],
      operation: { kind: 'backup', cluster: this.input.cluster.name, reason: this.snapshot ? `snapshot ${this.snapshot.id}` : `etcd snapshot ${this.snapshotId}` },
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  validateAmend(): void {
    throw refused('a backup takes no blueprint changes: abort it and start another, or resume once the cause is fixed');
  }

  blockedSummary() {
    const b = this.runner.blockedStep();
    return b && blockedSummaryOf(b);
  }

  members(): SnapshotMember[] {
    return this.source?.members ?? [];
  }

  result(): BackupResult {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      cluster: this.input.cluster.name,
      state: this.state,
      ...(this.snapshot ? { snapshot: this.snapshot } : {}),
      ...(this.prune ? { prune: this.prune } : {}),
      ...(this.notifyError ? { notifyError: this.notifyError } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
