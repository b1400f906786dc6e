// Ranges Kubernetes itself refuses or cannot use, checked before a cluster is built on them: the service range
// size kube-apiserver accepts, dual-stack lists, and a pod range big enough for the per-node ranges that
// kube-controller-manager carves out of it (Cilium's kubernetes IPAM uses exactly those).
import type { Blueprint, ClusterSpec } from '../schema.ts';
import type { IssueSink, IssuePath } from '../issues.ts';
import { parseCidr, type Family } from '../net.ts';

/** kube-apiserver: `validateMaxCIDRRange(..., maxCIDRBits = 20, "--service-cluster-ip-range")`. */
const SERVICE_CIDR_MAX_HOST_BITS = 20;
/** kube-controller-manager cidrset: `clusterSubnetMaxDiff = 16` (IPv6 node masks). */
const CLUSTER_SUBNET_MAX_DIFF = 16;
/** kubelet's default maxPods: a per-node range must hold at least this many pod addresses. */
const KUBELET_DEFAULT_MAX_PODS = 110;

const bitsOf = (family: Family) => (family === 4 ? 32 : 128);

function kubernetesMinor(version: string): number {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major === 1 ? (minor ?? 0) : 1000;
}

function checkDualStackList(c: ClusterSpec, ci: number, field: 'podSubnets' | 'serviceSubnets', sink: IssueSink): void {
  const list = c.network[field];
  if (list.length !== 2) return;
  const [a, b] = list.map((t) => parseCidr(t).value);
  if (a && b && a.family === b.family) {
    sink.error(
      ['clusters', ci, 'network', field, 1],
      `two IPv${a.family} ${field === 'podSubnets' ? 'pod' : 'service'} subnets: Kubernetes takes at most one per family (dual-stack is one IPv4 and one IPv6); use one larger range`,
    );
  }
}

function checkServiceSize(bp: Blueprint, c: ClusterSpec, ci: number, sink: IssueSink): void {
  // From 1.34 MultiCIDRServiceAllocator and DisableAllocatorDualWrite are on by default, which lifts the cap.
  if (kubernetesMinor(bp.versions.kubernetes) >= 34) return;
  c.network.serviceSubnets.forEach((text, i) => {
    const r = parseCidr(text).value;
    if (!r) return;
    const minPrefix = bitsOf(r.family) - SERVICE_CIDR_MAX_HOST_BITS;
    if (r.prefix < minPrefix) {
      sink.error(
        ['clusters', ci, 'network', 'serviceSubnets', i],
        `service subnet ${text} is too large: kube-apiserver refuses a --service-cluster-ip-range wider than /${minPrefix} ` +
          `for IPv${r.family} ("the mask must be >= ${minPrefix}"); use /${minPrefix} or smaller (the seed uses /16)`,
      );
    }
  });
}

function checkPodRoom(c: ClusterSpec, ci: number, sink: IssueSink): void {
  const masks = c.network.nodeCidrMaskSize;
  c.network.podSubnets.forEach((text, i) => {
    const r = parseCidr(text).value;
    if (!r) return;
    const mask = r.family === 4 ? masks.ipv4 : masks.ipv6;
    const maskPath: IssuePath = ['clusters', ci, 'network', 'nodeCidrMaskSize', r.family === 4 ? 'ipv4' : 'ipv6'];
    const path: IssuePath = ['clusters', ci, 'network', 'podSubnets', i];
    if (mask < r.prefix) {
      sink.error(
        path,
        `pod subnet ${text} is smaller than one node's pod range (/${mask}, network.nodeCidrMaskSize.ipv${r.family}): ` +
          `kube-controller-manager cannot carve a single node range out of it and no pod gets an address; use a /${mask} or larger pod subnet, or a longer mask`,
      );
      return;
    }
    if (r.family === 6 && mask - r.prefix > CLUSTER_SUBNET_MAX_DIFF) {
      sink.error(
        path,
        `pod subnet ${text} with per-node /${mask} ranges: kube-controller-manager allows at most ${CLUSTER_SUBNET_MAX_DIFF} bits between the two (clusterSubnetMaxDiff); ` +
          `use a /${mask - CLUSTER_SUBNET_MAX_DIFF} or longer pod subnet, or a shorter node mask`,
      );
      return;
    }
    const ranges = 2 ** (mask - r.prefix);
    if (ranges < c.nodes.length) {
      sink.error(
        path,
        `pod subnet ${text} holds ${ranges} per-node /${mask} range(s) but ${c.name} has ${c.nodes.length} nodes: the others get no pod range; use a larger pod subnet or a longer mask`,
      );
    }
    if (r.family === 4 && 2 ** (32 - mask) - 2 < KUBELET_DEFAULT_MAX_PODS) {
      sink.warn(
        maskPath,
        `a /${mask} per node holds ${2 ** (32 - mask) - 2} pod addresses, fewer than kubelet's default maxPods (${KUBELET_DEFAULT_MAX_PODS}): pods beyond that stay ContainerCreating; use /25 or shorter`,
      );
    }
  });
}

export function checkKubernetesRanges(bp: Blueprint, sink: IssueSink): void {
  bp.clusters.forEach((c, ci) => {
    checkDualStackList(c, ci, 'podSubnets', sink);
    checkDualStackList(c, ci, 'serviceSubnets', sink);
    checkServiceSize(bp, c, ci, sink);
    checkPodRoom(c, ci, sink);
  });
}
