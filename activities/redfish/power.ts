import { sleep } from '../context.ts';
import { RedfishError, type RedfishClient } from './client.ts';
import { readSystem, type RedfishSystem } from './discover.ts';

/**
 * Power is asynchronous on every BMC (sushy's fake driver applies a change 1-11 s later, real ones report
 * PoweringOn/PoweringOff for a while), so every transition is "ask once, then poll the state".
 */
const ON_TYPES = ['On', 'ForceOn', 'PushPowerButton'];
const RESTART_TYPES = ['ForceRestart', 'PowerCycle', 'GracefulRestart'];

/** Picks the first preferred ResetType the BMC advertises; BMCs that advertise nothing get the first preference. */
export function pickResetType(system: RedfishSystem, kind: 'on' | 'restart'): string {
  const preferred = kind === 'on' ? ON_TYPES : RESTART_TYPES;
  const allowed = system.Actions['#ComputerSystem.Reset']?.['ResetType@Redfish.AllowableValues'];
  if (!allowed?.length) return preferred[0]!;
  const hit = preferred.find((t) => allowed.includes(t));
  if (!hit) throw new RedfishError('protocol', `the BMC allows none of ${preferred.join('/')} (it allows ${allowed.join(', ')})`);
  return hit;
}

export async function resetSystem(client: RedfishClient, system: RedfishSystem, resetType: string): Promise<void> {
  const target = system.Actions['#ComputerSystem.Reset']?.target;
  if (!target) throw new RedfishError('protocol', `System ${system.Id ?? system['@odata.id']} has no ComputerSystem.Reset action`);
  await client.post(target, { ResetType: resetType });
}

export interface PowerWait {
  timeoutMs: number;
  /** called on every poll so the activity heartbeats */
  onPoll?: (state: string) => void;
}

/**
 * Polls PowerState until it equals `want` (back-off 0.5 s → 3 s). Returns the last System read, or throws a
 * RedfishError of kind 'protocol' naming the stuck state when the budget runs out.
 */
export async function waitForPowerState(
  client: RedfishClient,
  path: string,
  want: 'On' | 'Off',
  wait: PowerWait,
): Promise<RedfishSystem> {
  const deadline = Date.now() + wait.timeoutMs;
  let delay = 500;
  for (;;) {
    const { system } = await readSystem(client, path);
    const state = system.PowerState ?? 'unknown';
    wait.onPoll?.(state);
    if (state === want) return system;
    if (Date.now() + delay > deadline) {
      throw new PowerTimeoutError(want, state, wait.timeoutMs);
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 3_000);
  }
}

export class PowerTimeoutError extends Error {
  override name = 'PowerTimeoutError';
  constructor(
    readonly want: string,
    readonly last: string,
    readonly timeoutMs: number,
  ) {
    super(`PowerState is still ${last} after ${Math.round(timeoutMs / 1000)} s (waiting for ${want})`);
  }
}
