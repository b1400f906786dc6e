import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptors, Next } from '@temporalio/worker';
import { budgetExhausted, isRetryableFailure, recordFor, usesBudget } from '../activities/exec/attempts.ts';
import { processLedger } from '../activities/exec/process-ledger.ts';
import { withToolScope } from '../activities/exec/tool-scope.ts';

/** How often an attempt heartbeats on its own; the worker throttles what reaches the server to one per second. */
const KEEP_ALIVE_MS = 500;

/**
 * Wraps every activity attempt (registered in workers/worker.ts):
 * - its tool processes end with it (exec/tool-scope.ts);
 * - it heartbeats on its own while it runs, whatever the adapter is doing, so a cancel (abort) reaches it
 *   within about a second and a heartbeat timeout means a dead worker, never a slow check;
 * - every heartbeat carries its attempt record and a retryable failure is recorded as such before it is reported
 *   (exec/attempts.ts), so attempts lost to worker restarts do not count against the step's budget;
 * - it is listed in the worker's process ledger while it runs, so if the worker is killed, its successor fails
 *   the attempt at once (crash-recovery.ts) instead of waiting for the heartbeat timeout.
 */
export function activityHygiene(ctx: Context): ActivityInterceptors {
  return { inbound: new ActivityHygiene(ctx) };
}

class ActivityHygiene implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const { ctx } = this;
    const info = ctx.info;
    const record = recordFor(info);
    const send = ctx.heartbeat;
    let progress: unknown;
    const beat = () => send(progress === undefined ? { attempts: record } : { attempts: record, progress });
    // Context.heartbeat is a plain property of this attempt's context: every caller (Context.current().heartbeat,
    // the heartbeat() helper) goes through here and the record travels with what the adapter reports.
    (ctx as { heartbeat: (details?: unknown) => void }).heartbeat = (details?: unknown) => {
      progress = details;
      beat();
    };
    const keepAlive = info.heartbeatTimeoutMs ? setInterval(beat, Math.min(KEEP_ALIVE_MS, info.heartbeatTimeoutMs / 4)) : undefined;
    const ledger = info.workflowExecution ? processLedger() : undefined;
    ledger?.attemptStarted({
      taskToken: info.base64TaskToken,
      workflowId: info.workflowExecution!.workflowId,
      runId: info.workflowExecution!.runId,
      activityType: info.activityType,
    });
    try {
      return await withToolScope(() => next(input));
    } catch (err) {
      if (isRetryableFailure(err) && !ctx.cancellationSignal.aborted) {
        record.outcome = 'failed';
        beat(); // flushed by the SDK before it reports the failure: the next attempt reads it
        const exhausted = usesBudget(info) ? budgetExhausted(record, info.activityType, err) : undefined;
        if (exhausted) throw exhausted;
      }
      throw err;
    } finally {
      clearInterval(keepAlive);
      ledger?.attemptEnded(info.base64TaskToken);
    }
  }
}
