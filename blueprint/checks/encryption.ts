// Clusters in different regions talk over the public internet: WireGuard stays on unless someone signs a
// visible waiver (it is repeated as a warning on every validate and plan).
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';

export function checkEncryption(bp: Blueprint, sink: IssueSink): void {
  const regions = [...new Set(bp.clusters.map((c) => c.region))];
  const waiver = bp.mesh.waivers.unencryptedCrossRegion;
  if (bp.mesh.encryption === 'none' && regions.length > 1) {
    if (waiver) {
      sink.warn(['mesh', 'waivers', 'unencryptedCrossRegion'], `WAIVED: traffic between regions ${regions.join(', ')} is NOT encrypted: ${waiver}`);
    } else {
      sink.error(
        ['mesh', 'encryption'],
        `clusters span regions ${regions.join(', ')} but encryption is none: cross-region traffic would cross the WAN in clear text; ` +
          `set mesh.encryption: wireguard, or waive it visibly with mesh.waivers.unencryptedCrossRegion: "<reason>"`,
      );
    }
  } else if (waiver && bp.mesh.encryption !== 'none') {
    sink.warn(['mesh', 'waivers', 'unencryptedCrossRegion'], 'waiver unused: encryption is on; remove it');
  }
}
