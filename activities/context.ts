// The one way activities reach their Temporal context. Adapters also run outside any activity (tests, CLI tooling):
// there nothing heartbeats, sleeps are plain timers, and there is no retry to hand over to, so every call counts
// as the last attempt.
import { Context } from '@temporalio/activity';

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** This activity's attempt (1 = first); outside an activity, +Infinity: nothing retries it. */
export function activityAttempt(): number {
  return activityContext()?.info.attempt ?? Number.POSITIVE_INFINITY;
}

export function heartbeat(details?: unknown): void {
  activityContext()?.heartbeat(details);
}

/**
 * Waits `ms`. Inside an activity it ends early with a CancelledFailure when the activity is cancelled, and with
 * `beat` it heartbeats at least every 5 s, so a long wait is not mistaken for a dead worker.
 */
export async function sleep(ms: number, beat?: unknown): Promise<void> {
  const ctx = activityContext();
  if (!ctx) return new Promise((r) => setTimeout(r, ms));
  if (beat === undefined) return ctx.sleep(ms);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    ctx.heartbeat(beat);
    await ctx.sleep(Math.min(5_000, end - Date.now()));
  }
}
