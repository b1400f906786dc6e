import type { LabCluster, LabState } from '../state.ts';
import { seedStuckRelease } from './faults.ts';
import { reconcileLbIpam } from './lbipam.ts';

/** What the cluster's controllers would have done by `now`; every lab call runs it before answering. */
export function reconcileCluster(state: LabState, c: LabCluster, now: number): void {
  seedStuckRelease(state, c, now);
  reconcileLbIpam(state, c, now);
}
