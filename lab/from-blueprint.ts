import type { RolloutPlan } from '../blueprint/plan.ts';
import type { FleetSpec } from './fleet.ts';

/** Round trips the lab assumes between sites: same site ~1 ms, same region ~20 ms, across regions ~80 ms. */
export const LAB_RTT_MS = { sameSite: 1, sameRegion: 20, crossRegion: 80 } as const;

/** The simulated fleet a blueprint describes: its clusters, nodes and sites, with a WAN latency matrix. */
export function fleetFromPlan(plan: RolloutPlan): FleetSpec {
  const regionOf = new Map<string, string>();
  for (const c of plan.clusters) {
    regionOf.set(c.site, c.region);
    for (const n of c.nodes) if (!regionOf.has(n.site)) regionOf.set(n.site, c.region);
  }
  const sites = [...regionOf.keys()];
  const siteRttMs: FleetSpec['siteRttMs'] = {};
  for (const a of sites) {
    siteRttMs[a] = {};
    for (const b of sites) {
      siteRttMs[a]![b] = a === b ? LAB_RTT_MS.sameSite : regionOf.get(a) === regionOf.get(b) ? LAB_RTT_MS.sameRegion : LAB_RTT_MS.crossRegion;
    }
  }
  return {
    clusters: plan.clusters.map((c) => ({
      name: c.name,
      id: c.id,
      endpoint: c.endpoint,
      nodes: c.nodes.map((n) => ({ name: n.name, address: n.address, site: n.site, role: n.role, installDisk: n.installDisk })),
    })),
    siteRttMs,
  };
}
