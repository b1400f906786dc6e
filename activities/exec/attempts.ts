import type { Info } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ATTEMPT_BUDGET, BUDGETED_MAXIMUM_ATTEMPTS } from '../../contracts/attempts.ts';
import { blocked } from '../../contracts/failures.ts';

/**
 * What every heartbeat of an activity attempt carries, so the next attempt can tell how the earlier ones ended.
 * Temporal hands an attempt the details of the last heartbeat any earlier attempt recorded; the SDK flushes
 * the last heartbeat before it reports a failure. So: an attempt whose last record says `failed` failed (it
 * counts against the budget); one whose last record does not (or that left none) ended without a word — its
 * worker died, was stopped, or stalled past the heartbeat timeout — and is "lost", not counted.
 */
export interface AttemptRecord {
  /** this attempt's number (Temporal's, from 1) */
  attempt: number;
  /** earlier attempts that failed */
  failed: number;
  /** earlier attempts lost to a worker that died or shut down */
  lost: number;
  /** when this attempt started (epoch ms) */
  since: number;
  /** set on the last heartbeat of an attempt that fails with a retryable error */
  outcome?: 'failed';
}

/** The heartbeat details shape: the record beside whatever the activity reported. */
export interface AttemptHeartbeat {
  attempts: AttemptRecord;
  progress?: unknown;
}

function previousRecord(details: unknown): AttemptRecord | undefined {
  const r = (details as Partial<AttemptHeartbeat> | undefined)?.attempts;
  if (!r || typeof r !== 'object') return undefined;
  const ok = [r.attempt, r.failed, r.lost, r.since].every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);
  return ok ? r : undefined;
}

/** The record for the attempt `info` describes, from what the earlier attempts left. */
export function recordFor(info: Pick<Info, 'attempt' | 'heartbeatDetails' | 'startToCloseTimeoutMs' | 'currentAttemptScheduledTimestampMs'>, now = Date.now()): AttemptRecord {
  const attempt = info.attempt;
  const prev = previousRecord(info.heartbeatDetails);
  if (attempt <= 1 || !prev || prev.attempt >= attempt) {
    // no word from any earlier attempt: each ended before its first heartbeat reached the server
    return { attempt, failed: 0, lost: Math.max(0, attempt - 1), since: now };
  }
  // An attempt that ran for its whole start-to-close timeout was too slow, not interrupted: it counts.
  const ranOut = info.startToCloseTimeoutMs > 0 && info.currentAttemptScheduledTimestampMs - prev.since >= info.startToCloseTimeoutMs;
  const prevFailed = prev.outcome === 'failed' || ranOut;
  const silent = attempt - 1 - prev.attempt; // attempts after prev that never heartbeated: lost
  return {
    attempt,
    failed: prev.failed + (prevFailed ? 1 : 0),
    lost: prev.lost + (prevFailed ? 0 : 1) + silent,
    since: now,
  };
}

/** Temporal would retry this error (and the attempt was not merely cancelled): it counts as a failure. */
export function isRetryableFailure(err: unknown): boolean {
  if (err instanceof CancelledFailure || (err as Error | undefined)?.name === 'AbortError') return false;
  if (err instanceof ApplicationFailure) return !err.nonRetryable;
  return true;
}

/** Whether the activity was scheduled with the budgeted retry policy (contracts/attempts.ts). */
export function usesBudget(info: Pick<Info, 'retryPolicy'>): boolean {
  return info.retryPolicy?.maximumAttempts === BUDGETED_MAXIMUM_ATTEMPTS;
}

/**
 * After a retryable failure of a budgeted activity: when it was the last failure the budget allows, the step
 * pauses now (a `blocked` failure, like any step whose retries ran out), whatever attempts Temporal has left for
 * lost ones. Otherwise undefined: the failure is retried as it is.
 */
export function budgetExhausted(record: AttemptRecord, activityType: string, err: unknown): ApplicationFailure | undefined {
  if (record.failed + 1 < ATTEMPT_BUDGET.failures) return undefined;
  const message = (err as Error | undefined)?.message ?? String(err);
  return blocked({
    reason: `${activityType} kept failing after ${ATTEMPT_BUDGET.failures} attempts${record.lost ? ` (and ${record.lost} lost to worker restarts)` : ''}: ${message}`,
    hint: 'meshpilot re-checks automatically; fix what the message names (connectivity, credentials, the tool) or resume to re-check now',
    evidence: { attempts: record.attempt, failed: record.failed + 1, lostToWorkerRestarts: record.lost },
  });
}
