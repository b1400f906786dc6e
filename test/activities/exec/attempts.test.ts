// How an attempt learns from the heartbeat details of the earlier ones whether they failed or were lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { budgetExhausted, isRetryableFailure, recordFor, usesBudget, type AttemptRecord } from '../../../activities/exec/attempts.ts';
import { ATTEMPT_BUDGET, BUDGETED_MAXIMUM_ATTEMPTS } from '../../../contracts/attempts.ts';
import { FailureType, transient } from '../../../contracts/failures.ts';

const info = (attempt: number, prev?: Partial<AttemptRecord>, scheduledAt = 100_000) => ({
  attempt,
  heartbeatDetails: prev ? { attempts: { attempt: 1, failed: 0, lost: 0, since: 90_000, ...prev }, progress: { command: 'talosctl x' } } : undefined,
  startToCloseTimeoutMs: 180_000,
  currentAttemptScheduledTimestampMs: scheduledAt,
});

describe('attempt records', () => {
  test('the first attempt starts from nothing', () => {
    assert.deepEqual(recordFor(info(1), 5), { attempt: 1, failed: 0, lost: 0, since: 5 });
  });

  test('an attempt whose last heartbeat says failed counts; one that went silent was lost', () => {
    assert.deepEqual(recordFor(info(2, { attempt: 1, outcome: 'failed' }), 5), { attempt: 2, failed: 1, lost: 0, since: 5 });
    assert.deepEqual(recordFor(info(2, { attempt: 1 }), 5), { attempt: 2, failed: 0, lost: 1, since: 5 });
  });

  test('totals carry over, and attempts that never heartbeated at all are lost too', () => {
    // attempt 3 failed after 1 earlier failure and 1 loss; attempts 4 and 5 died before their first heartbeat
    assert.deepEqual(recordFor(info(6, { attempt: 3, failed: 1, lost: 1, outcome: 'failed' }), 5), { attempt: 6, failed: 2, lost: 3, since: 5 });
    assert.deepEqual(recordFor(info(4), 5), { attempt: 4, failed: 0, lost: 3, since: 5 });
  });

  test('an attempt that ran for its whole start-to-close timeout was too slow, not lost', () => {
    assert.deepEqual(recordFor(info(2, { attempt: 1, since: 0 }, 181_000), 5), { attempt: 2, failed: 1, lost: 0, since: 5 });
  });

  test('details that are not a record (an older worker, garbage) count as no word', () => {
    assert.deepEqual(recordFor({ ...info(3), heartbeatDetails: { attempts: { attempt: 'x' } } }, 5), { attempt: 3, failed: 0, lost: 2, since: 5 });
  });

  test('retryable: transient failures and plain errors; not cancellations or non-retryable failures', () => {
    assert.equal(isRetryableFailure(transient('x')), true);
    assert.equal(isRetryableFailure(new Error('bug')), true);
    assert.equal(isRetryableFailure(new CancelledFailure('gone')), false);
    assert.equal(isRetryableFailure(ApplicationFailure.nonRetryable('fatal')), false);
  });

  test('the budget applies to activities scheduled with the budgeted retry policy only', () => {
    assert.equal(usesBudget({ retryPolicy: { maximumAttempts: BUDGETED_MAXIMUM_ATTEMPTS } }), true);
    assert.equal(usesBudget({ retryPolicy: { maximumAttempts: 3 } }), false);
    assert.equal(usesBudget({}), false);
  });

  test('the last failure the budget allows turns into a pause that names the activity, the error and the losses', () => {
    const last = { attempt: 9, failed: ATTEMPT_BUDGET.failures - 1, lost: 3, since: 0 };
    const b = budgetExhausted(last, 'applyMachineConfig', transient('connection refused'))!;
    assert.equal(b.type, FailureType.blocked);
    assert.equal(b.nonRetryable, true);
    assert.match(b.message, /^applyMachineConfig kept failing after 6 attempts \(and 3 lost to worker restarts\): connection refused$/);
    assert.equal(budgetExhausted({ ...last, failed: ATTEMPT_BUDGET.failures - 2 }, 'x', new Error('e')), undefined);
  });
});
