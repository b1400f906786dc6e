// Clusters (and nodes) at different sites talk over links meshpilot cannot vouch for, inside one region as much
// as across an ocean: WireGuard stays on unless someone signs a visible waiver (repeated as a warning on every
// validate and plan). Keyed on sites, so labelling two sites with one region does not switch it off.
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';

export function checkEncryption(bp: Blueprint, sink: IssueSink): void {
  const sites = new Map<string, string>();
  for (const c of bp.clusters) {
    for (const site of [c.site, ...c.nodes.map((n) => n.site ?? c.site)]) {
      if (!sites.has(site)) sites.set(site, c.region);
    }
  }
  const where = [...sites].map(([site, region]) => `${site} (${region})`).join(', ');
  const waiver = bp.mesh.waivers.unencryptedCrossSite;
  if (bp.mesh.encryption === 'none' && sites.size > 1) {
    if (waiver) {
      sink.warn(['mesh', 'waivers', 'unencryptedCrossSite'], `WAIVED: traffic between sites ${where} is NOT encrypted: ${waiver}`);
    } else {
      sink.error(
        ['mesh', 'encryption'],
        `nodes sit at sites ${where} but encryption is none: traffic between sites would cross links between them in clear text; ` +
          `set mesh.encryption: wireguard, or waive it visibly with mesh.waivers.unencryptedCrossSite: "<reason>"`,
      );
    }
  } else if (waiver) {
    sink.warn(
      ['mesh', 'waivers', 'unencryptedCrossSite'],
      bp.mesh.encryption !== 'none' ? 'waiver unused: encryption is on; remove it' : 'waiver unused: every node is at one site; remove it',
    );
  }
}
