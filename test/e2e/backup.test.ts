// Given the seed's mesh rolled out on the lab: `backup now` stores an encrypted etcd snapshot whose plaintext is in
// neither the history nor the data dir; a scheduled backup runs when its Schedule is triggered; retention keeps the
// policy; a cluster with no healthy control plane pauses the backup (one notification), and resume finishes it; a
// restore drill puts a stored snapshot onto a fresh node and the restored etcd holds the cluster's objects.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { retrieveSnapshot } from '../../activities/backup/snapshot-store.ts';
import { backupResult, deleteBackupSchedules, listBackups, listBackupSchedules, pruneBackups, startBackups, triggerBackupSchedules, upsertBackupSchedules } from '../../client/backup.ts';
import { restoreDrillResult, startRestoreDrill } from '../../client/restore-drill.ts';
import { abortRollout, actOnStep } from '../../client/rollouts.ts';
import type { BackupResult } from '../../contracts/backup.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { webhookPayloadSchema, type WebhookPayload } from '../../notify/webhook.ts';
import { runCli } from '../helpers/cli.ts';
import { historyText } from '../helpers/history.ts';
import { SEED_BLUEPRINT, startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

const tester = { by: 'tester', via: 'test' };
const LAB_SNAPSHOT_MAGIC = 'meshpilot-lab etcd snapshot v1';

/** Every regular file under dir (recursively). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

describe('etcd backups of a rolled-out mesh', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let hook: Server;
  const posts: WebhookPayload[] = [];

  const backupNow = async (cluster: string, opts: { keepLast?: number; notify?: boolean } = {}) => {
    const [started] = await startBackups(env.client, {
      plan: lab.plan,
      cluster,
      retention: { keepLast: opts.keepLast ?? 10 },
      by: tester,
      taskQueue: lab.taskQueue,
      ...(opts.notify ? { notify: { webhook: { urlRef: 'notify/backup-webhook' } } } : {}),
    });
    assert.equal(started!.started, true);
    return started!.workflowId;
  };
  const finished = async (workflowId: string): Promise<BackupResult> => {
    const view = await waitFor(env.client, workflowId, isFinished, 120_000);
    const result = await backupResult(env.client, workflowId);
    assert.equal(view.state, 'completed', JSON.stringify({ view: view.meshSteps, result }));
    return result;
  };

  before(async () => {
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy' });
    hook = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      posts.push(webhookPayloadSchema.parse(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    await lab.deps.secrets.put('notify/backup-webhook', `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/T0/SECRETPATH`);
    const started = await start(env.client, lab.plan, lab.taskQueue);
    const view = await waitFor(env.client, started.workflowId, isFinished, 240_000);
    assert.equal(view.state, 'completed', 'the happy rollout completes before anything is backed up');
  });
  after(async () => {
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
    await lab?.stop();
    await env?.teardown();
  });

  test('backup now: an encrypted snapshot with its checksum and members; plaintext in neither history nor data dir', async () => {
    const workflowId = await backupNow('cluster-usa', { notify: true });
    const result = await finished(workflowId);
    const s = result.snapshot!;
    assert.ok(s, 'the result names the snapshot');
    assert.equal(s.cluster, 'cluster-usa');
    assert.equal(s.ref, `backup/${lab.plan.mesh}/cluster-usa/${s.id}`);
    assert.match(s.sha256, /^[0-9a-f]{64}$/);
    assert.equal(s.sizeBytes % 512, 32);
    assert.deepEqual(s.members.map((m) => m.hostname).sort(), ['usa-cp-1', 'usa-cp-2', 'usa-cp-3']);
    assert.equal(s.node.name, 'usa-cp-1', 'the first healthy control plane in blueprint order');
    assert.ok(s.etcd.totalKeys > 0);
    assert.equal(posts.length, 0, 'a successful backup notifies no one');

    // the stored bytes are the snapshot (sha256 verified on the way out) and carry the cluster's objects
    const { file } = await retrieveSnapshot(lab.deps.secrets, lab.plan.mesh, 'cluster-usa', s.id);
    const plain = file.toString('utf8');
    assert.ok(plain.startsWith(LAB_SNAPSHOT_MAGIC));
    const objectKeys = [...plain.matchAll(/"(v1\|Service\|[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(objectKeys.length > 0, 'the snapshot holds the cluster Services');

    // history: the reference and facts only; no fragment of the snapshot
    const history = historyText(await env.client.workflow.getHandle(workflowId).fetchHistory());
    assert.ok(history.includes(s.ref) && history.includes(s.sha256));
    assert.equal(history.includes(LAB_SNAPSHOT_MAGIC), false, 'the snapshot is not in history');
    for (const chunk of [plain.slice(40, 120), plain.slice(400, 480)]) assert.equal(history.includes(chunk), false, `history holds ${chunk}`);

    // data dir (store, work dir, logs; not the lab's own simulated cluster state): no plaintext snapshot anywhere
    const stored = filesUnder(lab.dataDir).filter((f) => !f.startsWith(lab.labDir));
    assert.ok(stored.some((f) => f.endsWith(`${s.id}.enc`)), 'stored in the secret store');
    for (const f of stored) assert.equal(readFileSync(f).includes(LAB_SNAPSHOT_MAGIC), false, `${f} holds a plaintext snapshot`);
  });

  test('a scheduled backup runs when its Schedule fires (triggered, not waited for)', async () => {
    const created = await upsertBackupSchedules(env.client, { plan: lab.plan, cluster: 'cluster-europe', cadence: { every: '1d' }, retention: { keepLast: 3 }, by: tester, taskQueue: lab.taskQueue });
    assert.deepEqual(created, [{ scheduleId: `backup-${lab.plan.mesh}-cluster-europe`, cluster: 'cluster-europe', created: true, cadence: 'every 1d' }]);
    const again = await upsertBackupSchedules(env.client, { plan: lab.plan, cluster: 'cluster-europe', cadence: { every: '12h' }, retention: { keepLast: 3 }, by: tester, taskQueue: lab.taskQueue });
    assert.equal(again[0]!.created, false, 're-creating updates the schedule in place');
    const views = await listBackupSchedules(env.client, lab.plan.mesh);
    assert.deepEqual(views.map((v) => [v.cluster, v.cadence, v.paused]), [['cluster-europe', 'every 12h', false]]);

    const [run] = await triggerBackupSchedules(env.client, lab.plan.mesh, { cluster: 'cluster-europe' });
    assert.match(run!.workflowId, new RegExp(`^backup-${lab.plan.mesh}-cluster-europe-scheduled-`));
    const result = await finished(run!.workflowId);
    assert.equal(result.snapshot?.cluster, 'cluster-europe');
    const listed = await listBackups(env.client, lab.plan.mesh, { cluster: 'cluster-europe', taskQueue: lab.taskQueue });
    assert.deepEqual(listed.map((m) => m.id), [result.snapshot!.id]);
    assert.deepEqual(await deleteBackupSchedules(env.client, lab.plan.mesh), [`backup-${lab.plan.mesh}-cluster-europe`]);
  });

  test('retention: the workflow keeps its policy, and prune applies another (the newest always stays)', async () => {
    for (let i = 0; i < 2; i++) await finished(await backupNow('cluster-usa'));
    const before = await listBackups(env.client, lab.plan.mesh, { cluster: 'cluster-usa', taskQueue: lab.taskQueue });
    assert.equal(before.length, 3);

    const kept2 = await finished(await backupNow('cluster-usa', { keepLast: 2 }));
    const after2 = await listBackups(env.client, lab.plan.mesh, { cluster: 'cluster-usa', taskQueue: lab.taskQueue });
    assert.deepEqual(after2.map((m) => m.id), kept2.prune!.kept);
    assert.equal(after2.length, 2);
    assert.equal(after2[0]!.id, kept2.snapshot!.id, 'the new snapshot is the newest and stays');
    assert.deepEqual(kept2.prune!.deleted.sort(), before.slice(1).map((m) => m.id).sort());
    for (const id of kept2.prune!.deleted) assert.equal(await lab.deps.secrets.has(`backup/${lab.plan.mesh}/cluster-usa/${id}`), false, `${id} is gone from the store`);

    const dry = await pruneBackups(env.client, lab.plan.mesh, { retention: { keepLast: 1 }, dryRun: true, by: tester, taskQueue: lab.taskQueue });
    const usaDry = dry.find((d) => d.cluster === 'cluster-usa')!;
    assert.deepEqual(usaDry.deleted, [after2[1]!.id]);
    assert.equal((await listBackups(env.client, lab.plan.mesh, { cluster: 'cluster-usa', taskQueue: lab.taskQueue })).length, 2, 'a dry run removes nothing');
    const pruned = await pruneBackups(env.client, lab.plan.mesh, { retention: { keepLast: 1 }, by: tester, taskQueue: lab.taskQueue });
    assert.deepEqual(pruned.find((d) => d.cluster === 'cluster-usa')!.kept, [kept2.snapshot!.id]);
    const again = await pruneBackups(env.client, lab.plan.mesh, { retention: { keepLast: 1 }, by: tester, taskQueue: lab.taskQueue });
    assert.ok(again.every((d) => d.deleted.length === 0), 'prune is idempotent');
  });

  test('no healthy control plane: the backup pauses with the reason and a hint, notifies once, and resume finishes it', async () => {
    const cps = lab.plan.clusters.find((c) => c.name === 'cluster-usa')!.nodes.filter((n) => n.role === 'controlplane').map((n) => n.address);
    await withLabState(lab.labDir, (s) => {
      s.faults.unreachableNodes = cps;
    });
    const workflowId = await backupNow('cluster-usa', { notify: true });
    const paused = await waitFor(env.client, workflowId, isPaused, 120_000);
    assert.equal(paused.blocked!.step, 'backup-target');
    assert.match(paused.blocked!.reason, /^no healthy control plane in cluster-usa/);
    assert.match(paused.blocked!.hint, /talosctl -n ADDRESS service etcd/);
    assert.equal(paused.operation?.kind, 'backup');
    const deadline = Date.now() + 60_000;
    while (posts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(posts.length, 1, 'one notification for the pause');
    assert.match(JSON.stringify(posts[0]), /is paused/);

    await withLabState(lab.labDir, (s) => {
      s.faults.unreachableNodes = [];
    });
    await actOnStep(env.client, workflowId, 'resume', { ...tester, reason: 'control planes back' });
    const result = await finished(workflowId);
    assert.ok(result.snapshot, 'the snapshot was taken after the resume');
    assert.equal(posts.length, 1, 'no notification for the success');
  });

  test('a backup that fails (no talosconfig for the cluster) fails with the hint and notifies once', async () => {
    const other = { ...lab.plan, mesh: 'never-rolled-out' };
    const [started] = await startBackups(env.client, { plan: other, cluster: 'cluster-usa', retention: { keepLast: 3 }, by: tester, taskQueue: lab.taskQueue, notify: { webhook: { urlRef: 'notify/backup-webhook' } } });
    const before = posts.length;
    const view = await waitFor(env.client, started!.workflowId, isFinished, 120_000);
    assert.equal(view.state, 'failed');
    const result = await backupResult(env.client, started!.workflowId);
    assert.match(result.error ?? '', /holds no talosconfig for cluster-usa in mesh never-rolled-out .*meshpilot rollout FILE first/);
    const deadline = Date.now() + 60_000;
    while (posts.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(posts.length, before + 1, 'one notification for the failure');
    assert.match(JSON.stringify(posts.at(-1)), /failed/);
  });

  test('restore drill: a stored snapshot onto a fresh node; the restored etcd holds the objects; a configured node pauses it', async () => {
    const snap = await finished(await backupNow('cluster-europe'));
    const source = snap.snapshot!;
    // two spare nodes: one fresh (maintenance mode), one that is not (it already runs with a config)
    const fresh = { name: 'drill-cp-1', address: '192.168.20.90' };
    const busy = { name: 'drill-cp-2', address: '192.168.20.91' };
    await withLabState(lab.labDir, (s) => {
      for (const [cluster, n, stage] of [['drill-a', fresh, 'maintenance'], ['drill-b', busy, 'running']] as const) {
        s.clusters[cluster] = { name: cluster, endpoint: 'https://192.168.20.89:6443', bootstrapCount: 0, kube: {}, helm: {}, extra: {} };
        s.nodes[n.address] = { ...n, site: 'europe', cluster, role: 'controlplane', installDisk: '/dev/nvme0n1', stage, stageSince: Date.now(), reachable: true, labels: {}, ...(stage === 'running' ? { appliedConfigSha: 'other' } : {}) };
      }
    });

    const guarded = await startRestoreDrill(env.client, { plan: lab.plan, cluster: 'cluster-europe', drillNode: busy, by: tester, taskQueue: lab.taskQueue });
    const paused = await waitFor(env.client, guarded.workflowId, isPaused, 120_000);
    assert.equal(paused.blocked!.step, 'drill-preflight');
    assert.match(paused.blocked!.reason, /already runs Talos with a machine config: a drill never touches a configured node/);
    assert.equal(paused.operation?.kind, 'restore-drill');
    await abortRollout(env.client, guarded.workflowId, { ...tester, reason: 'wrong node' });
    assert.equal((await waitFor(env.client, guarded.workflowId, isFinished, 60_000)).state, 'aborted');
    assert.equal(readLabState(lab.labDir).clusters['drill-b']!.bootstrapCount, 0, 'the configured node was never touched');

    const started = await startRestoreDrill(env.client, { plan: lab.plan, cluster: 'cluster-europe', snapshotId: source.id, drillNode: fresh, by: tester, taskQueue: lab.taskQueue });
    const view = await waitFor(env.client, started.workflowId, isFinished, 180_000);
    const result = await restoreDrillResult(env.client, started.workflowId);
    assert.equal(view.state, 'completed', JSON.stringify({ steps: view.meshSteps, result }));
    assert.equal(result.snapshot!.id, source.id);
    assert.equal(result.proof!.restored.revision, source.etcd.revision);
    assert.equal(result.proof!.restored.totalKeys, source.etcd.totalKeys);
    assert.deepEqual(result.proof!.members.map((m) => m.hostname), ['drill-cp-1']);

    // the data came back: the drill cluster holds exactly the objects and releases the snapshot held
    const { file } = await retrieveSnapshot(lab.deps.secrets, lab.plan.mesh, 'cluster-europe', source.id);
    const body = JSON.parse(file.subarray(0, -32).toString('utf8').slice(LAB_SNAPSHOT_MAGIC.length + 1).trimEnd()) as { kube: Record<string, unknown>; helm: Record<string, unknown> };
    const drill = readLabState(lab.labDir).clusters['drill-a']!;
    assert.deepEqual(Object.keys(drill.kube).sort(), Object.keys(body.kube).sort());
    assert.deepEqual(drill.kube, body.kube);
    assert.ok(Object.keys(body.kube).length > 10 && Object.keys(body.helm).length > 0, 'the snapshot held objects and releases');
    assert.deepEqual(drill.helm, body.helm);
    assert.equal(drill.bootstrapCount, 1);
    const history = historyText(await env.client.workflow.getHandle(started.workflowId).fetchHistory());
    assert.equal(history.includes(LAB_SNAPSHOT_MAGIC), false, 'the snapshot is not in the drill history either');
  });

  test('the CLI: backup now --wait --json, backup list, backup prune, backup schedule create/list/trigger/delete, restore-drill --wait --json', async () => {
    const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: env.address, MESHPILOT_DATA_DIR: lab.dataDir, MESHPILOT_TASK_QUEUE: lab.taskQueue, MESHPILOT_ACTOR: 'carol', NO_COLOR: '1' };
    const cli = (...argv: string[]) => runCli(cliEnv, ...argv);
    const mesh = lab.plan.mesh;

    const now = await cli('backup', 'now', SEED_BLUEPRINT, '--cluster', 'cluster-usa', '--keep-last', '5', '--wait', '--json');
    assert.equal(now.code, 0, now.err);
    const [final] = JSON.parse(now.out) as Array<{ id: string; state: string; mesh_steps: Array<{ name: string; state: string }> }>;
    assert.equal(final!.state, 'completed');
    assert.deepEqual(final!.mesh_steps.map((x) => `${x.name}=${x.state}`), ['backup-target=done', 'etcd-snapshot=done', 'retention=done']);

    const list = await cli('backup', 'list', mesh, '--json');
    assert.equal(list.code, 0, list.err);
    const rows = JSON.parse(list.out) as Array<{ cluster: string; id: string; sha256: string }>;
    assert.ok(rows.some((r) => r.cluster === 'cluster-usa') && rows.every((r) => /^[0-9a-f]{64}$/.test(r.sha256)));
    const human = await cli('backup', 'list', mesh, '--cluster', 'cluster-usa');
    assert.match(human.out, /^CLUSTER\s+ID\s+TAKEN\s+SIZE\s+SHA256\s+REVISION\s+KEYS\s+FROM\s+MEMBERS\n/);

    const prune = await cli('backup', 'prune', mesh, '--cluster', 'cluster-usa', '--keep-last', '1', '--json');
    assert.equal(prune.code, 0, prune.err);
    const pruned = JSON.parse(prune.out) as { clusters: Array<{ cluster: string; kept: string[] }> };
    assert.deepEqual(pruned.clusters.map((c) => [c.cluster, c.kept.length]), [['cluster-usa', 1]]);

    const created = await cli('backup', 'schedule', 'create', SEED_BLUEPRINT, '--every', '1d', '--keep-last', '3');
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, new RegExp(`created backup-${mesh}-cluster-usa: backup cluster-usa every 1d`));
    const updated = await cli('backup', 'schedule', 'create', mesh, '--every', '6h');
    assert.equal(updated.code, 0, updated.err);
    assert.match(updated.out, new RegExp(`updated backup-${mesh}-cluster-europe: backup cluster-europe every 6h`));
    const listed = await cli('backup', 'schedule', 'list', mesh, '--json');
    assert.deepEqual((JSON.parse(listed.out) as Array<{ cluster: string; cadence: string }>).map((v) => [v.cluster, v.cadence]), [['cluster-europe', 'every 6h'], ['cluster-usa', 'every 6h']]);
    const trig = await cli('backup', 'schedule', 'trigger', mesh, '--cluster', 'cluster-usa');
    assert.equal(trig.code, 0, trig.err);
    const runId = /started (\S+)/.exec(trig.out)![1]!;
    assert.equal((await finished(runId)).prune?.kept.length, 2, 'keep-last 3 from the blueprint FILE survives the update by mesh name: the snapshot left by prune and the new one both stay');
    // restore-drill through the CLI: a third spare node, fresh
    await withLabState(lab.labDir, (s) => {
      s.clusters['drill-c'] = { name: 'drill-c', endpoint: 'https://192.168.20.89:6443', bootstrapCount: 0, kube: {}, helm: {}, extra: {} };
      s.nodes['192.168.20.92'] = { name: 'drill-cp-3', address: '192.168.20.92', site: 'europe', cluster: 'drill-c', role: 'controlplane', installDisk: '/dev/nvme0n1', stage: 'maintenance', stageSince: Date.now(), reachable: true, labels: {} };
    });
    const badNode = await cli('restore-drill', SEED_BLUEPRINT, '--cluster', 'cluster-europe', '--node', 'europe-cp-1=192.168.20.11');
    assert.equal(badNode.code, 2);
    assert.match(badNode.err, /^error: --node: europe-cp-1 \(192\.168\.20\.11\) is eu-cp-1 \(192\.168\.20\.11\), a node of this mesh: a drill needs a spare node/);
    const drill = await cli('restore-drill', SEED_BLUEPRINT, '--cluster', 'cluster-europe', '--node', 'drill-cp-3=192.168.20.92', '--wait', '--json');
    assert.equal(drill.code, 0, drill.err);
    const drilled = JSON.parse(drill.out) as { state: string; operation: { kind: string }; proof: { restored: { totalKeys: number }; source: { totalKeys: number } } };
    assert.equal(drilled.state, 'completed');
    assert.equal(drilled.operation.kind, 'restore-drill');
    assert.equal(drilled.proof.restored.totalKeys, drilled.proof.source.totalKeys);

    const del = await cli('backup', 'schedule', 'delete', mesh);
    assert.equal(del.code, 0, del.err);
    const none = await cli('backup', 'schedule', 'trigger', mesh);
    assert.equal(none.code, 1);
    assert.match(none.err, new RegExp(`no backup schedule for mesh ${mesh}`));
  });
});
