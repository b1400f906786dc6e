import { randomBytes } from 'node:crypto';
import type { LabNode, LabState } from '../state.ts';
import { nodeRecord } from './node-record.ts';
import { TALOS_TIMING as T } from './timing.ts';
import { completeUpgrade, nodeVersions } from './versions.ts';

export type TalosStage = LabNode['stage'];

export interface StageView {
  stage: TalosStage;
  /** when the derived stage began */
  since: number;
  /** nothing listens on :50000 (powered off, or the dark part of a reboot) */
  apiDown: boolean;
}

/**
 * The node's stage now, derived from the stored stage and its timestamp (installing → rebooting → running;
 * booting → maintenance, or running when a config is already installed). Other lab tools call this rather
 * than reading `node.stage`, which is only as fresh as the last write.
 */
export function effectiveStage(state: LabState, node: LabNode, now = Date.now()): StageView {
  const installed = Boolean(node.appliedConfigSha);
  let stage = node.stage;
  let since = node.stageSince;
  for (;;) {
    if (stage === 'booting' && now >= since + T.bootMs) {
      since += T.bootMs;
      stage = installed ? 'running' : 'maintenance';
    } else if (stage === 'installing' && !nodeRecord(state, node.address)?.installError && now >= since + T.installMs) {
      since += T.installMs;
      stage = 'rebooting';
    } else if (stage === 'upgrading' && now >= since + T.upgradeMs) {
      since += T.upgradeMs;
      stage = 'rebooting';
    } else if (stage === 'rebooting' && now >= since + T.rebootMs && !neverReturns(state, node)) {
      since += T.rebootMs;
      stage = installed ? 'running' : 'maintenance';
    } else break;
  }
  const apiDown = stage === 'off' || (stage === 'rebooting' && now >= since + T.rebootMs * (1 - T.rebootDownFraction));
  return { stage, since, apiDown };
}

/** upgrade-node-stuck: a node whose upgrade this fault names does not come back from the reboot that installs it. */
function neverReturns(state: LabState, node: LabNode): boolean {
  const listed = (state.faults.upgradeNeverReturns as string[] | undefined) ?? [];
  return listed.includes(node.address) && Boolean(nodeVersions(state, node.address).pendingTalos);
}

/** True when the fault list or the node itself says nothing ever answers at this address. */
export function isUnreachable(state: LabState, address: string): boolean {
  const node = state.nodes[address];
  const listed = ((state.faults.unreachableNodes as string[] | undefined) ?? []).includes(address);
  return listed || node?.reachable === false;
}

/** An etcd member: a control-plane node with an id that runs in a bootstrapped cluster. */
export function isEtcdMember(state: LabState, node: LabNode, now = Date.now()): boolean {
  return (
    node.role === 'controlplane' &&
    Boolean(node.etcdMemberId) &&
    Boolean(state.clusters[node.cluster]?.bootstrappedAt) &&
    effectiveStage(state, node, now).stage === 'running'
  );
}

/** A member of its cluster's etcd, whether or not its node runs right now (membership outlives a reboot). */
export function hasEtcdMembership(state: LabState, node: LabNode): boolean {
  return node.role === 'controlplane' && Boolean(node.etcdMemberId) && Boolean(state.clusters[node.cluster]?.bootstrappedAt);
}

/**
 * A member whose etcd answers: it runs, and (upgrade-etcd-unhealthy) it is not one the fault keeps unhealthy once
 * its node has been upgraded.
 */
export function isEtcdHealthy(state: LabState, node: LabNode, now = Date.now()): boolean {
  if (!isEtcdMember(state, node, now)) return false;
  const sick = (state.faults.etcdUnhealthyAfterUpgrade as string[] | undefined) ?? [];
  return !(sick.includes(node.address) && nodeVersions(state, node.address).upgrades > 0);
}

/**
 * Writes derived stages back and gives every control-plane node that runs in a bootstrapped cluster its etcd
 * member id (random 64-bit, lower hex, as etcd's types.ID). Called inside withLabState by every talosctl call.
 */
export function settleTalosState(state: LabState, now = Date.now()): void {
  for (const node of Object.values(state.nodes)) {
    const view = effectiveStage(state, node, now);
    if (view.stage !== node.stage) {
      node.stage = view.stage;
      node.stageSince = view.since;
      if (view.stage === 'running') completeUpgrade(state, node);
    }
    if (
      node.role === 'controlplane' &&
      !node.etcdMemberId &&
      node.stage === 'running' &&
      state.clusters[node.cluster]?.bootstrappedAt
    ) {
      node.etcdMemberId = newEtcdMemberId();
    }
  }
}

function newEtcdMemberId(): string {
  // etcd ids are non-zero uint64; print unpadded like etcd's types.ID.String() (client/pkg/types/id.go)
  let id = 0n;
  while (id === 0n) id = randomBytes(8).readBigUInt64BE();
  return id.toString(16);
}
