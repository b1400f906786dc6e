// `meshpilot backup list|prune MESH`: the worker holds the secret store, so reading and pruning it runs there, as
// one small workflow each. Only metadata crosses history (ids, sha256, sizes, members), never a snapshot.
import type { PruneOutcome, RetentionPolicy, SnapshotMeta } from '../contracts/backup.ts';
import { act, quick } from './activities.ts';

export async function backupCatalog(input: { mesh: string; cluster?: string }): Promise<SnapshotMeta[]> {
  return act(quick.listEtcdSnapshots, `list the stored etcd snapshots of ${input.mesh}${input.cluster ? `/${input.cluster}` : ''}`, input);
}

/** Applies a retention policy to every cluster of the mesh that has snapshots (or one); `dryRun` only says what would go. */
export async function backupPrune(input: { mesh: string; cluster?: string; retention: RetentionPolicy; dryRun?: boolean }): Promise<PruneOutcome[]> {
  const all = await act(quick.listEtcdSnapshots, `list the stored etcd snapshots of ${input.mesh}`, { mesh: input.mesh, ...(input.cluster ? { cluster: input.cluster } : {}) });
  const clusters = [...new Set(all.map((s) => s.cluster))].sort();
  const nowMs = Date.now();
  return Promise.all(
    clusters.map((cluster) =>
      act(quick.pruneEtcdSnapshots, `${cluster}: ${input.dryRun ? 'what retention would remove' : 'prune snapshots past the retention policy'}`, {
        mesh: input.mesh,
        cluster,
        retention: input.retention,
        nowMs,
        ...(input.dryRun ? { dryRun: true } : {}),
      }),
    ),
  );
}
