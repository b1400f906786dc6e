import type { SnapshotMeta } from '../../contracts/backup.ts';

/**
 * `talosctl etcd snapshot PATH` prints two lines on success (siderolabs/talos@v1.9.5 cmd/talosctl/cmd/talos/etcd.go
 * etcdSnapshotCmd): `etcd snapshot saved to "PATH" (N bytes)` and, from etcdutl's snapshot status,
 * `snapshot info: hash %08x, revision R, total keys K, total size S`.
 */
export function parseSnapshotOutput(stdout: string): { bytes: number; info: SnapshotMeta['etcd'] } | undefined {
  const saved = /^etcd snapshot saved to ".*" \((\d+) bytes\)$/m.exec(stdout);
  const info = /^snapshot info: hash ([0-9a-f]{8}), revision (\d+), total keys (\d+), total size (\d+)$/m.exec(stdout);
  if (!saved || !info) return undefined;
  return { bytes: Number(saved[1]), info: { hash: info[1]!, revision: Number(info[2]), totalKeys: Number(info[3]), totalSize: Number(info[4]) } };
}
