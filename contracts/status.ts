// Workflow-safe status model: the one shape every surface (query, CLI --json, Slack, UI details) renders, and the
// small helpers every surface reads it with.
import type { StepName } from './steps.ts';

export const RUN_STATES = ['running', 'paused', 'completed', 'failed', 'aborted'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** A run in one of these states does nothing more: no action applies to it. */
export const TERMINAL_STATES: ReadonlySet<RunState> = new Set(['completed', 'failed', 'aborted']);
export const isTerminal = (state: RunState): boolean => TERMINAL_STATES.has(state);

/** `kept`: not run because what it builds already exists and must stay as it is (a live mesh member during a join). */
export type StepState = 'pending' | 'running' | 'blocked' | 'done' | 'kept' | 'skipped' | 'overridden' | 'failed' | 'aborted';

/** How a step's state is drawn in the CLI and the UI details. */
export const STEP_ICON: Record<StepState, string> = {
  pending: '·',
  running: '▶',
  blocked: '⏸',
  done: '✔',
  kept: '○',
  skipped: '↷',
  overridden: '⚠',
  failed: '✖',
  aborted: '■',
};

export interface BlockedInfo {
  reason: string;
  hint: string;
  /** ISO time the step first blocked (kept across re-checks and continue-as-new) */
  since: string;
  evidence?: Record<string, string | number | boolean>;
  overridable: boolean;
  skippable: boolean;
  rechecks: number;
  nextCheckAt?: string;
}

export interface StepStatus {
  name: StepName;
  /** per-node and per-cluster steps (an upgrade): the node or cluster this instance acts on */
  target?: string;
  title: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  attempts: number;
  blocked?: BlockedInfo;
  /** why a step was skipped/overridden, or the fatal error */
  note?: string;
}

/** `waiver`: a gate passed only because the blueprint's written waiver raised it (recorded by the run itself). */
export type OperatorActionName = 'resume' | 'skip' | 'override' | 'abort' | 'amend' | 'waiver';

export interface OperatorAction {
  at: string;
  action: OperatorActionName;
  cluster?: string;
  step?: string;
  by: string;
  via: string;
  reason?: string;
}

/**
 * A cluster's part in a rollout: `new` is built from bare metal; `member` already runs in the live mesh (read at
 * mesh-preflight) and is kept as it is: only its peer list changes, in the mesh phase.
 */
export type ClusterRole = 'new' | 'member';

export interface ClusterStatus {
  name: string;
  workflowId: string;
  /** absent in rollouts started before roles existed: `new` */
  role?: ClusterRole;
  state: RunState;
  /** the step running, blocked or last finished ('not started' when the cluster's workflow cannot be asked) */
  step: StepName | 'not started';
  steps: StepStatus[];
  actions: OperatorAction[];
  outputs: { apiserverAddress?: string; kubeconfigRef?: string };
  error?: string;
}

export interface BlockedSummary {
  cluster?: string;
  step: StepName;
  /** the node or cluster of a per-node/per-cluster step */
  target?: string;
  reason: string;
  hint: string;
  since: string;
  overridable: boolean;
  skippable: boolean;
}

/** A run that is not a rollout of a blueprint: a detach names the cluster leaving the mesh and why. */
export interface RunOperation {
  kind: 'detach' | 'backup' | 'restore-drill' | 'failover-drill' | 'rotate-certs' | 'rotate-ca';
  /** the cluster it concerns; '' for a mesh-wide operation (a rotation) */
  cluster: string;
  reason: string;
}

/** The mesh rollout (parent) status: the mesh phase in full, and what it knows of each cluster. */
export interface MeshRolloutStatus {
  id: string;
  mesh: string;
  revision: string;
  state: RunState;
  startedAt: string;
  updatedAt: string;
  clusters: Array<{ name: string; workflowId: string; state: RunState; role?: ClusterRole; blocked?: BlockedSummary }>;
  /** set by a detach run (whose steps are in meshSteps and which has no cluster children) */
  operation?: RunOperation;
  meshSteps: StepStatus[];
  actions: OperatorAction[];
  startedBy: { by: string; via: string };
  error?: string;
}

/** What surfaces show: the parent's status merged with each child's (the client builds it with queries). */
export interface RolloutView {
  id: string;
  workflowId: string;
  mesh: string;
  revision: string;
  state: RunState;
  startedAt: string;
  updatedAt: string;
  clusters: ClusterStatus[];
  meshSteps: StepStatus[];
  operation?: RunOperation;
  blocked?: BlockedSummary & { workflowId: string };
  actions: OperatorAction[];
  startedBy: { by: string; via: string };
  error?: string;
}

/** A step as people name it: `talos-upgrade usa-cp-2` for a per-node instance. */
export const stepLabel = (s: { name?: string; step?: string; target?: string }): string => `${s.name ?? s.step ?? ''}${s.target ? ` ${s.target}` : ''}`;

/** Steps that count as passed: later steps may run. */
const PASSED: ReadonlySet<StepState> = new Set(['done', 'kept', 'skipped', 'overridden']);
export const isPassed = (s: StepStatus): boolean => PASSED.has(s.state);

/** The step running or paused, else the last one that started (the first when none did). */
export function currentStep(steps: readonly StepStatus[]): StepStatus | undefined {
  return steps.find((s) => s.state === 'running' || s.state === 'blocked') ?? [...steps].reverse().find((s) => s.state !== 'pending');
}

export function blockedStep(steps: readonly StepStatus[]): StepStatus | undefined {
  return steps.find((s) => s.state === 'blocked');
}

/** What surfaces show of a paused step (`cluster` absent for a mesh step). */
export function blockedSummaryOf(step: StepStatus, cluster?: string): BlockedSummary | undefined {
  const b = step.blocked;
  if (step.state !== 'blocked' || !b) return undefined;
  return {
    ...(cluster !== undefined ? { cluster } : {}),
    step: step.name,
    ...(step.target !== undefined ? { target: step.target } : {}),
    reason: b.reason,
    hint: b.hint,
    since: b.since,
    overridable: b.overridable,
    skippable: b.skippable,
  };
}
