import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { retentionVerdict, type PruneOutcome, type SnapshotMember, type SnapshotMeta } from '../contracts/backup.ts';
import { blocked, fatal, transient } from '../contracts/failures.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { checkSnapshotFile, deleteSnapshot, listSnapshots, sha256Hex, snapshotMeta, SnapshotIntegrityError, storeSnapshot } from './backup/snapshot-store.ts';
import { parseSnapshotOutput } from './backup/talosctl-output.ts';
import { runTool } from './exec/run-tool.ts';
import { parseInput } from './talos/inputs.ts';
import { parseEtcdMembers } from './talos/parse.ts';
import { stderrTail, talosFailure, talosProblem } from './talos/problems.ts';
import { withScratchDir, withSecretFile } from './talos/secret-files.ts';
import { notifiers } from './verify/notify.ts';
import type { RolloutMessage } from '../notify/message.ts';
import { isNotifyError } from '../notify/notifier.ts';

/**
 * etcd backups (issue #17): pick a control plane whose etcd answers (read-only), stream a snapshot from it into a
 * RAM-backed scratch file, check it, and store it encrypted; list and prune what is stored. Only references and
 * facts (sha256, size, members) leave these functions: never the snapshot.
 */

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label (lower-case letters, digits, dashes)');
const address = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$|^[0-9a-f:]+$/i, 'must be an IP address');
const node = z.object({ name: z.string().min(1), address });
const retention = z.object({ keepLast: z.number().int().min(1).optional(), maxAgeMs: z.number().int().min(60_000).optional() });
const schemas = {
  target: z.object({ mesh: name, cluster: name, controlPlanes: z.array(node).min(1) }),
  snapshot: z.object({
    mesh: name,
    cluster: name,
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    node,
    members: z.array(z.object({ id: z.string(), hostname: z.string(), peerUrls: z.array(z.string()) })),
    takenAt: z.string().datetime(),
    workflowId: z.string().min(1),
  }),
  list: z.object({ mesh: name, cluster: name.optional() }),
  prune: z.object({ mesh: name, cluster: name, retention, nowMs: z.number().int().positive(), dryRun: z.boolean().optional() }),
} as const;

/** talosctl streams the snapshot for as long as the database is big: 10 minutes is ~GBs on a LAN. */
const SNAPSHOT_TIMEOUT_MS = 10 * 60_000;
const secure = (a: string, talosconfig: string) => ['-n', a, '-e', a, '--talosconfig', talosconfig];

async function withTalosconfig<T>(deps: ActivityDeps, mesh: string, cluster: string, fn: (file: string, secrets: string[]) => Promise<T>): Promise<T> {
  const ref = secretRefs.talosconfig(mesh, cluster);
  if (!(await deps.secrets.has(ref))) {
    throw fatal(`meshpilot holds no talosconfig for ${cluster} in mesh ${mesh} (${ref})`, `back up clusters meshpilot rolled out: meshpilot rollout FILE first, or check the cluster name`);
  }
  return withSecretFile(deps.secrets, ref, fn);
}

/**
 * Read-only: the first control plane (blueprint order) whose etcd lists it as a member. None answers → blocked: a
 * backup waits for a healthy member (the pause re-checks) rather than failing or reading from a broken one.
 */
export async function pickSnapshotSource(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; controlPlanes: Array<{ name: string; address: string }> },
): Promise<{ node: { name: string; address: string }; members: SnapshotMember[] }> {
  const i = parseInput(schemas.target, input, 'pickSnapshotSource');
  return withTalosconfig(deps, i.mesh, i.cluster, async (file, secrets) => {
    const problems: Record<string, string> = {};
    for (const cp of i.controlPlanes) {
      const r = await runTool(deps.tools, 'talosctl', ['etcd', 'members', ...secure(cp.address, file)], { timeoutMs: 30_000, secrets });
      if (r.exitCode !== 0) {
        if (talosProblem(r) === 'missing-tool') throw talosFailure('talosctl etcd members', r);
        problems[cp.name] = `${talosProblem(r)}: ${stderrTail(r)}`.slice(0, 240);
        continue;
      }
      let members: SnapshotMember[];
      try {
        members = parseEtcdMembers(r.stdout);
      } catch (err) {
        problems[cp.name] = (err as Error).message.slice(0, 240);
        continue;
      }
      if (members.some((m) => m.hostname === cp.name || m.peerUrls.some((u) => u.includes(`//${cp.address}:`)))) return { node: cp, members };
      problems[cp.name] = `answers, but is not in its own member list (${members.map((m) => m.hostname).join(', ') || 'empty'})`;
    }
    throw blocked({
      reason: `no healthy control plane in ${i.cluster}: none of ${i.controlPlanes.map((c) => c.name).join(', ')} answers with an etcd member list that holds it`,
      hint: `check the control planes (talosctl -n ADDRESS service etcd; talosctl -n ADDRESS etcd members) and bring one back; the backup re-checks by itself, or resume it now. Abort if the cluster is gone.`,
      evidence: problems,
    });
  });
}

/**
 * Streams a snapshot from the chosen member and stores it encrypted. Idempotent: a backup id that is already stored
 * (an earlier attempt committed it) is returned as it is; nothing is taken twice. The plaintext lives in a RAM-backed
 * scratch directory for the length of the call and in this process's memory, never on a disk.
 */
