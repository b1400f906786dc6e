// What the timeline is built from: the facts of a rollout's workflow histories (the parent and every cluster
// child, every run of each across continue-as-new), decoded. client/rollout-history.ts reads them through the
// client; timeline/model.ts turns them into the picture's model. Plain data, no Temporal types.
import type { BlockedDetails } from '../../contracts/failures.ts';

export interface ActivityFact {
  type: 'activity';
  /** unique within the workflow: `<run>/<scheduled event id>` */
  key: string;
  activity: string;
  summary?: string;
  scheduledAt: number;
  startedAt?: number;
  closedAt?: number;
  /** history order of the scheduled and the closing event (run and event id), for events in the same millisecond */
  scheduledSeq: number;
  closedSeq?: number;
  /** attempts made (retries included), as the server recorded them */
  attempts: number;
  outcome: 'running' | 'completed' | 'failed' | 'timed-out' | 'canceled';
  failure?: { message: string; type?: string; nonRetryable?: boolean; blocked?: BlockedDetails };
}

/** An accepted update (resume, skip, override, abort, amend); refused ones never reach history. */
export interface UpdateFact {
  type: 'update';
  at: number;
  seq: number;
  name: string;
  by?: string;
  via?: string;
  reason?: string;
  step?: string;
  /** amend: the revision it moved to */
  revision?: string;
}

export interface SignalFact {
  type: 'signal';
  at: number;
  seq: number;
  name: string;
  by?: string;
  via?: string;
  reason?: string;
}

export type HistoryFact = ActivityFact | UpdateFact | SignalFact;

export type WorkflowOutcome = 'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'timed-out';

export interface WorkflowFacts {
  workflowId: string;
  kind: 'mesh' | 'cluster';
  /** the cluster's name (children), from its input */
  cluster?: string;
  runs: number;
  startedAt: number;
  closedAt?: number;
  outcome: WorkflowOutcome;
  /** `state` of the workflow's own result (completed, failed, aborted), when it returned one */
  resultState?: string;
  error?: string;
  facts: HistoryFact[];
}

export interface RolloutFacts {
  workflowId: string;
  mesh: string;
  revision: string;
  clusters: string[];
  startedBy: { by: string; via: string };
  parent: WorkflowFacts;
  children: WorkflowFacts[];
  /** when the facts were read: the end of anything still running */
  readAt: number;
}
