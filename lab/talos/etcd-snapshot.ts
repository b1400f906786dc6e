import { createHash } from 'node:crypto';
import type { LabCluster } from '../state.ts';
import { k8sLab } from '../kube/store.ts';

/**
 * The lab's etcd snapshot file: what `talosctl etcd snapshot` writes and `talosctl bootstrap --recover-from` reads.
 *
 * A real snapshot is etcd's bbolt database followed by the sha256 of it (etcd server/etcdserver/api/v3rpc/
 * maintenance.go Snapshot appends the digest; the database is a whole number of 4 KiB pages), which is why
 * talosctl checks `size % 512 == sha256.Size` before it keeps the file (siderolabs/talos@v1.9.5
 * cmd/talosctl/cmd/talos/etcd.go etcdSnapshotCmd). The lab keeps that outer shape — a body padded to whole 4 KiB
 * pages, then its sha256 — so meshpilot's integrity check reads lab and real snapshots alike. The body is the
 * simulated cluster's etcd contents: every Kubernetes object the lab's apiserver holds (`cluster.kube`, keyed like
 * the real `/registry/...` layout) and the Helm releases (`cluster.helm`; Helm 3 keeps them in Secrets, i.e. in etcd).
 */
const MAGIC = 'meshpilot-lab etcd snapshot v1\n';
const PAGE = 4096;

export interface LabSnapshotBody {
  cluster: string;
  /** etcd's revision: the lab apiserver's resourceVersion counter */
  revision: number;
  kube: Record<string, unknown>;
  helm: Record<string, unknown>;
}

/** etcd's key for a lab object key `apiVersion|kind|namespace|name` (the apiserver's storage layout, approximately). */
export const registryKey = (objKey: string): string => {
  const [, kind = '', ns = '', name = ''] = objKey.split('|');
  return `/registry/${kind.toLowerCase()}s/${ns ? `${ns}/` : ''}${name}`;
};

export function snapshotOf(cluster: LabCluster): Buffer {
  const body: LabSnapshotBody = { cluster: cluster.name, revision: k8sLab(cluster).rv, kube: cluster.kube, helm: cluster.helm };
  const text = Buffer.from(`${MAGIC}${JSON.stringify(body)}\n`);
  const padded = Buffer.alloc(Math.ceil(text.length / PAGE) * PAGE, 0x20);
  text.copy(padded);
  return Buffer.concat([padded, createHash('sha256').update(padded).digest()]);
}

export interface LabSnapshotStatus {
  /** `%08x` in talosctl's output: etcd hashes the database with CRC-32C (etcdutl/snapshot/v3_snapshot.go Status) */
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

export class SnapshotFileError extends Error {}

/** Reads a snapshot file: its body and status; `hashOk` false when the trailing sha256 does not match. */
export function readSnapshot(file: Buffer): { body: LabSnapshotBody; status: LabSnapshotStatus; hashOk: boolean } {
  if (file.length < 32 || file.length % 512 !== 32) throw new SnapshotFileError('invalid database');
  const db = file.subarray(0, file.length - 32);
  const hashOk = createHash('sha256').update(db).digest().equals(file.subarray(file.length - 32));
  const text = db.toString('utf8');
  if (!text.startsWith(MAGIC)) throw new SnapshotFileError('invalid database');
  let body: LabSnapshotBody;
  try {
    body = JSON.parse(text.slice(MAGIC.length).trimEnd()) as LabSnapshotBody;
  } catch {
    throw new SnapshotFileError('invalid database');
  }
  const totalKey = Object.keys(body.kube).length + Object.keys(body.helm).length;
  return { body, status: { hash: crc32c(db), revision: body.revision, totalKey, totalSize: db.length }, hashOk };
}

/** talosctl's line after the snapshot is saved and its status read (etcd.go etcdSnapshotCmd). */
export const snapshotInfoLine = (s: LabSnapshotStatus) =>
  `snapshot info: hash ${s.hash.toString(16).padStart(8, '0')}, revision ${s.revision}, total keys ${s.totalKey}, total size ${s.totalSize}\n`;

let table: Uint32Array | undefined;
function crc32c(buf: Buffer): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const b of buf) crc = table[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
