// A failover drill's state and what its handlers do to it, apart from the body that runs the steps. Two step runners
// share one step table: `drill` (preflight, drain, observe) is the one an abort stops; `restore` (restore, report)
// runs after it whatever happened, and refuses an abort, because an abort must never leave backends out of service.
import { workflowInfo } from '@temporalio/workflow';
import { failoverReportMarkdown, type ClusterObservation, type DrillBaseline, type FailoverCarried, type FailoverDrillInput, type FailoverDrillResult, type FailoverReport, type RestoredWorkload } from '../contracts/failover.ts';
import { refused } from '../contracts/failures.ts';
import type { AbortInput, ResumeInput, StepActionInput } from '../contracts/messages.ts';
import type { MeshRolloutStatus, RunState } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, FAILOVER_DRILL_STEPS, type FailoverDrillStepName } from '../contracts/steps.ts';
import { initialSteps, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

const ms = (n: number) => (n < 10_000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);

export class FailoverDrillState {
  state: RunState = 'running';
  error: string | undefined;
  baseline: DrillBaseline | undefined;
  kubeconfigRefs: Record<string, string> | undefined;
  /** set before the drain's first call: from then on the restore must run */
  drainStarted: boolean;
  drainedAt: string | undefined;
  observations: ClusterObservation[] | undefined;
  restored: RestoredWorkload[] | undefined;
  files: { markdown: string; json: string } | undefined;
  aborted: boolean;
  /** `restore`: the drill part ended (done, aborted or failed); only the restore and the report are left */
  phase: 'drill' | 'restore' = 'drill';
  readonly drill: StepRunner<FailoverDrillStepName>;
  readonly restore: StepRunner<FailoverDrillStepName>;
  readonly workflowId = workflowInfo().workflowId;
  private readonly runnerState: StepRunnerState;
  private readonly startedAt: string;
  private updatedAt: string;
  private readonly sa = new SearchAttributeTracker();

  constructor(readonly input: FailoverDrillInput) {
    const c = input.carried;
    this.startedAt = c?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.runnerState = c?.runner ?? { steps: initialSteps(FAILOVER_DRILL_STEPS), actions: [] };
    this.baseline = c?.baseline;
    this.kubeconfigRefs = c?.kubeconfigRefs;
    this.drainStarted = c?.drainStarted ?? false;
    this.drainedAt = c?.drainedAt;
    this.observations = c?.observations;
    this.restored = c?.restored;
    this.aborted = c?.aborted ?? false;
    const limits = input.limits ?? DEFAULT_PAUSE_LIMITS;
    this.drill = new StepRunner(this.runnerState, FAILOVER_DRILL_STEPS, limits, () => this.changed());
    // the same steps and audit, without the abort: an aborted drill still restores
    this.restore = new StepRunner({ steps: this.runnerState.steps, actions: this.runnerState.actions }, FAILOVER_DRILL_STEPS, limits, () => this.changed());
    this.error = c?.error;
    if (c?.phase === 'restore' || this.drill.aborted || this.aborted) this.phase = 'restore';
  }

  get drainedClusters(): string[] {
    return this.input.clusters.filter((c) => c.region === this.input.region).map((c) => c.name);
  }

  get drilledServices(): string[] {
    const skipped = new Set(this.baseline?.skipped.map((s) => s.service) ?? []);
    return this.input.services.filter((s) => !skipped.has(s));
  }

  carried(): FailoverCarried {
    return {
      startedAt: this.startedAt,
      runner: this.runnerState,
      drainStarted: this.drainStarted,
      aborted: this.aborted,
      phase: this.phase,
      ...(this.error ? { error: this.error } : {}),
      ...(this.baseline ? { baseline: this.baseline } : {}),
      ...(this.kubeconfigRefs ? { kubeconfigRefs: this.kubeconfigRefs } : {}),
      ...(this.drainedAt ? { drainedAt: this.drainedAt } : {}),
      ...(this.observations ? { observations: this.observations } : {}),
      ...(this.restored ? { restored: this.restored } : {}),
    };
  }

  // ---- handlers: routed to the runner of the current phase ------------------------------------------------

  private get active(): StepRunner<FailoverDrillStepName> {
    return this.phase === 'restore' ? this.restore : this.drill;
  }
  validateResume(i: ResumeInput): void {
    this.active.validateResume(i);
  }
  resume(i: ResumeInput): string {
    return this.active.resume(i);
  }
  validateSkip(i: StepActionInput): void {
    this.active.validateSkip(i);
  }
  skip(i: StepActionInput): string {
    return this.active.skip(i);
  }
  validateOverride(i: StepActionInput): void {
    this.active.validateOverride(i);
  }
  override(i: StepActionInput): string {
    return this.active.override(i);
  }
  validateAbort(i: AbortInput): void {
    if (this.phase === 'restore') {
      throw refused(
        this.drill.aborted
          ? 'the drill is already aborted and is putting every backend back: it ends when they are'
          : 'the drill is putting every backend back: an abort cannot stop the restore (it ends when every backend is back)',
      );
    }
    this.drill.validateAbort(i);
  }
  abort(i: AbortInput): string {
    this.aborted = true;
    this.drill.abort(i);
    return this.drainStarted ? 'aborting: the running call is cancelled, then every drained backend is put back' : 'aborting: nothing was drained yet';
  }
  validateAmend(): void {
    throw refused('a failover drill takes no blueprint changes: abort it (its backends are put back) and start another');
  }

  // ---- views ------------------------------------------------------------------------------------------------

  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blocked = this.drill.blockedStep();
    if (this.state === 'running' || this.state === 'paused') this.state = blocked ? 'paused' : 'running';
    this.sa.update({ state: this.state, blockedStep: blocked ? `failover-drill/${blocked.name}` : 'none' });
    showDetails(`${failoverReportMarkdown(this.report())}\n${stepsTable('Failover drill', this.runnerState.steps, this.workflowId)}`);
  }

  verdict(): FailoverReport['verdict'] {
    const obs = this.observations;
    if (this.aborted || this.error || !obs) return 'incomplete';
    return obs.every((o) => o.ok) ? 'passed' : 'failed';
  }

  /** The restore is proven: nothing was drained, or every drained workload is back and ready. */
  isRestored(): boolean {
    if (!this.drainStarted) return true;
    const w = this.baseline?.workloads ?? [];
    return this.restore.step('failover-restore').state === 'done' && w.every((x) => this.restored?.some((r) => r.cluster === x.cluster && r.namespace === x.namespace && r.name === x.name && r.readyReplicas === x.replicas));
  }

  slowest(): number | undefined {
    const times = (this.observations ?? []).filter((o) => o.ok && o.failoverMs !== undefined).map((o) => o.failoverMs!);
    return times.length ? Math.max(...times) : undefined;
  }

  /** One line: what surfaces show as the operation's reason and chat posts when it ends. */
  summary(): string {
    const head = `region ${this.input.region} (${this.drainedClusters.join(', ')})`;
    if (this.state === 'running' || this.state === 'paused') return `${head}: ${this.drilledServices.join(', ')}`;
    const slow = this.slowest();
    return `${head}: ${this.verdict().toUpperCase()}${slow !== undefined ? `, slowest failover ${ms(slow)}` : ''}; ${this.isRestored() ? 'every backend restored' : 'NOT every backend restored'}`;
  }

  report(): FailoverReport {
    const { input } = this;
    const regions = [...new Set(input.clusters.map((c) => c.region))].sort((a, b) => (a === input.region ? -1 : b === input.region ? 1 : a.localeCompare(b)));
    return {
      id: this.workflowId,
      mesh: input.mesh,
      region: input.region,
      state: this.state,
      verdict: this.verdict(),
      startedAt: this.startedAt,
      endedAt: this.updatedAt,
      requestedBy: { by: input.requestedBy.by, via: input.requestedBy.via ?? 'api' },
      services: this.drilledServices,
      skipped: this.baseline?.skipped ?? [],
      ...(this.drainedAt ? { drainedAt: this.drainedAt } : {}),
      ...(this.slowest() !== undefined ? { slowestFailoverMs: this.slowest()! } : {}),
      regions: regions.map((r) => ({
        region: r,
        role: r === input.region ? 'drained' : 'surviving',
        clusters: input.clusters.filter((c) => c.region === r).map((c) => c.name),
        observations: (this.observations ?? []).filter((o) => o.region === r),
      })),
      workloads: (this.baseline?.workloads ?? []).map((w) => {
        const r = this.restored?.find((x) => x.cluster === w.cluster && x.namespace === w.namespace && x.name === w.name);
        return { ...w, ...(r ? { restoredReplicas: r.replicas, readyReplicas: r.readyReplicas } : {}) };
      }),
      restored: this.isRestored(),
      steps: this.runnerState.steps.map((s) => ({ name: s.name, state: s.state, ...(s.note ? { note: s.note } : {}) })),
      actions: this.runnerState.actions,
      ...(this.files ? { files: this.files } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
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
      operation: { kind: 'failover-drill', cluster: this.drainedClusters.join(', '), reason: this.summary() },
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  result(): FailoverDrillResult {
    return { id: this.workflowId, mesh: this.input.mesh, region: this.input.region, state: this.state, report: this.report() };
  }
}
