// A signed Slack request is good for five minutes either side of its timestamp, so a captured one could be sent
// again in that window: this remembers every accepted request until its window has closed, and the gate refuses
// a second copy. In-process and bounded: one chat process sees every request it accepts (docs/slack.md says what
// holds with several replicas: Temporal's update ids and the rollout's start memo make the actions themselves
// idempotent there).
import { SLACK_MAX_SKEW_S } from './signature.ts';

/** Far above what one Slack workspace sends in ten minutes; at ~150 bytes an entry, about 15 MB at most. */
export const DEFAULT_MAX_REMEMBERED = 100_000;

export type Claim = { ok: true } | { ok: false; why: 'replay'; firstSeenMs: number } | { ok: false; why: 'full' };

export class ReplayGuard {
  /** key → [expiry, first seen]; insertion order is roughly expiry order, so expired entries are at the front */
  private readonly seen = new Map<string, [number, number]>();

  constructor(private readonly maxEntries = DEFAULT_MAX_REMEMBERED) {}

  get size(): number {
    return this.seen.size;
  }

  /**
   * Claims one verified request (its timestamp header and signature). The first claim wins; any later claim of
   * the same pair before its window has closed is a replay.
   */
  claim(timestamp: string, signature: string, nowMs: number): Claim {
    this.expire(nowMs, false);
    const key = `${timestamp}:${signature}`;
    const known = this.seen.get(key);
    if (known && known[0] > nowMs) return { ok: false, why: 'replay', firstSeenMs: known[1] };
    if (this.seen.size >= this.maxEntries) {
      this.expire(nowMs, true);
      // Forgetting a live entry would let its replay through: refuse new requests instead until some expire.
      if (this.seen.size >= this.maxEntries) return { ok: false, why: 'full' };
    }
    // After the window the signature check refuses the request as stale, so it need not be remembered longer.
    const expiry = (Number(timestamp) + SLACK_MAX_SKEW_S + 1) * 1000;
    this.seen.set(key, [Math.max(expiry, nowMs + 1000), nowMs]);
    return { ok: true };
  }

  /** Drops expired entries: from the front only (amortised O(1)), or all of them when the store is full. */
  private expire(nowMs: number, sweepAll: boolean): void {
    for (const [key, [expiry]] of this.seen) {
      if (expiry <= nowMs) this.seen.delete(key);
      else if (!sweepAll) return;
    }
  }
}
