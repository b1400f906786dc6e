// Workflow-side activity proxies: one place for timeouts and retry policy.
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { proxyActivities } from '@temporalio/workflow';
import type { MeshpilotActivities } from '../activities/index.ts';

/**
 * Retries: tools fail transiently (API not up yet, flaky links), so 6 attempts with backoff (1 s → 20 s) absorb
 * that; beyond it the step pauses for a person instead of failing the run (see classifyStepFailure).
 * Heartbeat timeout: tool calls heartbeat every 5 s while running, so a cancel reaches them within seconds
 * and a dead worker is noticed within 30 s.
 */
const retry: RetryPolicy = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 6 };

/** Quick calls: one tool invocation or an API request. */
export const quick = proxyActivities<MeshpilotActivities>({
  startToCloseTimeout: '3m',
  heartbeatTimeout: '30s',
  retry,
});

/** Waits that poll the world (node maintenance mode, LB addresses, helm --wait): bounded by the adapters' poll budget. */
export const waits = proxyActivities<MeshpilotActivities>({
  startToCloseTimeout: '20m',
  heartbeatTimeout: '30s',
  retry,
});

type WithOptions<I, O> = { executeWithOptions(options: ActivityOptions, args: [I]): Promise<O> };

/** Calls an activity with a one-line summary, which the Web UI shows on the event in the timeline. */
export function act<I, O>(fn: WithOptions<I, O>, summary: string, input: I): Promise<O> {
  return fn.executeWithOptions({ summary: summary.slice(0, 200) } as ActivityOptions, [input]);
}
