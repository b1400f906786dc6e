// A detach's state and what its handlers do to it, apart from the body that runs the steps (as MeshRolloutState
// is for the rollout). Plain data survives continue-as-new through `carried()`.
import { workflowInfo } from '@temporalio/workflow';
import type { BackendSnapshot, LiveCluster } from '../contracts/live-mesh.ts';
import { refused } from '../contracts/failures.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { blockedSummaryOf, type MeshRolloutStatus, type RunState } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, DETACH_STEPS, type DetachStepName, type PauseLimits } from '../contracts/steps.ts';
import { initialSteps, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export interface MeshDetachInput {
  mesh: string;
  /** the cluster leaving the mesh */
  cluster: string;
  reason: string;
  requestedBy: ActorInput;
  limits?: PauseLimits;
  carried?: {
    startedAt: string;
    runner: StepRunnerState;
    leaving?: LiveCluster;
    remaining?: LiveCluster[];
    unmanaged?: string[];
    baseline?: BackendSnapshot[];
  };
}

export interface MeshDetachResult {
  id: string;
  mesh: string;
  cluster: string;
  state: RunState;
  /** the clusters still meshed without it */
  remaining: string[];
  error?: string;
}

export class MeshDetachState {
  state: RunState = 'running';
  error: string | undefined;
  /** the leaving cluster as detach-preflight read it */
  leaving: LiveCluster | undefined;
  /** every member still meshed with it (its peers, and theirs), read live */
  remaining: LiveCluster[] = [];
  /** peers named in a peer list that meshpilot holds no kubeconfig for: it cannot change them */
  unmanaged: string[] = [];
  baseline: BackendSnapshot[] | undefined;
  readonly runner: StepRunner<DetachStepName>;
  readonly workflowId = workflowInfo().workflowId;
  private readonly startedAt: string;
  private updatedAt: string;
  private readonly runnerState: StepRunnerState;
  private readonly sa = new SearchAttributeTracker();

  constructor(readonly input: MeshDetachInput) {
    const c = input.carried;
    this.startedAt = c?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.runnerState = c?.runner ?? { steps: initialSteps(DETACH_STEPS), actions: [] };
    this.leaving = c?.leaving;
    this.remaining = c?.remaining ?? [];
    this.unmanaged = c?.unmanaged ?? [];
    this.baseline = c?.baseline;
    this.runner = new StepRunner(this.runnerState, DETACH_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, () => this.changed());
  }

  carried(): NonNullable<MeshDetachInput['carried']> {
    return {
      startedAt: this.startedAt,
      runner: this.runnerState,
      remaining: this.remaining,
      unmanaged: this.unmanaged,
      ...(this.leaving ? { leaving: this.leaving } : {}),
      ...(this.baseline ? { baseline: this.baseline } : {}),
    };
  }

  /** After every change: run state, search attributes (only on change), the UI's details. */
  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blocked = this.runner.blockedStep();
    if (this.state === 'running' || this.state === 'paused') this.state = blocked ? 'paused' : 'running';
    this.sa.update({ state: this.state, blockedStep: blocked ? `mesh/${blocked.name}` : 'none' });
    const { mesh, cluster, reason, requestedBy } = this.input;
    const remaining = this.remaining.map((r) => `${r.cluster}${r.apiserverAddress ? ` (clustermesh-apiserver ${r.apiserverAddress})` : ''}`);
    showDetails(
      [
        `## Detach ${cluster} from mesh ${mesh}: ${this.state}`,
        '',
        `Requested by ${requestedBy.by} via ${requestedBy.via ?? 'api'}: ${reason}`,
        '',
        `- **leaving**: ${cluster}${this.leaving ? ` (cluster ID ${this.leaving.clusterId ?? '?'}): keeps running on its own, nothing is wiped` : ''}`,
        `- **remaining**: ${remaining.length ? remaining.join(', ') : this.leaving ? 'none (it was meshed with no one)' : 'not read yet'}`,
        ...(this.unmanaged.length ? [`- **not managed by meshpilot** (no kubeconfig; change them by hand): ${this.unmanaged.join(', ')}`] : []),
        ...(this.error ? ['', `**Error:** ${this.error}`] : []),
        '',
        stepsTable('Detach', this.runnerState.steps, this.workflowId),
      ].join('\n'),
    );
  }

  status(): MeshRolloutStatus {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      revision: '-',
      state: this.state,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      clusters: [],
      operation: { kind: 'detach', cluster: this.input.cluster, reason: this.input.reason },
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  /** A detach takes no blueprint: there is nothing to amend. */
  validateAmend(): void {
    throw refused('a detach takes no blueprint, so there is nothing to amend: abort it, or resume once the cause is fixed');
  }

  blockedSummary() {
    const b = this.runner.blockedStep();
    return b && blockedSummaryOf(b);
  }

  result(): MeshDetachResult {
    return {
      id: this.workflowId,
      mesh: this.input.mesh,
      cluster: this.input.cluster,
      state: this.state,
      remaining: this.remaining.map((r) => r.cluster),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
