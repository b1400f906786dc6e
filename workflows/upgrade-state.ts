// The mesh upgrade's state and what its handlers do to it, beside the thin workflow body (workflows/mesh-upgrade.ts).
// Plain data survives continue-as-new through `carried()`.
import { getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { UpgradePlan } from '../blueprint/upgrade/plan.ts';
import type { MeshSurvey } from '../blueprint/upgrade/survey.ts';
import { refused } from '../contracts/failures.ts';
import { abortClusterSignal, type AbortInput, type ActionResult, type ActorInput } from '../contracts/messages.ts';
import { clusterWorkflowId } from '../contracts/names.ts';
import { blockedSummaryOf, stepLabel, type BlockedSummary, type MeshRolloutStatus, type RunState } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, UPGRADE_MESH_STEPS, type PauseLimits, type UpgradeMeshStepName } from '../contracts/steps.ts';
import { plannedSteps, type ClusterUpgradeResult } from './cluster-upgrade.ts';
import { StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export interface MeshUpgradeInput {
  /** the target blueprint revision: the same revision upgraded twice attaches to the running upgrade */
  upgradeId: string;
  /** the target revision, planned as for a rollout (its versions, values, nodes) */
  plan: RolloutPlan;
  requestedBy: ActorInput;
  /** run each cluster's child on its site's task queue (workers started with --site) */
  siteQueues?: boolean;
  limits?: PauseLimits;
  carried?: {
    startedAt: string;
    runner: StepRunnerState;
    survey?: MeshSurvey;
    upgrade?: UpgradePlan;
    results: ClusterUpgradeResult[];
  };
}

export interface MeshUpgradeResult {
  id: string;
  mesh: string;
  state: RunState;
  clusters: Array<{ name: string; state: RunState; error?: string }>;
  unchanged: string[];
  error?: string;
}

export class MeshUpgradeState {
  plan: RolloutPlan;
  state: RunState = 'running';
  error: string | undefined;
  survey: MeshSurvey | undefined;
  upgrade: UpgradePlan | undefined;
  results: ClusterUpgradeResult[];
  /** the cluster whose child runs now */
  current: string | undefined;
  readonly runner: StepRunner<UpgradeMeshStepName>;
  readonly workflowId = workflowInfo().workflowId;
  private readonly startedAt: string;
  private updatedAt: string;
  private readonly runnerState: StepRunnerState;
  private readonly clusterBlocked = new Map<string, BlockedSummary>();
  private readonly sa = new SearchAttributeTracker();

  constructor(private readonly input: MeshUpgradeInput) {
    this.plan = input.plan;
    this.startedAt = input.carried?.startedAt ?? new Date(workflowInfo().startTime.getTime()).toISOString();
    this.updatedAt = this.startedAt;
    this.runnerState = input.carried?.runner ?? { steps: plannedSteps(UPGRADE_MESH_STEPS.filter((d) => d.name === 'survey')), actions: [] };
    this.survey = input.carried?.survey;
    this.upgrade = input.carried?.upgrade;
    this.results = input.carried?.results ?? [];
    this.runner = new StepRunner(this.runnerState, UPGRADE_MESH_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, () => this.changed());
  }

  childId(cluster: string): string {
    return clusterWorkflowId(this.workflowId, cluster);
  }

  /** The survey planned the path: the mesh checks after each cluster join the step list, pending. */
  planned(survey: MeshSurvey, upgrade: UpgradePlan): void {
    this.survey = survey;
    this.upgrade = upgrade;
    const later = upgrade.meshSteps.filter((s) => s.name !== 'survey');
    for (const s of plannedSteps(later)) {
      if (!this.runnerState.steps.some((x) => x.name === s.name && x.target === s.target)) this.runnerState.steps.push(s);
    }
    this.changed();
  }

  carried(): NonNullable<MeshUpgradeInput['carried']> {
    return { startedAt: this.startedAt, runner: this.runnerState, survey: this.survey, upgrade: this.upgrade, results: this.results };
  }

  private blockedSummary(): BlockedSummary | undefined {
    const own = this.runner.blockedStep();
    return (own && blockedSummaryOf(own)) ?? [...this.clusterBlocked.values()][0];
  }

  private clusterState(cluster: string): RunState {
    const r = this.results.find((x) => x.cluster === cluster);
    return r?.state ?? (this.clusterBlocked.has(cluster) ? 'paused' : this.state === 'aborted' ? 'aborted' : 'running');
  }

  /** Only the clusters with something to upgrade have a child: the others are listed as unchanged in the details. */
  private clusters(): string[] {
    return this.upgrade?.clusters.map((c) => c.name) ?? [];
  }

  changed(): void {
    this.updatedAt = new Date().toISOString();
    const blocked = this.blockedSummary();
    if (this.state === 'running' || this.state === 'paused') this.state = blocked ? 'paused' : 'running';
    this.sa.update({ state: this.state, blockedStep: blocked ? `${blocked.cluster ?? 'mesh'}/${stepLabel(blocked)}` : 'none' });
    showDetails(this.details());
  }

  private details(): string {
    const u = this.upgrade;
    const lines = [`## Upgrade of mesh ${this.plan.mesh} to revision ${this.plan.revision}: ${this.state}`, ''];
    if (!u) lines.push('Surveying the live versions of every node and cluster…');
    else {
      lines.push(`Order: ${u.order.map((n) => (n === u.canary ? `**${n}** (canary)` : n)).join(' → ')}${u.unchanged.length ? `; already at the blueprint's versions: ${u.unchanged.join(', ')}` : ''}`, '');
      for (const c of u.clusters) {
        const b = this.clusterBlocked.get(c.name);
        const what = [
          c.talos ? `Talos → ${c.talos.to} on ${c.talos.nodes.map((n) => n.name).join(', ')}` : undefined,
          c.kubernetes ? `Kubernetes ${c.kubernetes.from} → ${c.kubernetes.to}` : undefined,
          c.cilium ? `Cilium ${c.cilium.from} → ${c.cilium.to}` : undefined,
        ].filter(Boolean);
        lines.push(`- **${c.name}**: ${this.clusterState(c.name)} — ${what.join('; ') || 'Cilium images checked'} — \`${this.childId(c.name)}\`${b ? ` — ⏸ paused at ${stepLabel(b)}` : ''}`);
      }
      for (const [name, b] of this.clusterBlocked) {
        lines.push('', `#### ⏸ ${name} paused at ${stepLabel(b)} since ${b.since}`, '', `**Reason:** ${b.reason}`, '', `**Hint:** ${b.hint}`, '', `**Act:** on \`${this.childId(name)}\`, or \`meshpilot resume ${this.workflowId}\` (routes it there).`);
      }
      if (u.warnings.length) lines.push('', '**Warnings:**', ...u.warnings.map((w) => `- ${w}`));
    }
    lines.push('', stepsTable('Mesh checks', this.runnerState.steps, this.workflowId));
    return lines.join('\n');
  }

  /** The shape `meshpilot status`, watch and chat read for every run of a mesh (contracts/status.ts). */
  status(): MeshRolloutStatus {
    return {
      id: this.input.upgradeId,
      mesh: this.plan.mesh,
      revision: this.plan.revision,
      state: this.state,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      clusters: this.clusters().map((name) => ({ name, workflowId: this.childId(name), state: this.clusterState(name), blocked: this.clusterBlocked.get(name) })),
      meshSteps: this.runnerState.steps,
      actions: this.runnerState.actions,
      startedBy: { by: this.input.requestedBy.by, via: this.input.requestedBy.via ?? 'api' },
      error: this.error,
    };
  }

  async abort(i: AbortInput): Promise<ActionResult> {
    const message = this.runner.abort(i);
    const running = this.current;
    if (running) await getExternalWorkflowHandle(this.childId(running)).signal(abortClusterSignal, i).catch(() => undefined);
    return { accepted: true, message };
  }

  validateAmend(): void {
    throw refused('an upgrade takes no amendment: abort it (meshpilot abort) and start meshpilot upgrade with the new revision — it resumes from the live versions');
  }

  clusterBlockedChanged(cluster: string, blocked: BlockedSummary | null): void {
    if (blocked) this.clusterBlocked.set(cluster, blocked);
    else this.clusterBlocked.delete(cluster);
    this.changed();
  }

  clusterFinished(r: ClusterUpgradeResult): void {
    this.results = [...this.results.filter((x) => x.cluster !== r.cluster), r];
    this.clusterBlocked.delete(r.cluster);
    this.current = undefined;
    this.changed();
  }

  finish(): void {
    this.clusterBlocked.clear();
    this.changed();
  }

  result(): MeshUpgradeResult {
    return {
      id: this.input.upgradeId,
      mesh: this.plan.mesh,
      state: this.state,
      clusters: this.clusters().map((name) => {
        const r = this.results.find((x) => x.cluster === name);
        return { name, state: r?.state ?? (this.state === 'completed' ? 'completed' : 'aborted'), ...(r?.error ? { error: r.error } : {}) };
      }),
      unchanged: this.upgrade?.unchanged ?? [],
      error: this.error,
    };
  }
}
