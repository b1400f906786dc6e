// Workflow-safe. The small, designed set of failure types that crosses the activity boundary.
import { ApplicationFailure } from '@temporalio/common';

/**
 * - transient: retried by Temporal with backoff (flaky tool, API not up yet);
 * - blocked:   the world is not ready and retrying blindly will not fix it (LB pending, latency over budget):
 *              the run pauses at the step, re-checks on a backoff, and waits for an operator;
 * - fatal:     wrong input or a broken invariant: the run stops with a clear message.
 */
export const FailureType = {
  transient: 'MeshpilotTransient',
  blocked: 'MeshpilotBlocked',
  fatal: 'MeshpilotFatal',
} as const;

export interface BlockedDetails {
  /** What is wrong, in one sentence an operator understands. */
  reason: string;
  /** What to do about it: a command, a blueprint field, a label. */
  hint: string;
  /** Small, non-secret facts that support the diagnosis (a Service condition, a p99 value). */
  evidence?: Record<string, string | number | boolean>;
  /** Gates such as etcd latency accept `override`. */
  overridable?: boolean;
}

export function transient(message: string, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureType.transient, nonRetryable: false, cause });
}

export function blocked(details: BlockedDetails): ApplicationFailure {
  return ApplicationFailure.create({ message: details.reason, type: FailureType.blocked, nonRetryable: true, details: [details] });
}

export function fatal(message: string, hint?: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: hint ? `${message} (hint: ${hint})` : message,
    type: FailureType.fatal,
    nonRetryable: true,
    details: hint ? [{ hint }] : [],
  });
}

/** An operator action refused by an update validator: its message says why, in clear (see codec/failure-converter.ts). */
export const ACTION_REFUSED = 'MeshpilotActionRefused';

export function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: ACTION_REFUSED, nonRetryable: true });
}

/** Finds our ApplicationFailure under an ActivityFailure/ChildWorkflowFailure chain. */
export function findApplicationFailure(err: unknown): ApplicationFailure | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur; i++) {
    if (cur instanceof ApplicationFailure) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

export function blockedDetailsOf(err: unknown): BlockedDetails | undefined {
  const app = findApplicationFailure(err);
  if (app?.type !== FailureType.blocked) return undefined;
  return (app.details?.[0] as BlockedDetails | undefined) ?? { reason: app.message, hint: '' };
}
