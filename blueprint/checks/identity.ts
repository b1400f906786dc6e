// Cluster identity as ClusterMesh needs it: unique names and IDs, IDs inside maxConnectedClusters
// (identical on every cluster: it is one mesh-wide field here, so it cannot differ).
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';

export function checkIdentity(bp: Blueprint, sink: IssueSink): void {
  const max = bp.mesh.maxConnectedClusters;
  const byId = new Map<number, string>();
  const byName = new Set<string>();
  bp.clusters.forEach((c, ci) => {
    if (c.id > max) {
      sink.error(
        ['clusters', ci, 'id'],
        `cluster ID ${c.id} is outside 1..${max}: IDs above 255 need mesh.maxConnectedClusters: 511 (set before the first install; it cannot change later)`,
      );
    }
    const other = byId.get(c.id);
    if (other) sink.error(['clusters', ci, 'id'], `cluster ID ${c.id} is already used by ${other}: give every cluster a unique ID`);
    byId.set(c.id, c.name);
    if (byName.has(c.name)) sink.error(['clusters', ci, 'name'], `cluster name ${c.name} is used twice: names must be unique`);
    byName.add(c.name);
    const nodeNames = new Set<string>();
    c.nodes.forEach((n, ni) => {
      if (nodeNames.has(n.name)) sink.error(['clusters', ci, 'nodes', ni, 'name'], `node name ${n.name} is used twice in ${c.name}`);
      nodeNames.add(n.name);
    });
  });
}
