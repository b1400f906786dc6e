import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { checkSnapshotFile, listSnapshots, retrieveSnapshot, sha256Hex, storeSnapshot } from '../../activities/backup/snapshot-store.ts';
import { secretRefs } from '../../activities/deps.ts';
import type { SnapshotMeta } from '../../contracts/backup.ts';
import { EncryptedFileSecretStore } from '../../secrets/encrypted-file-store.ts';
import { freePort } from '../helpers/sushy.ts';

// Given a real etcd (Debian's etcd-server and etcdctl, scripts/setup.d/tests/30-etcd.sh) holding keys, a real
// `etcdctl snapshot save` goes through meshpilot's snapshot storage (encrypted at rest, listed, retrieved with its
// sha256 checked); the retrieved file restores with the real `etcdctl snapshot restore`, and an etcd started on
// the restored data directory answers the keys. No mock of etcd anywhere.

interface Etcd {
  client: string;
  stop: () => Promise<void>;
  log: () => string;
}

async function startEtcd(name: string, dataDir: string): Promise<Etcd> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const child: ChildProcess = spawn(
    'etcd',
    [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', url,
      '--advertise-client-urls', url,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `${name}=http://127.0.0.1:${peer}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d) => (log = (log + d).slice(-6000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(t);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await execa('etcdctl', ['--endpoints', url, 'endpoint', 'health'], { reject: false, env: { ETCDCTL_API: '3' } });
    if (r.exitCode === 0) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`etcd ${name} did not become healthy within 60 s\n${log}`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  return { client: url, stop, log: () => log };
}

const etcdctl = (endpoint: string, ...args: string[]) => execa('etcdctl', ['--endpoints', endpoint, ...args], { env: { ETCDCTL_API: '3' } });

describe('real etcd: a snapshot meshpilot stores and retrieves restores with etcdctl', () => {
  let dir: string;
  const running: Etcd[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'meshpilot-backup-etcd-'));
  });
  after(async () => {
    for (const e of running) await e.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('save → store encrypted → list → retrieve (sha256 checked) → restore → the keys come back', async () => {
    const source = await startEtcd('source', path.join(dir, 'source'));
    running.push(source);
    const keys: Record<string, string> = {};
    for (let i = 0; i < 25; i++) keys[`/registry/configmaps/default/cm-${i}`] = `value-${i}-${randomBytes(6).toString('hex')}`;
    for (const [k, v] of Object.entries(keys)) await etcdctl(source.client, 'put', k, v);

    const saved = path.join(dir, 'saved.db');
    await etcdctl(source.client, 'snapshot', 'save', saved);
    const file = await readFile(saved);
    checkSnapshotFile(file); // the shape talosctl and etcdctl check: whole pages plus the trailing sha256

    const storeDir = path.join(dir, 'store');
    const store = new EncryptedFileSecretStore(storeDir, randomBytes(32));
    const id = '20261130-234500-abcdef12';
    const meta: SnapshotMeta = {
      id,
      mesh: 'usa-europe',
      cluster: 'cluster-usa',
      ref: secretRefs.etcdSnapshot('usa-europe', 'cluster-usa', id),
      takenAt: new Date().toISOString(),
      node: { name: 'source', address: '127.0.0.1' },
      sha256: sha256Hex(file),
      sizeBytes: file.length,
      etcd: { hash: '00000000', revision: 26, totalKeys: 25, totalSize: file.length - 32 },
      members: [],
      workflowId: 'test',
    };
    await storeSnapshot(store, meta, file);
    await rm(saved);

    // at rest: no stored file holds a value in clear
    const stored = (await readdir(storeDir, { recursive: true })).filter((f) => f.endsWith('.enc'));
    assert.equal(stored.length, 2);
    for (const f of stored) {
      const raw = await readFile(path.join(storeDir, f));
      for (const v of Object.values(keys).slice(0, 5)) assert.equal(raw.includes(Buffer.from(v)), false, `${f} holds ${v} in clear`);
      assert.equal(raw.includes(Buffer.from('/registry/configmaps')), false);
    }

    const listed = await listSnapshots(store, 'usa-europe');
    assert.deepEqual(listed.map((m) => m.id), [id]);
    const back = await retrieveSnapshot(store, 'usa-europe', 'cluster-usa', id);
    assert.equal(back.meta.sha256, meta.sha256);
    assert.ok(back.file.equals(file));

    const restoredFile = path.join(dir, 'restore-in.db');
    await writeFile(restoredFile, back.file);
    const restoredDir = path.join(dir, 'restored');
    const peer = `http://127.0.0.1:${await freePort()}`;
    const restore = await execa(
      'etcdctl',
      ['snapshot', 'restore', restoredFile, '--name', 'restored', '--data-dir', restoredDir, '--initial-cluster', `restored=${peer}`, '--initial-advertise-peer-urls', peer],
      { env: { ETCDCTL_API: '3' }, reject: false },
    );
    assert.equal(restore.exitCode, 0, restore.stderr);
    assert.ok(existsSync(path.join(restoredDir, 'member', 'snap', 'db')));
    await source.stop();

    // the restored member's peer URL was fixed at restore time: start it there
    const restored = await startRestored(restoredDir, peer);
    running.push(restored);
    for (const [k, v] of Object.entries(keys)) {
      const r = await etcdctl(restored.client, 'get', k, '--print-value-only');
      assert.equal(r.stdout.trim(), v, `${k} after restore\n${restored.log()}`);
    }
    const listedKeys = await etcdctl(restored.client, 'get', '/registry/', '--prefix', '--keys-only');
    assert.deepEqual(listedKeys.stdout.split('\n').filter(Boolean).sort(), Object.keys(keys).sort());

    // a tampered store entry is refused on retrieval, before any restore could see it
    const tampered = Buffer.from(file);
    tampered[4096] = tampered[4096]! ^ 0xff;
    await store.put(meta.ref, tampered);
    await assert.rejects(retrieveSnapshot(store, 'usa-europe', 'cluster-usa', id), /differ from what was recorded/);
    assert.throws(() => checkSnapshotFile(tampered), /trailing sha256 does not match/);
  });
});

async function startRestored(dataDir: string, peer: string): Promise<Etcd> {
  const client = await freePort();
  const url = `http://127.0.0.1:${client}`;
  const child = spawn('etcd', ['--name', 'restored', '--data-dir', dataDir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer, '--logger', 'zap', '--log-outputs', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d) => (log = (log + d).slice(-6000)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await execa('etcdctl', ['--endpoints', url, 'endpoint', 'health'], { reject: false, env: { ETCDCTL_API: '3' } });
    if (r.exitCode === 0) return { client: url, stop, log: () => log };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`restored etcd did not become healthy\n${log}`);
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}
