import type { Client } from '@temporalio/client';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { getRolloutView, startRollout } from '../../client/rollouts.ts';
import { isTerminal, type RolloutView } from '../../contracts/status.ts';
import type { PauseLimits } from '../../contracts/steps.ts';

/** Starts a lab rollout on the given queue as a test operator (the lab has no BMCs: nodes start in maintenance). */
export function start(client: Client, plan: RolloutPlan, taskQueue: string, limits?: PauseLimits) {
  return startRollout(client, { plan, requestedBy: { by: 'tester', via: 'test' }, taskQueue, limits, bootOverride: 'none' });
}

/** Polls the rollout view until `done` says so (or the deadline passes, failing with the last view). */
export async function waitFor(
  client: Client,
  id: string,
  done: (v: RolloutView) => boolean,
  timeoutMs = 120_000,
): Promise<RolloutView> {
  const deadline = Date.now() + timeoutMs;
  let last: RolloutView | undefined;
  for (;;) {
    try {
      last = await getRolloutView(client, id);
      if (done(last)) return last;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting; last view: ${JSON.stringify(last && { state: last.state, blocked: last.blocked, clusters: last.clusters.map((c) => [c.name, c.state, c.step]) })}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const isFinished = (v: RolloutView) => isTerminal(v.state);
export const isPaused = (v: RolloutView) => v.state === 'paused' && v.blocked !== undefined;
