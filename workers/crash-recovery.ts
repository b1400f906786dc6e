import type { NativeConnection } from '@temporalio/worker';
import type { RunningAttempt } from '../activities/exec/process-ledger.ts';

/** The failure type of an attempt ended by its dead worker's successor (never retried differently from a timeout). */
export const WORKER_LOST = 'MeshpilotWorkerLost';

export interface RecoveryResult {
  /** attempts reported failed, so their retry starts now */
  failed: number;
  /** attempts the server had already moved on from (timed out, completed, or the workflow closed) */
  gone: number;
}

/**
 * A worker killed mid-activity leaves its attempts running in the server's eyes until their heartbeat timeout,
 * and its workflows' next tasks waiting on its sticky queue until that times out too. Its successor (same identity,
 * same host, found by the start-up sweep) ends both at once: it resets the sticky queue of each workflow and
 * reports each attempt failed by its own task token — a token names one attempt, so an attempt the server already
 * retried elsewhere is not touched (the server answers NotFound). The failure carries no heartbeat details: the
 * server keeps the dead attempt's last ones, so the retry counts it as lost, not failed (activities/exec/attempts.ts).
 */
export async function recoverLostAttempts(
  connection: NativeConnection,
  opts: { namespace: string; identity: string; attempts: RunningAttempt[] },
): Promise<RecoveryResult> {
  const result: RecoveryResult = { failed: 0, gone: 0 };
  const service = connection.workflowService;
  for (const a of opts.attempts) {
    await service.resetStickyTaskQueue({ namespace: opts.namespace, execution: { workflowId: a.workflowId, runId: a.runId } }).catch(() => undefined);
    try {
      await service.respondActivityTaskFailed({
        namespace: opts.namespace,
        identity: opts.identity,
        taskToken: Buffer.from(a.taskToken, 'base64'),
        failure: {
          message: `the worker running this ${a.activityType} attempt died; failed by its successor ${opts.identity} so the retry starts now`,
          source: 'meshpilot',
          applicationFailureInfo: { type: WORKER_LOST, nonRetryable: false },
        },
      });
      result.failed += 1;
    } catch {
      result.gone += 1;
    }
  }
  return result;
}
