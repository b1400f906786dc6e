// The mesh rollout's state and what its handlers do to it, apart from the workflow body that runs the steps
// (as the samples' safe-message-handlers keep a ClusterManager beside a thin workflow). Plain data survives
// continue-as-new through `carried()`.
import { getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { isMember } from '../blueprint/live-mesh.ts';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { refused } from '../contracts/failures.ts';
import type { BackendSnapshot, LiveCluster } from '../contracts/live-mesh.ts';
import { abortClusterSignal, amendClusterSignal, type AbortInput, type ActionResult, type ActorInput, type AmendInput } from '../contracts/messages.ts';
import { clusterWorkflowId } from '../contracts/names.ts';
import { blockedSummaryOf, isTerminal, type BlockedSummary, type ClusterRole, type MeshRolloutStatus, type RunState } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, MESH_STEPS, type MeshStepName, type PauseLimits } from '../contracts/steps.ts';
import { assertSafeAmendment } from './amend.ts';
import type { ClusterRolloutResult } from './cluster-rollout.ts';
import { initialSteps, requireActor, StepRunner, type StepRunnerState } from './step-runner.ts';
import { meshDetails, SearchAttributeTracker, showDetails } from './visibility.ts';

export interface MeshRolloutInput {
  rolloutId: string;
  plan: RolloutPlan;
  requestedBy: ActorInput;
  /** route each cluster to its site's task queue (workers started with --site); default: one queue for all */
  siteQueues?: boolean;
  bootOverride?: 'none' | 'manual';
  limits?: PauseLimits;
  carried?: {
    startedAt: string;
    runner: StepRunnerState;
    results: ClusterRolloutResult[];
    meshCaRef?: string;
    live?: LiveCluster[];
    baseline?: BackendSnapshot[];
    clustersStarted?: boolean;
  };
}

export interface MeshRolloutResult {
  id: string;
  mesh: string;
  state: RunState;
  clusters: Array<{ name: string; state: RunState; apiserverAddress?: string; error?: string }>;
  error?: string;
}

export class MeshRolloutState {
  plan: RolloutPlan;
  state: RunState = 'running';
  error: string | undefined;
  results: ClusterRolloutResult[];
  meshCaRef: string | undefined;
  /** the live mesh as mesh-preflight read it (undefined in rollouts started before that step existed) */
  live: LiveCluster[] | undefined;
  /** the members' global services before the first peer-list change of a join */
  baseline: BackendSnapshot[] | undefined;
  /** once a cluster child started, what it builds is fixed: identities may no longer be amended */
  clustersStarted: boolean;
  readonly runner: StepRunner<MeshStepName>;
  private readonly startedAt: string;
  private updatedAt: string;
  private readonly runnerState: StepRunnerState;
  private readonly clusterBlocked = new Map<string, BlockedSummary>();
  private readonly sa = new SearchAttributeTracker();
  readonly workflowId = workflowInfo().workflowId;

  constructor(private readonly input: MeshRolloutInput) {
    this.plan = input.plan;
    this.startedAt = input.carried?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.runnerState = input.carried?.runner ?? { steps: initialSteps(MESH_STEPS), actions: [] };
    this.results = input.carried?.results ?? [];
    this.meshCaRef = input.carried?.meshCaRef;
    this.live = input.carried?.live;
    this.baseline = input.carried?.baseline;
    this.clustersStarted = input.carried?.clustersStarted ?? this.results.length > 0;
    this.runner = new StepRunner(this.runnerState, MESH_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, () => this.changed());
  }

  childId(cluster: string): string {
    return clusterWorkflowId(this.workflowId, cluster);
  }

  /** What the run carries into its next execution when it continues as new. */
  carried(): NonNullable<MeshRolloutInput['carried']> {
    return {
      startedAt: this.startedAt,
      runner: this.runnerState,
      results: this.results,
      meshCaRef: this.meshCaRef,
      ...(this.live ? { live: this.live } : {}),
      ...(this.baseline ? { baseline: this.baseline } : {}),
      clustersStarted: this.clustersStarted,
    };
  }

  liveOf(cluster: string): LiveCluster | undefined {
    return this.live?.find((l) => l.cluster === cluster);
  }

  /** `member`: already in the live mesh, kept as it is; `new`: built by this rollout. */
  roleOf(cluster: string): ClusterRole {
    return isMember(this.liveOf(cluster)) ? 'member' : 'new';
  }

