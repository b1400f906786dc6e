import { Context } from '@temporalio/activity';

/**
 * The activity context when there is one. Adapters also run outside any activity (tests, `meshpilot lab`
 * tooling), where there is nothing to heartbeat and every call counts as a first attempt.
 */
function current(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export const activityAttempt = (): number => current()?.info.attempt ?? 1;

export function heartbeat(details?: unknown): void {
  current()?.heartbeat(details);
}

/** Cancellation-aware inside an activity (Context.sleep), a plain timer outside. */
export function pause(ms: number): Promise<void> {
  const ctx = current();
  return ctx ? ctx.sleep(ms) : new Promise((r) => setTimeout(r, ms));
}
