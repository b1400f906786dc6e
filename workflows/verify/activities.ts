// Workflow-side proxies for the verify activities: their own retry policy, because a verify run reports
// instead of pausing.
import { proxyActivities } from '@temporalio/workflow';
import type { VerifyActivities } from '../../activities/verify.ts';

/**
 * Checks are read-only, so retrying is always safe; 3 attempts (1 s → 5 s) absorb a flaky answer. After that the
 * check becomes a `fail` verdict carrying the error: a verify run never waits on a broken check.
 * 3 minutes covers the real etcd check (a 35 s sampling window plus scrapes); tool calls heartbeat every 5 s.
 */
export const checks = proxyActivities<VerifyActivities>({
  startToCloseTimeout: '3m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3 },
});

/** A notification that cannot be delivered now is retried by the next scheduled run, so few attempts here. */
export const outcome = proxyActivities<VerifyActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 4 },
});
