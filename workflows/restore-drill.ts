// `meshpilot restore-drill`: prove a stored snapshot restores. Talos' disaster-recovery procedure on a spare node:
// install the source cluster's control-plane config, `talosctl bootstrap --recover-from` the snapshot, then show
// that the restored etcd holds the snapshot's revision and keys. Every step that changes the node runs only after
// the read-only preflight found it fresh; any red pauses (resume re-checks, abort stops, nothing is undone because
// nothing but the spare node was touched).
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { DrillRefs, RestoreDrillInput, RestoreDrillResult, RestoreProof, SnapshotMeta } from '../contracts/backup.ts';
import { refused } from '../contracts/failures.ts';
import type { MeshRolloutStatus, RunState } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, RESTORE_DRILL_STEPS, type RestoreDrillStepName } from '../contracts/steps.ts';
import { act, quick, waits } from './activities.ts';
import { answerStepMessages, endedBy } from './operation.ts';
import { ContinueAsNewNeeded, initialSteps, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export type { RestoreDrillInput, RestoreDrillResult } from '../contracts/backup.ts';

class DrillState {
  state: RunState = 'running';
  error: string | undefined;
  snapshot: SnapshotMeta | undefined;
  refs: DrillRefs | undefined;
  proof: RestoreProof | undefined;
  readonly runnerState: StepRunnerState;
  readonly runner: StepRunner<RestoreDrillStepName>;
  readonly workflowId = workflowInfo().workflowId;
  private readonly startedAt: string;
  private updatedAt: string;
  private readonly sa = new SearchAttributeTracker();

  constructor(readonly input: RestoreDrillInput) {
    const c = input.carried;
    this.startedAt = c?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.runnerState = c?.runner ?? { steps: initialSteps(RESTORE_DRILL_STEPS), actions: [] };
    this.snapshot = c?.snapshot;
    this.refs = c?.refs;
    this.runner = new StepRunner(this.runnerState, RESTORE_DRILL_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, () => this.changed());
  }

  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blocked = this.runner.blockedStep();
    if (this.state === 'running' || this.state === 'paused') this.state = blocked ? 'paused' : 'running';
    this.sa.update({ state: this.state, blockedStep: blocked ? `restore-drill/${blocked.name}` : 'none' });
    const { mesh, cluster, drillNode } = this.input;
    const s = this.snapshot;
    const p = this.proof;
    showDetails(
      [
        `## Restore drill: ${cluster} (mesh ${mesh}) onto ${drillNode.name}: ${this.state}`,
        '',
        `- **snapshot**: ${s ? `\`${s.id}\` taken ${s.takenAt} from ${s.node.name}: etcd revision ${s.etcd.revision}, ${s.etcd.totalKeys} keys, sha256 \`${s.sha256.slice(0, 16)}…\`` : (this.input.snapshotId ?? 'the newest stored one')}`,
        `- **drill node**: ${drillNode.name} (${drillNode.address}): must be fresh (Talos maintenance mode)`,
        `- **proof**: ${p ? `restored etcd at revision ${p.restored.revision} with ${p.restored.totalKeys} keys (snapshot: ${p.source.revision}, ${p.source.totalKeys}); members ${p.members.map((m) => m.hostname).join(', ')}` : 'not yet'}`,
        ...(this.error ? ['', `**Error:** ${this.error}`] : []),
        '',
        stepsTable('Restore drill', this.runnerState.steps, this.workflowId),
      ].join('\n'),
    );
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
      operation: { kind: 'restore-drill', cluster: this.input.cluster, reason: `snapshot ${this.snapshot?.id ?? this.input.snapshotId ?? '(newest)'} onto ${this.input.drillNode.name}` },
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  carried(): NonNullable<RestoreDrillInput['carried']> {
    return { startedAt: this.startedAt, runner: this.runnerState, ...(this.snapshot ? { snapshot: this.snapshot } : {}), ...(this.refs ? { refs: this.refs } : {}) };
  }

  result(): RestoreDrillResult {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      cluster: this.input.cluster,
      state: this.state,
      ...(this.snapshot ? { snapshot: this.snapshot } : {}),
      ...(this.proof ? { proof: this.proof } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

function refuseAmend(): void {
  throw refused('a restore drill takes no blueprint changes: abort it and start another');
}

export async function restoreDrill(input: RestoreDrillInput): Promise<RestoreDrillResult> {
  const d = new DrillState(input);
  const { runner } = d;
  answerStepMessages(runner, () => d.status(), () => refuseAmend());

  d.changed();
  const { mesh, cluster, drillNode } = input;
  const target = () => ({ mesh, cluster, snapshotId: d.snapshot!.id, drillNode });
  try {
    await runner.run('drill-preflight', async () => {
      const found = await act(quick.drillPreflight, `${cluster}: snapshot ${input.snapshotId ?? '(newest)'} verifies; ${drillNode.name} is fresh (read-only)`, {
        mesh,
        cluster,
        drillNode,
        ...(input.snapshotId ? { snapshotId: input.snapshotId } : {}),
      });
      d.snapshot = found.snapshot;
      d.refs = found.refs;
      d.changed();
    });
    await runner.run('drill-install', async () => {
      await act(quick.applyMachineConfig, `${drillNode.name}: talosctl apply-config --insecure (the control-plane config of ${cluster})`, {
        address: drillNode.address,
        nodeName: drillNode.name,
        configRef: d.refs!.controlplaneConfigRef,
      });
      await act(waits.waitNodeRunning, `${drillNode.name}: wait until it runs`, { address: drillNode.address, nodeName: drillNode.name, talosconfigRef: d.refs!.talosconfigRef });
    });
    await runner.run('drill-recover', async () => {
      await act(waits.recoverEtcdOnDrillNode, `${drillNode.name}: talosctl bootstrap --recover-from snapshot ${d.snapshot!.id}`, target());
    });
    await runner.run('drill-prove', async () => {
      d.proof = await act(waits.proveRestoredEtcd, `${drillNode.name}: the restored etcd holds revision ${d.snapshot!.etcd.revision} and ${d.snapshot!.etcd.totalKeys} keys`, target());
      d.changed();
    });
    d.state = 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof restoreDrill>({ ...input, carried: d.carried() });
    }
    const end = endedBy(runner, err);
    d.state = end.state;
    if (end.error !== undefined) d.error = end.error;
  }
  d.changed();
  await condition(allHandlersFinished);
  return d.result();
}
