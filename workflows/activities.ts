// Workflow-side activity proxies: one place for timeouts and retry policy.
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { proxyActivities } from '@temporalio/workflow';
import type { MeshpilotActivities } from '../activities/index.ts';
import { BUDGETED_MAXIMUM_ATTEMPTS } from '../contracts/attempts.ts';

/**
 * Retries: tools fail transiently (API not up yet, flaky links), so 6 failed attempts with backoff (1 s → 20 s)
 * absorb that; beyond it the step pauses for a person instead of failing the run (see classifyStepFailure).
 * Attempts lost to a worker restart do not count (contracts/attempts.ts): Temporal allows that many more.
 * Heartbeat timeout: every running activity heartbeats twice a second (the worker throttles to one per second,
 * which is how a cancel reaches it within a second), so 10 s without one means the worker is gone, and its
 * activities are retried 10 s after a crash instead of 30.
 */
const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: BUDGETED_MAXIMUM_ATTEMPTS };

/** Quick calls: one tool invocation or an API request. */
export const quick = proxyActivities<MeshpilotActivities>({
  startToCloseTimeout: '3m',
  heartbeatTimeout: '10s',
  retry,
});

/** Waits that poll the world (node maintenance mode, LB addresses, helm --wait): bounded by the adapters' poll budget. */
export const waits = proxyActivities<MeshpilotActivities>({
  startToCloseTimeout: '20m',
  heartbeatTimeout: '10s',
  retry,
});

type WithOptions<I, O> = { executeWithOptions(options: ActivityOptions, args: [I]): Promise<O> };

/**
 * Calls an activity with a one-line summary, which the Web UI shows on the event in the timeline; `taskQueue` runs it
 * on another queue (a site's, so talosctl runs inside that site's network).
 */
export function act<I, O>(fn: WithOptions<I, O>, summary: string, input: I, taskQueue?: string): Promise<O> {
  return fn.executeWithOptions({ summary: summary.slice(0, 200), ...(taskQueue ? { taskQueue } : {}) } as ActivityOptions, [input]);
}