  /** The pause surfaces show: the mesh phase's own, else the first paused cluster's. */
  private blockedSummary(): BlockedSummary | undefined {
    const own = this.runner.blockedStep();
    return (own && blockedSummaryOf(own)) ?? [...this.clusterBlocked.values()][0];
  }

  private clusterState(cluster: string): RunState {
    const r = this.results.find((x) => x.cluster === cluster);
    return r?.state ?? (this.clusterBlocked.has(cluster) ? 'paused' : this.state === 'aborted' ? 'aborted' : 'running');
  }

  /** After every change: the run state, the search attributes (only on change) and the UI details. */
  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blocked = this.blockedSummary();
    if (this.state === 'running' || this.state === 'paused') this.state = blocked ? 'paused' : 'running';
    this.sa.update({ state: this.state, blockedStep: blocked ? `${blocked.cluster ?? 'mesh'}/${blocked.step}` : 'none' });
    showDetails(
      meshDetails({
        mesh: this.plan.mesh,
        state: this.state,
        workflowId: this.workflowId,
        clusters: this.plan.clusters.map((c) => ({
          name: c.name,
          id: c.id,
          site: c.site,
          state: this.clusterState(c.name),
          role: this.roleOf(c.name),
          workflowId: this.childId(c.name),
          apiserverAddress: this.results.find((x) => x.cluster === c.name)?.outputs.apiserverAddress,
          blocked: this.clusterBlocked.get(c.name),
        })),
        meshSteps: this.runnerState.steps,
      }),
    );
  }

  status(): MeshRolloutStatus {
    return {
      id: this.input.rolloutId,
      mesh: this.plan.mesh,
      revision: this.plan.revision,
      state: this.state,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      clusters: this.plan.clusters.map((c) => ({
        name: c.name,
        workflowId: this.childId(c.name),
        state: this.clusterState(c.name),
        role: this.roleOf(c.name),
        blocked: this.clusterBlocked.get(c.name),
      })),
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  /** Clusters whose child still runs: operator signals go to them. */
  private runningClusters() {
    return this.plan.clusters.filter((c) => !this.results.some((r) => r.cluster === c.name));
  }

  async abort(i: AbortInput): Promise<ActionResult> {
    const message = this.runner.abort(i);
    await Promise.all(this.runningClusters().map((c) => getExternalWorkflowHandle(this.childId(c.name)).signal(abortClusterSignal, i).catch(() => undefined)));
    return { accepted: true, message };
  }

  validateAmend(i: AmendInput): void {
    requireActor(i);
    if (isTerminal(this.state)) throw refused(`the rollout is ${this.state}; amend applies to a running rollout`);
    assertSafeAmendment(this.plan, i.plan, { identityMayChange: !this.clustersStarted });
  }

  async amend(i: AmendInput): Promise<ActionResult> {
    const previous = this.plan;
    this.plan = i.plan;
    this.runner.record('amend', { ...i, reason: i.reason ?? `revision ${previous.revision} → ${this.plan.revision}` });
    await Promise.all(
      this.runningClusters().map((c) =>
        getExternalWorkflowHandle(this.childId(c.name))
          .signal(amendClusterSignal, { plan: c, actor: { by: i.by, via: i.via, reason: i.reason } })
          .catch(() => undefined),
      ),
    );
    this.runner.recheckNow();
    return { accepted: true, message: `amended to revision ${this.plan.revision}; paused steps re-check now` };
  }

  /** child → parent: a cluster step paused (summary) or went on (null). */
  clusterBlockedChanged(cluster: string, blocked: BlockedSummary | null): void {
    if (blocked) this.clusterBlocked.set(cluster, blocked);
    else this.clusterBlocked.delete(cluster);
    this.changed();
  }

  clusterFinished(r: ClusterRolloutResult): void {
    this.results = [...this.results.filter((x) => x.cluster !== r.cluster), r];
    this.clusterBlocked.delete(r.cluster);
    this.changed();
  }

  /** The run is over: no cluster pause is current any more. */
  finish(): void {
    this.clusterBlocked.clear();
    this.changed();
  }

  result(): MeshRolloutResult {
    return {
      id: this.input.rolloutId,
      mesh: this.plan.mesh,
      state: this.state,
      clusters: this.plan.clusters.map((c) => {
        const r = this.results.find((x) => x.cluster === c.name);
        return { name: c.name, state: r?.state ?? 'aborted', apiserverAddress: r?.outputs.apiserverAddress, error: r?.error };
      }),
      error: this.error,
    };
  }
}