export async function takeEtcdSnapshot(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; id: string; node: { name: string; address: string }; members: SnapshotMember[]; takenAt: string; workflowId: string },
): Promise<SnapshotMeta> {
  const i = parseInput(schemas.snapshot, input, 'takeEtcdSnapshot');
  const existing = await snapshotMeta(deps.secrets, i.mesh, i.cluster, i.id);
  if (existing) return existing;
  return withTalosconfig(deps, i.mesh, i.cluster, (talosconfig, secrets) =>
    withScratchDir(async (dir) => {
      const target = path.join(dir, 'etcd.snapshot');
      const r = await runTool(deps.tools, 'talosctl', ['etcd', 'snapshot', target, ...secure(i.node.address, talosconfig)], { timeoutMs: SNAPSHOT_TIMEOUT_MS, secrets, heartbeatMs: 1_000 });
      if (r.exitCode !== 0) {
        if (/sha256 checksum not found/.test(r.stderr)) throw transient(`talosctl etcd snapshot from ${i.node.name}: the stream ended early (${stderrTail(r)})`);
        throw talosFailure(`talosctl etcd snapshot from ${i.node.name} (${i.node.address})`, r);
      }
      const out = parseSnapshotOutput(r.stdout);
      if (!out) throw transient(`talosctl etcd snapshot from ${i.node.name} printed no "etcd snapshot saved" and "snapshot info" lines: ${JSON.stringify(r.stdout.slice(0, 200))}`);
      const file = await readFile(target);
      if (file.length !== out.bytes) throw transient(`talosctl said ${out.bytes} bytes, the file holds ${file.length}`);
      try {
        checkSnapshotFile(file);
      } catch (err) {
        if (err instanceof SnapshotIntegrityError) throw transient(`snapshot from ${i.node.name}: ${err.message}`);
        throw err;
      }
      const meta: SnapshotMeta = {
        id: i.id,
        mesh: i.mesh,
        cluster: i.cluster,
        ref: secretRefs.etcdSnapshot(i.mesh, i.cluster, i.id),
        takenAt: i.takenAt,
        node: i.node,
        sha256: sha256Hex(file),
        sizeBytes: file.length,
        etcd: out.info,
        members: i.members,
        workflowId: i.workflowId,
      };
      await storeSnapshot(deps.secrets, meta, file);
      return meta;
    }),
  );
}

/** What is stored for a mesh (or one cluster), newest first per cluster: metadata only. */
export async function listEtcdSnapshots(deps: ActivityDeps, input: { mesh: string; cluster?: string }): Promise<SnapshotMeta[]> {
  const i = parseInput(schemas.list, input, 'listEtcdSnapshots');
  return listSnapshots(deps.secrets, i.mesh, i.cluster);
}

/** Applies the retention policy to one cluster's snapshots (idempotent: a second run finds nothing to drop). */
export async function pruneEtcdSnapshots(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; retention: { keepLast?: number; maxAgeMs?: number }; nowMs: number; dryRun?: boolean },
): Promise<PruneOutcome> {
  const i = parseInput(schemas.prune, input, 'pruneEtcdSnapshots');
  const all = await listSnapshots(deps.secrets, i.mesh, i.cluster);
  const { keep, drop } = retentionVerdict(all, i.retention, i.nowMs);
  if (!i.dryRun) for (const m of all.filter((s) => drop.includes(s.id))) await deleteSnapshot(deps.secrets, m);
  return { cluster: i.cluster, deleted: drop, kept: keep };
}

const notifySchema = z.object({
  mesh: name,
  cluster: name,
  workflowId: z.string().min(1),
  state: z.enum(['paused', 'failed', 'aborted']),
  step: z.string(),
  reason: z.string(),
  hint: z.string(),
  notify: z.object({
    webhook: z.object({ urlRef: z.string().min(1), secretRef: z.string().min(1).optional() }).optional(),
    slack: z.object({ channel: z.string().min(1), tokenRef: z.string().min(1) }).optional(),
  }),
});

/** A backup that paused or failed tells the configured channels (a successful one says nothing). */
export async function notifyBackupFailure(deps: ActivityDeps, input: z.input<typeof notifySchema>): Promise<{ notified: number }> {
  const i = parseInput(notifySchema, input, 'notifyBackupFailure');
  const channels = await notifiers(deps, i.notify);
  for (const { n, channel } of channels) {
    const msg: RolloutMessage = {
      title: `Backup of ${i.cluster} (mesh ${i.mesh}) ${i.state === 'paused' ? 'is paused' : i.state}`,
      state: i.state,
      text: `${i.step}: ${i.reason}\nhint: ${i.hint}`,
      fields: [],
      actions: [],
      footer: `backup ${i.workflowId}${i.state === 'paused' ? ` · meshpilot resume ${i.workflowId} | meshpilot abort ${i.workflowId} --reason …` : ''}`,
      ...(channel ? { channel } : {}),
    };
    try {
      await n.post(msg);
    } catch (err) {
      if (isNotifyError(err)) throw err.retryable ? transient(`notify ${n.name}: ${err.message}`) : fatal(`notify ${n.name}: ${err.message}`, err.hint);
      throw err;
    }
  }
  return { notified: channels.length };
}
