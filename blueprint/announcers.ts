// Who can answer ARP for a cluster's L2 pool. Shared by the checks (to refuse a pool nobody announces) and
// the plan (to lift the control-plane exclusion label when only control-plane nodes can announce).
import type { ClusterSpec, NodeSpec } from './schema.ts';
import { contains, parseAddress, parseCidr, parseRange, type IpInterval } from './net.ts';

/**
 * Talos >= 1.8 puts this label on control-plane nodes in new configs, and Cilium's L2 announcer skips nodes
 * that carry it: a control-plane-only cluster silently announces nothing.
 */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export function poolIntervals(cluster: ClusterSpec): IpInterval[] {
  const out: IpInterval[] = [];
  for (const block of cluster.loadBalancer.pool) {
    const parsed = block.cidr !== undefined ? parseCidr(block.cidr) : parseRange(block.start ?? '', block.stop);
    if (parsed.value) out.push(parsed.value);
  }
  return out;
}

/** The node subnets that hold every block of the pool (one per block; undefined where none holds it). */
export function poolSubnets(cluster: ClusterSpec): Array<IpInterval | undefined> {
  const subnets = cluster.network.nodeSubnets.flatMap((s) => parseCidr(s).value ?? []);
  return poolIntervals(cluster).map((block) => subnets.find((s) => contains(s, block)));
}


export interface L2Announcers {
  /** workers that sit in a pool subnet: they announce without any change */
  workers: NodeSpec[];
  /** control-plane nodes in a pool subnet: they announce only once the exclusion label is removed */
  controlPlanes: NodeSpec[];
  /** true when the plan must remove EXCLUDE_LB_LABEL from control-plane nodes for anyone to announce */
  liftControlPlaneExclusion: boolean;
}

export function l2Announcers(cluster: ClusterSpec): L2Announcers {
  const subnets = poolSubnets(cluster).filter((s): s is IpInterval => s !== undefined);
  const inPool = (n: NodeSpec) => {
    const a = parseAddress(n.address).value;
    return a !== undefined && subnets.some((s) => contains(s, a));
  };
  const workers = cluster.nodes.filter((n) => n.role === 'worker' && inPool(n));
  const controlPlanes = cluster.nodes.filter((n) => n.role === 'controlplane' && inPool(n));
  return {
    workers,
    controlPlanes,
    liftControlPlaneExclusion: cluster.loadBalancer.mode === 'l2' && workers.length === 0 && controlPlanes.length > 0,
  };
}
