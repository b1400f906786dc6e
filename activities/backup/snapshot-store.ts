import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SnapshotMeta } from '../../contracts/backup.ts';
import type { SecretStore } from '../../secrets/store.ts';
import { secretRefs } from '../deps.ts';

/**
 * etcd snapshots at rest: the file as talosctl wrote it goes into the secret store (AES-256-GCM, the reference
 * bound as associated data), and beside it the facts meshpilot recorded (`<id>.meta`, also encrypted: member
 * names and addresses are nobody's business). The meta is written last: it is the commit mark, so a crash between
 * the two leaves an unlisted blob that the next attempt of the same backup overwrites, never a listed snapshot
 * without its data. Reading back checks the sha256 recorded when it was taken.
 */

const memberSchema = z.object({ id: z.string(), hostname: z.string(), peerUrls: z.array(z.string()) });
export const snapshotMetaSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  mesh: z.string(),
  cluster: z.string(),
  ref: z.string(),
  takenAt: z.string(),
  node: z.object({ name: z.string(), address: z.string() }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  sizeBytes: z.number().int().nonnegative(),
  etcd: z.object({ hash: z.string(), revision: z.number(), totalKeys: z.number(), totalSize: z.number() }),
  members: z.array(memberSchema),
  workflowId: z.string(),
}) satisfies z.ZodType<SnapshotMeta>;

export class SnapshotIntegrityError extends Error {
  override name = 'SnapshotIntegrityError';
}

export const sha256Hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * The shape every etcd snapshot has (etcd's maintenance Snapshot appends the sha256 of the database, which is whole
 * pages): `size % 512 == 32` and a matching digest. talosctl checks the first (cmd/talosctl/cmd/talos/etcd.go),
 * `etcdutl snapshot restore` the second; meshpilot checks both before it stores a file, so it never keeps one
 * that restore would refuse.
 */
export function checkSnapshotFile(file: Buffer): void {
  if (file.length < 32 || file.length % 512 !== 32) throw new SnapshotIntegrityError(`not an etcd snapshot: ${file.length} bytes, expected a database of whole pages plus its 32-byte sha256`);
  const db = file.subarray(0, file.length - 32);
  if (!createHash('sha256').update(db).digest().equals(file.subarray(file.length - 32))) throw new SnapshotIntegrityError("the snapshot's trailing sha256 does not match its database (truncated or corrupted stream)");
}

export async function storeSnapshot(store: SecretStore, meta: SnapshotMeta, file: Buffer): Promise<void> {
  if (sha256Hex(file) !== meta.sha256 || file.length !== meta.sizeBytes) throw new SnapshotIntegrityError(`snapshot ${meta.id}: the bytes do not match the recorded sha256/size`);
  await store.put(meta.ref, file);
  await store.put(secretRefs.etcdSnapshotMeta(meta.mesh, meta.cluster, meta.id), JSON.stringify(snapshotMetaSchema.parse(meta)));
}

export async function snapshotMeta(store: SecretStore, mesh: string, cluster: string, id: string): Promise<SnapshotMeta | undefined> {
  const ref = secretRefs.etcdSnapshotMeta(mesh, cluster, id);
  if (!(await store.has(ref))) return undefined;
  return snapshotMetaSchema.parse(JSON.parse((await store.get(ref)).toString('utf8')));
}

/** Every committed snapshot of a mesh (or one cluster of it), newest first. */
export async function listSnapshots(store: SecretStore, mesh: string, cluster?: string): Promise<SnapshotMeta[]> {
  const refs = (await store.list(secretRefs.etcdSnapshots(mesh, cluster))).filter((r) => r.endsWith('.meta'));
  const metas = await Promise.all(refs.map(async (r) => snapshotMetaSchema.parse(JSON.parse((await store.get(r)).toString('utf8')))));
  return metas.sort((a, b) => a.cluster.localeCompare(b.cluster) || b.takenAt.localeCompare(a.takenAt) || b.id.localeCompare(a.id));
}

/** The snapshot's bytes, decrypted in memory and checked against the recorded sha256 and size. */
export async function retrieveSnapshot(store: SecretStore, mesh: string, cluster: string, id: string): Promise<{ meta: SnapshotMeta; file: Buffer }> {
  const meta = await snapshotMeta(store, mesh, cluster, id);
  if (!meta) throw new SnapshotIntegrityError(`no snapshot ${id} of ${mesh}/${cluster}`);
  const file = await store.get(meta.ref);
  if (file.length !== meta.sizeBytes || sha256Hex(file) !== meta.sha256) {
    throw new SnapshotIntegrityError(`snapshot ${id} of ${mesh}/${cluster}: stored bytes (${file.length}, sha256 ${sha256Hex(file).slice(0, 12)}…) differ from what was recorded (${meta.sizeBytes}, ${meta.sha256.slice(0, 12)}…)`);
  }
  return { meta, file };
}

/** Meta first (it disappears from the list at once), then the data. */
export async function deleteSnapshot(store: SecretStore, meta: Pick<SnapshotMeta, 'mesh' | 'cluster' | 'id' | 'ref'>): Promise<void> {
  await store.delete(secretRefs.etcdSnapshotMeta(meta.mesh, meta.cluster, meta.id));
  await store.delete(meta.ref);
}
