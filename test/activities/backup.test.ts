// The backup adapters against the lab's talosctl (processes, no mocks): the snapshot source is picked read-only, a
// snapshot is stored encrypted once per id (a retried activity takes nothing twice), prune is idempotent, and the
// failures are classified (no healthy control plane: blocked; no talosconfig: fatal).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLab, type FleetSpec } from '../../lab/fleet.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { withLabState } from '../../lab/state.ts';
import { EncryptedFileSecretStore } from '../../secrets/encrypted-file-store.ts';
import { secretRefs, type ActivityDeps } from '../../activities/deps.ts';
import { FailureType, blockedDetailsOf } from '../../contracts/failures.ts';
import { applyMachineConfig, bootstrapEtcd, ensureTalosSecrets, genMachineConfigs, waitNodeRunning } from '../../activities/talos.ts';
import { listEtcdSnapshots, pickSnapshotSource, pruneEtcdSnapshots, takeEtcdSnapshot } from '../../activities/backup.ts';
import { retrieveSnapshot } from '../../activities/backup/snapshot-store.ts';
import { failureOf } from '../helpers/failures.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const MESH = 'usa-europe';
const CPS = [
  { name: 'usa-cp-1', address: '10.30.0.11' },
  { name: 'usa-cp-2', address: '10.30.0.12' },
];
const fleet: FleetSpec = {
  clusters: [{ name: 'cluster-usa', endpoint: 'https://10.30.0.10:6443', nodes: CPS.map((n) => ({ ...n, site: 'usa', role: 'controlplane' as const, installDisk: '/dev/sda' })) }],
  siteRttMs: {},
};

describe('backup adapters on the lab', () => {
  let work: string;
  let labDir: string;
  let deps: ActivityDeps;
  const snapshotCalls = () => callsMatching(readCalls(labDir), 'talosctl', ['etcd', 'snapshot']).length;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'backup-adapters-'));
    labDir = path.join(work, 'lab');
    createLab(labDir, fleet, { scenario: 'happy' });
    deps = {
      tools: { env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work }, cwd: work },
      secrets: new EncryptedFileSecretStore(path.join(work, 'secrets'), randomBytes(32)),
      workDir: work,
      etcdMetricsUrl: (a, p) => `http://${a}:${p}/metrics`,
      pollBudgetMs: 6_000,
    };
    await ensureTalosSecrets(deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.5' });
    const patches = { all: '', controlplane: '', worker: '' };
    await genMachineConfigs(deps, { mesh: MESH, cluster: 'cluster-usa', endpoint: '10.30.0.10', talosVersion: 'v1.9.5', kubernetesVersion: '1.31.4', installDisk: '/dev/sda', patches });
    const talosconfigRef = secretRefs.talosconfig(MESH, 'cluster-usa');
    for (const n of CPS) await applyMachineConfig(deps, { address: n.address, nodeName: n.name, configRef: secretRefs.machineConfig(MESH, 'cluster-usa', 'controlplane') });
    for (const n of CPS) await waitNodeRunning(deps, { address: n.address, nodeName: n.name, talosconfigRef });
    await bootstrapEtcd(deps, { cluster: 'cluster-usa', address: CPS[0]!.address, talosconfigRef });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('pickSnapshotSource skips an unreachable control plane; none healthy is blocked with each one named', async () => {
    await withLabState(labDir, (s) => {
      s.faults.unreachableNodes = [CPS[0]!.address];
    });
    const picked = await pickSnapshotSource(deps, { mesh: MESH, cluster: 'cluster-usa', controlPlanes: CPS });
    assert.equal(picked.node.name, 'usa-cp-2');
    assert.deepEqual(picked.members.map((m) => m.hostname).sort(), ['usa-cp-1', 'usa-cp-2']);

    await withLabState(labDir, (s) => {
      s.faults.unreachableNodes = CPS.map((n) => n.address);
    });
    const err = await failureOf(pickSnapshotSource(deps, { mesh: MESH, cluster: 'cluster-usa', controlPlanes: CPS }));
    const details = blockedDetailsOf(err);
    assert.match(details?.reason ?? '', /^no healthy control plane in cluster-usa: none of usa-cp-1, usa-cp-2/);
    assert.match(String(details?.evidence?.['usa-cp-1']), /^unreachable: /);
    await withLabState(labDir, (s) => {
      s.faults.unreachableNodes = [];
    });

    const none = await failureOf(pickSnapshotSource(deps, { mesh: 'other', cluster: 'cluster-usa', controlPlanes: CPS }));
    assert.equal(none.type, FailureType.fatal);
    assert.match(none.message, /holds no talosconfig for cluster-usa in mesh other/);
  });

  test('takeEtcdSnapshot stores once per id (a retry takes nothing twice); nothing in clear in the store', async () => {
    const input = { mesh: MESH, cluster: 'cluster-usa', id: '20261130-120000-aaaaaaaaaa', node: CPS[0]!, members: [], takenAt: '2026-11-30T12:00:00.000Z', workflowId: 'wf' };
    const before = snapshotCalls();
    const first = await takeEtcdSnapshot(deps, input);
    const second = await takeEtcdSnapshot(deps, input);
    assert.deepEqual(second, first);
    assert.equal(snapshotCalls() - before, 1, 'one talosctl etcd snapshot for two attempts');
    assert.equal(first.sizeBytes % 512, 32);
    const { file } = await retrieveSnapshot(deps.secrets, MESH, 'cluster-usa', first.id);
    assert.equal(file.length, first.sizeBytes);
    const storeDir = path.join(work, 'secrets', 'backup');
    for (const f of readdirSync(storeDir, { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.enc'))) {
      assert.equal(readFileSync(path.join(storeDir, f)).includes(Buffer.from('meshpilot-lab etcd snapshot')), false, f);
    }
    assert.equal(readdirSync(work).some((f) => f.includes('snapshot')), false, 'no snapshot file left in the work dir');
  });

  test('prune keeps the policy and is idempotent', async () => {
    for (const [i, t] of ['2026-11-28T12:00:00.000Z', '2026-11-29T12:00:00.000Z'].entries()) {
      await takeEtcdSnapshot(deps, { mesh: MESH, cluster: 'cluster-usa', id: `2026112${8 + i}-120000-bbbbbbbbb${i}`, node: CPS[1]!, members: [], takenAt: t, workflowId: 'wf' });
    }
    assert.equal((await listEtcdSnapshots(deps, { mesh: MESH })).length, 3);
    const nowMs = Date.parse('2026-11-30T13:00:00Z');
    const out = await pruneEtcdSnapshots(deps, { mesh: MESH, cluster: 'cluster-usa', retention: { keepLast: 2 }, nowMs });
    assert.deepEqual(out, { cluster: 'cluster-usa', deleted: ['20261128-120000-bbbbbbbbb0'], kept: ['20261130-120000-aaaaaaaaaa', '20261129-120000-bbbbbbbbb1'] });
    const again = await pruneEtcdSnapshots(deps, { mesh: MESH, cluster: 'cluster-usa', retention: { keepLast: 2 }, nowMs });
    assert.deepEqual(again.deleted, []);
    const byAge = await pruneEtcdSnapshots(deps, { mesh: MESH, cluster: 'cluster-usa', retention: { maxAgeMs: 3_600_000 }, nowMs });
    assert.deepEqual(byAge.kept, ['20261130-120000-aaaaaaaaaa'], 'the newest stays even past max-age');
  });
});
