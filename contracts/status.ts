// Workflow-safe status model: the one shape every surface (query, CLI --json, Slack, UI details) renders.

export type RunState = 'running' | 'paused' | 'completed' | 'failed' | 'aborted';
export type StepState = 'pending' | 'running' | 'blocked' | 'done' | 'skipped' | 'overridden' | 'failed' | 'aborted';

/** How a step's state is drawn in the CLI and the UI details. */
export const STEP_ICON: Record<StepState, string> = {
  pending: '·',
  running: '▶',
  blocked: '⏸',
  done: '✔',
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
  name: string;
  title: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  attempts: number;
  blocked?: BlockedInfo;
  /** why a step was skipped/overridden, or the fatal error */
  note?: string;
}

export type OperatorActionName = 'resume' | 'skip' | 'override' | 'abort' | 'amend';

export interface OperatorAction {
  at: string;
  action: OperatorActionName;
  cluster?: string;
  step?: string;
  by: string;
  via: string;
  reason?: string;
}

export interface ClusterStatus {
  name: string;
  workflowId: string;
  state: RunState;
  /** the step running, blocked or last finished */
  step: string;
  steps: StepStatus[];
  actions: OperatorAction[];
  outputs: { apiserverAddress?: string; kubeconfigRef?: string };
  error?: string;
}

export interface BlockedSummary {
  cluster?: string;
  step: string;
  reason: string;
  hint: string;
  since: string;
  overridable: boolean;
  skippable: boolean;
}

/** The mesh rollout (parent) status: the mesh phase in full, and what it knows of each cluster. */
export interface MeshRolloutStatus {
  id: string;
  mesh: string;
  revision: string;
  state: RunState;
  startedAt: string;
  updatedAt: string;
  clusters: Array<{ name: string; workflowId: string; state: RunState; blocked?: BlockedSummary }>;
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
  blocked?: BlockedSummary & { workflowId: string };
  actions: OperatorAction[];
  startedBy: { by: string; via: string };
  error?: string;
}
