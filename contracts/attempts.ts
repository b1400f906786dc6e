// Workflow-safe: how many attempts a rollout activity gets, shared by the workflow's retry policy and the worker.

/**
 * A rollout activity may fail `failures` times (transient tool errors, retried with backoff) before its step
 * pauses for a person. Attempts lost to a worker that died or shut down mid-call (a heartbeat timeout, a
 * graceful-shutdown cancel) do not count: Temporal's own limit is `failures + lostToWorkerRestarts`, and the worker
 * tells the two kinds apart from what each attempt left in its heartbeat details (activities/exec/attempts.ts),
 * pausing the step itself once the failures are used up. A worker that crash-loops on one activity still ends in a
 * pause, after `lostToWorkerRestarts` more attempts.
 */
export const ATTEMPT_BUDGET = { failures: 6, lostToWorkerRestarts: 14 } as const;

/** Temporal's maximumAttempts for activities that use the budget above (the worker recognises them by it). */
export const BUDGETED_MAXIMUM_ATTEMPTS = ATTEMPT_BUDGET.failures + ATTEMPT_BUDGET.lostToWorkerRestarts;
