// Where the control plane may live (the Golden Rule: never across a WAN), how many members etcd gets,
// who can announce the L2 pool, and what each boot provider needs.
import type { Blueprint, ClusterSpec } from '../schema.ts';
import type { IssueSink, IssuePath } from '../issues.ts';
import { EXCLUDE_LB_LABEL, l2Announcers, poolIntervals, poolSubnets } from '../announcers.ts';
import { contains, formatInterval, parseAddress, parseCidr, reservedIn } from '../net.ts';
import { talosAtLeast } from './versions.ts';

function checkControlPlane(c: ClusterSpec, ci: number, sink: IssueSink): void {
  const base: IssuePath = ['clusters', ci];
  const cps = c.nodes.map((n, ni) => ({ n, ni })).filter(({ n }) => n.role === 'controlplane');
  if (cps.length === 0) {
    sink.error([...base, 'nodes'], `${c.name} has no controlplane node: add at least one (three for HA)`);
    return;
  }
  for (const { n, ni } of cps) {
    const site = n.site ?? c.site;
    if (site !== c.site) {
      sink.error(
        [...base, 'nodes', ni, 'site'],
        `control-plane node ${n.name} is at site ${site} but ${c.name}'s control plane is at ${c.site}: ` +
          `etcd needs all members in one site (the Golden Rule: never stretch a control plane across a WAN); ` +
          `build a separate cluster at ${site} and join it to the mesh`,
      );
    }
  }
  if (cps.length === 1) {
    sink.warn([...base, 'nodes'], `${c.name} has a single control-plane node: losing it loses the cluster; use 3 for HA`);
  } else if (cps.length % 2 === 0) {
    const waiver = c.waivers.evenControlPlaneCount;
    if (waiver) {
      sink.warn([...base, 'waivers', 'evenControlPlaneCount'], `WAIVED: ${c.name} runs ${cps.length} control-plane nodes (an even etcd membership tolerates no more failures than ${cps.length - 1}): ${waiver}`);
    } else {
      sink.error(
        [...base, 'nodes'],
        `${c.name} has ${cps.length} control-plane nodes: an even count tolerates no more failures than ${cps.length - 1} and risks a split vote; ` +
          `use ${cps.length - 1} or ${cps.length + 1}, or acknowledge with clusters[${ci}].waivers.evenControlPlaneCount: "<reason>"`,
      );
    }
  }
  c.nodes.forEach((n, ni) => {
    if (n.role === 'worker' && n.site && n.site !== c.site) {
      sink.warn([...base, 'nodes', ni, 'site'], `worker ${n.name} is at site ${n.site}, away from ${c.name}'s control plane at ${c.site}: its kubelet talks to the API across the WAN`);
    }
  });
}

function checkLoadBalancer(bp: Blueprint, c: ClusterSpec, ci: number, sink: IssueSink): void {
  const lb = c.loadBalancer;
  const base: IssuePath = ['clusters', ci, 'loadBalancer'];
  const pinned = c.clustermesh.apiserverIP;
  if (pinned) {
    const ip = parseAddress(pinned).value;
    if (ip && !poolIntervals(c).some((b) => contains(b, ip))) {
      sink.error(['clusters', ci, 'clustermesh', 'apiserverIP'], `apiserverIP ${pinned} is not in ${c.name}'s LB pool (${poolIntervals(c).map(formatInterval).join(', ')}): LB-IPAM can only assign it from the pool`);
    } else if (ip && lb.mode === 'l2') {
      for (const text of c.network.nodeSubnets) {
        const subnet = parseCidr(text).value;
        const reserved = subnet && reservedIn(subnet, ip);
        if (reserved) sink.error(['clusters', ci, 'clustermesh', 'apiserverIP'], `apiserverIP ${pinned} is ${reserved}: an ARP-announced address must be a host address; pick another one in the pool`);
      }
    }
  } else if (bp.mesh.method === 'helm') {
    sink.error(['clusters', ci, 'clustermesh', 'apiserverIP'], `mesh.method helm lists every peer's apiserver address up front: pin one with clusters[${ci}].clustermesh.apiserverIP (an address in the LB pool), or use mesh.method: cilium-connect`);
  }
  if (lb.mode === 'bgp') {
    if (!lb.bgp) sink.error([...base, 'bgp'], 'mode bgp needs bgp.localASN and bgp.peers');
    if (lb.interfaces.length) sink.warn([...base, 'interfaces'], 'interfaces only apply to L2 announcements; ignored in bgp mode');
    return;
  }
  if (lb.bgp) sink.warn([...base, 'bgp'], 'bgp settings are ignored in l2 mode');
  const subnets = poolSubnets(c);
  poolIntervals(c).forEach((block, i) => {
    if (block.family === 6) {
      sink.error([...base, 'pool', i], `L2 announcements are IPv4 (ARP) only in Cilium 1.16: use an IPv4 block or mode: bgp`);
    } else if (!subnets[i]) {
      sink.error(
        [...base, 'pool', i],
        `pool block ${formatInterval(block)} is in none of ${c.name}'s nodeSubnets (${c.network.nodeSubnets.join(', ')}): ` +
          `L2 announcements cannot cross subnets; pick addresses from the subnet the nodes sit in, or use mode: bgp`,
      );
    }
  });
  subnets.forEach((s, i) => {
    if (s && !c.nodes.some((n) => { const a = parseAddress(n.address).value; return a && contains(s, a); })) {
      sink.error([...base, 'pool', i], `no node of ${c.name} sits in ${formatInterval(s)}, the subnet holding this pool block: nobody can answer ARP for it`);
    }
  });
  const who = l2Announcers(c);
  if (who.liftControlPlaneExclusion) {
    if (talosAtLeast(bp.versions.talos, 1, 12)) {
      sink.error(base, `only control-plane nodes sit in the pool's subnet, and on Talos >= 1.12 the patch that removes ${EXCLUDE_LB_LABEL} no longer works: add a worker in that subnet`);
    } else {
      sink.warn(base, `only control-plane nodes sit in the pool's subnet; Talos >= 1.8 labels them ${EXCLUDE_LB_LABEL}, so nothing would announce the pool: the plan's Talos control-plane patch removes that label`);
    }
  }
}

function checkBoot(c: ClusterSpec, ci: number, sink: IssueSink): void {
  if (c.boot.provider !== 'redfish') return;
  if (!c.boot.imageUrl) sink.error(['clusters', ci, 'boot', 'imageUrl'], 'boot provider redfish needs imageUrl (a Talos ISO, e.g. from the Image Factory)');
  c.nodes.forEach((n, ni) => {
    if (!n.bmc) sink.error(['clusters', ci, 'nodes', ni, 'bmc'], `boot provider redfish needs a bmc (endpoint, credentialsRef) for ${n.name}, or set boot.provider: manual`);
  });
}

export function checkTopology(bp: Blueprint, sink: IssueSink): void {
  bp.clusters.forEach((c, ci) => {
    checkControlPlane(c, ci, sink);
    checkLoadBalancer(bp, c, ci, sink);
    checkBoot(c, ci, sink);
  });
}
