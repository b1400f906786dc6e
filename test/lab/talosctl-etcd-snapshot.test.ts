import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { createLab, type FleetSpec } from '../../lab/fleet.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { TALOS_TIMING } from '../../lab/talos/timing.ts';

// Given a bootstrapped lab cluster holding Kubernetes objects, `talosctl etcd snapshot` writes a file with the real
// snapshot's outer shape (size % 512 == 32, trailing sha256) and prints talosctl 1.9.5's two lines; a fresh,
// never-bootstrapped cluster recovered from it with `talosctl bootstrap --recover-from` holds the same objects.

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const SRC = '10.10.0.11';
const SRC_WK = '10.10.0.21';
const FRESH = '10.20.0.11';
const fleet: FleetSpec = {
  clusters: [
    {
      name: 'usa',
      endpoint: 'https://10.10.0.10:6443',
      nodes: [
        { name: 'usa-cp-1', address: SRC, site: 'usa', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-w-1', address: SRC_WK, site: 'usa', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
    { name: 'drill', endpoint: 'https://10.20.0.10:6443', nodes: [{ name: 'drill-cp-1', address: FRESH, site: 'usa', role: 'controlplane', installDisk: '/dev/sda' }] },
  ],
  siteRttMs: {},
};

describe('lab talosctl: etcd snapshot and bootstrap --recover-from', () => {
  let work: string;
  let labDir: string;
  const run = (...args: string[]) =>
    execa('talosctl', args, { cwd: work, reject: false, env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work }, extendEnv: false });
  const secure = (ip: string) => ['-n', ip, '-e', ip, '--talosconfig', path.join(work, 'out', 'talosconfig')];

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'lab-etcd-snapshot-'));
    labDir = path.join(work, 'lab');
    createLab(labDir, fleet, { scenario: 'happy' });
    await run('gen', 'secrets', '-o', 'secrets.yaml');
    await run('gen', 'config', 'usa', 'https://10.10.0.10:6443', '--with-secrets', 'secrets.yaml', '-o', 'out');
    for (const [ip, file] of [[SRC, 'controlplane'], [SRC_WK, 'worker'], [FRESH, 'controlplane']] as const) {
      const r = await run('apply-config', '--insecure', '-n', ip, '-f', `out/${file}.yaml`);
      assert.equal(r.exitCode, 0, r.stderr);
    }
    const age = TALOS_TIMING.installMs + TALOS_TIMING.rebootMs + 50;
    await withLabState(labDir, (s) => {
      for (const n of Object.values(s.nodes)) n.stageSince = Date.now() - age;
    });
    const b = await run('bootstrap', ...secure(SRC));
    assert.equal(b.exitCode, 0, b.stderr);
    // what the source cluster's etcd holds: a ConfigMap and a Helm release
    await withLabState(labDir, (s) => {
      s.clusters.usa!.kube['v1|ConfigMap|default|drill-proof'] = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'drill-proof', namespace: 'default' }, data: { written: 'before the snapshot' } };
      s.clusters.usa!.helm['kube-system/cilium'] = { name: 'cilium', namespace: 'kube-system', revision: 1, status: 'deployed' };
    });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('snapshot: the file, its shape and talosctl 1.9.5 output; worker and not-bootstrapped nodes refuse', async () => {
    const r = await run('etcd', 'snapshot', 'db.snapshot', ...secure(SRC));
    assert.equal(r.exitCode, 0, r.stderr);
    const file = readFileSync(path.join(work, 'db.snapshot'));
    assert.equal(file.length % 512, 32);
    assert.ok(createHash('sha256').update(file.subarray(0, -32)).digest().equals(file.subarray(-32)), 'trailing sha256 of the database');
    assert.equal((statSync(path.join(work, 'db.snapshot')).mode & 0o777).toString(8), '600');
    assert.equal(existsSync(path.join(work, 'db.snapshot.part')), false);
    const [saved, info] = r.stdout.split('\n');
    assert.equal(saved, `etcd snapshot saved to "db.snapshot" (${file.length} bytes)`);
    assert.match(info!, /^snapshot info: hash [0-9a-f]{8}, revision \d+, total keys (\d+), total size (\d+)$/);
    assert.equal(Number(/total size (\d+)/.exec(info!)![1]), file.length - 32);
    assert.ok(Number(/total keys (\d+)/.exec(info!)![1]) >= 2);

    const wk = await run('etcd', 'snapshot', 'w.snapshot', ...secure(SRC_WK));
    assert.equal(wk.exitCode, 1);
    assert.equal(wk.stderr, 'error reading: rpc error: code = Unimplemented desc = etcd snapshot is only available on control plane nodes');
    const fresh = await run('etcd', 'snapshot', 'f.snapshot', ...secure(FRESH));
    assert.equal(fresh.exitCode, 1);
    assert.match(fresh.stderr, /^error reading: rpc error: code = Unknown desc = failed reading etcd snapshot/);
    assert.equal(existsSync(path.join(work, 'f.snapshot')), false);
    const args = await run('etcd', 'snapshot', ...secure(SRC));
    assert.match(args.stderr, /^accepts 1 arg\(s\), received 0/);
  });

  test('recover-from: a fresh cluster gets the data back; a bootstrapped one refuses; a corrupt file is refused', async () => {
    const again = await run('bootstrap', '--recover-from=db.snapshot', ...secure(SRC));
    assert.equal(again.exitCode, 1);
    assert.equal(again.stderr.trim(), 'error executing bootstrap: rpc error: code = AlreadyExists desc = etcd data directory is not empty');

    const corrupt = Buffer.from(readFileSync(path.join(work, 'db.snapshot')));
    corrupt[100] = corrupt[100]! ^ 0xff;
    writeFileSync(path.join(work, 'corrupt.snapshot'), corrupt);
    const bad = await run('bootstrap', '--recover-from', 'corrupt.snapshot', ...secure(FRESH));
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /integrity check failed/);
    assert.equal(readLabState(labDir).clusters.drill!.bootstrappedAt, undefined);
    const missing = await run('bootstrap', '--recover-from', 'nope.snapshot', ...secure(FRESH));
    assert.equal(missing.stderr.trim(), 'stat nope.snapshot: no such file or directory');

    const r = await run('bootstrap', '--recover-from', 'db.snapshot', ...secure(FRESH));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^recovering from snapshot "db.snapshot": hash [0-9a-f]{8}, revision \d+, total keys \d+, total size \d+$/);
    const state = readLabState(labDir);
    assert.deepEqual(state.clusters.drill!.kube, state.clusters.usa!.kube);
    assert.deepEqual(state.clusters.drill!.helm, state.clusters.usa!.helm);
    assert.ok(state.clusters.drill!.bootstrappedAt);
    const members = await run('etcd', 'members', ...secure(FRESH));
    assert.equal(members.exitCode, 0, members.stderr);
  });
});
