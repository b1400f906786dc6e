// The one poll loop every activity wait uses (LB addresses, node stages, CRDs, peers, canaries, metrics scrapes).
import { heartbeat, sleep } from './context.ts';

/**
 * Runs `check` until it returns a value or `budgetMs` passes (undefined then), heartbeating between checks with
 * `what`, the time left and `progress()`. Checks start every `intervalMs` (fixed rate): a check that itself took
 * that long is followed by the next one at once; the last wait ends at the deadline.
 */
export async function pollWithin<T>(
  budgetMs: number,
  intervalMs: number,
  what: string,
  check: () => Promise<T | undefined>,
  progress?: () => Record<string, unknown>,
): Promise<T | undefined> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const checkStarted = Date.now();
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    heartbeat({ polling: what, remainingMs: deadline - Date.now(), ...progress?.() });
    const wait = Math.min(intervalMs - (Date.now() - checkStarted), deadline - Date.now());
    if (wait > 0) await sleep(wait);
  }
}
