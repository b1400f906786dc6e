import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { DrillRefs, RestoreProof, SnapshotMeta } from '../contracts/backup.ts';
import { blocked, fatal, transient } from '../contracts/failures.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { listSnapshots, retrieveSnapshot, SnapshotIntegrityError } from './backup/snapshot-store.ts';
import { parseSnapshotOutput } from './backup/talosctl-output.ts';
import { runTool } from './exec/run-tool.ts';
import { parseInput } from './talos/inputs.ts';
import { machineStatusSchema, parseEtcdMembers, parseJsonStream } from './talos/parse.ts';
import { stderrTail, talosFailure, talosProblem } from './talos/problems.ts';
import { withScratchDir, withSecretFile } from './talos/secret-files.ts';

/**
 * The restore drill (issue #17): Talos' disaster-recovery procedure — a control plane installed with the cluster's
 * own machine config, then `talosctl bootstrap --recover-from` — run on a spare node, and proven. The guard that
 * makes it safe is the preflight: only a node in maintenance mode (no config, no etcd) is ever touched.
 */

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label (lower-case letters, digits, dashes)');
const address = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$|^[0-9a-f:]+$/i, 'must be an IP address');
const node = z.object({ name: z.string().min(1), address });
const snapshotIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a snapshot id as `backup list` shows it');
const schemas = {
  preflight: z.object({ mesh: name, cluster: name, snapshotId: snapshotIdSchema.optional(), drillNode: node }),
  recover: z.object({ mesh: name, cluster: name, snapshotId: snapshotIdSchema, drillNode: node }),
} as const;

const secure = (a: string, talosconfig: string) => ['-n', a, '-e', a, '--talosconfig', talosconfig];

/** Read-only: which snapshot (verified), the source config is there, and the drill node is fresh. */
export async function drillPreflight(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; snapshotId?: string; drillNode: { name: string; address: string } },
): Promise<{ snapshot: SnapshotMeta; refs: DrillRefs }> {
  const i = parseInput(schemas.preflight, input, 'drillPreflight');
  const id = i.snapshotId ?? (await listSnapshots(deps.secrets, i.mesh, i.cluster))[0]?.id;
  if (!id) throw fatal(`no stored snapshot of ${i.cluster} in mesh ${i.mesh}`, `take one first: meshpilot backup now FILE --cluster ${i.cluster}`);
  let meta: SnapshotMeta;
  try {
    meta = (await retrieveSnapshot(deps.secrets, i.mesh, i.cluster, id)).meta;
  } catch (err) {
    if (err instanceof SnapshotIntegrityError) throw fatal(`snapshot ${id}: ${err.message}`, `meshpilot backup list ${i.mesh} --cluster ${i.cluster} shows the stored snapshots`);
    throw err;
  }
  const refs: DrillRefs = { controlplaneConfigRef: secretRefs.machineConfig(i.mesh, i.cluster, 'controlplane'), talosconfigRef: secretRefs.talosconfig(i.mesh, i.cluster) };
  for (const ref of Object.values(refs)) {
    if (!(await deps.secrets.has(ref))) throw fatal(`the secret store holds no ${ref}: the drill installs the source cluster's own control-plane config`, 'drill clusters meshpilot rolled out');
  }
  const r = await runTool(deps.tools, 'talosctl', ['get', 'machinestatus', '-o', 'json', '--insecure', '-n', i.drillNode.address], { timeoutMs: 30_000 });
  if (r.exitCode === 0) {
    const stage = machineStatusSchema.safeParse(parseJsonStream(r.stdout)[0]).data?.spec.stage;
    if (stage === 'maintenance') return { snapshot: meta, refs };
    throw blocked({
      reason: `drill node ${i.drillNode.name} (${i.drillNode.address}) is ${stage ?? 'in an unknown stage'}, not in maintenance mode`,
      hint: 'a drill only touches a fresh node: boot it into Talos maintenance mode (or reset it), then resume; abort to keep it as it is',
      evidence: { node: i.drillNode.name, stage: stage ?? 'unknown' },
    });
  }
  const p = talosProblem(r);
  if (p === 'configured') {
    throw blocked({
      reason: `drill node ${i.drillNode.name} (${i.drillNode.address}) already runs Talos with a machine config: a drill never touches a configured node`,
      hint: `pick a spare node in maintenance mode, or reset this one (talosctl reset -n ${i.drillNode.address}) if it is really spare, then resume`,
      evidence: { node: i.drillNode.name, error: stderrTail(r) },
    });
  }
  if (p === 'unreachable' || p === 'timeout') {
    throw blocked({
      reason: `drill node ${i.drillNode.name} (${i.drillNode.address}) does not answer on the Talos API`,
      hint: 'power it on into Talos maintenance mode (BMC or ISO), check its network, then resume',
      evidence: { node: i.drillNode.name, error: stderrTail(r) },
    });
  }
  throw talosFailure(`probing drill node ${i.drillNode.name}`, r);
}

/**
 * `talosctl bootstrap --recover-from`: the snapshot is decrypted, checked again and written to a RAM-backed scratch
 * file for the call. `AlreadyExists` counts as done: the preflight proved the node fresh and only this drill has
 * touched it since, so the etcd it holds is the one an earlier attempt recovered.
 */
export async function recoverEtcdOnDrillNode(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; snapshotId: string; drillNode: { name: string; address: string } },
): Promise<{ recovered: boolean; already: boolean }> {
  const i = parseInput(schemas.recover, input, 'recoverEtcdOnDrillNode');
  const { file } = await retrieveSnapshot(deps.secrets, i.mesh, i.cluster, i.snapshotId);
  return withSecretFile(deps.secrets, secretRefs.talosconfig(i.mesh, i.cluster), (talosconfig, secrets) =>
    withScratchDir(async (dir) => {
      const snapshot = path.join(dir, 'etcd.snapshot');
      await writeFile(snapshot, file, { mode: 0o600 });
      const r = await runTool(deps.tools, 'talosctl', ['bootstrap', `--recover-from=${snapshot}`, ...secure(i.drillNode.address, talosconfig)], { timeoutMs: 10 * 60_000, secrets, heartbeatMs: 1_000 });
      if (r.exitCode === 0) return { recovered: true, already: false };
      const p = talosProblem(r);
      if (p === 'already-exists') return { recovered: false, already: true };
      if (p === 'not-ready' || /not ready for recovery/.test(r.stderr)) throw transient(`drill node ${i.drillNode.name} is not ready for recovery yet: ${stderrTail(r)}`);
      if (/integrity check failed/.test(r.stderr)) throw fatal(`the drill node refused the snapshot: ${stderrTail(r)}`, 'the stored snapshot is damaged: take a new one (meshpilot backup now)');
      throw talosFailure(`talosctl bootstrap --recover-from on ${i.drillNode.name}`, r);
    }),
  );
}

/**
 * The proof: the restored etcd answers with the drill node as its member, and a snapshot of it (taken into RAM
 * scratch and discarded) has at least the stored snapshot's revision and keys. etcd keeps revisions across a
 * restore; a live apiserver may only add keys.
 */
export async function proveRestoredEtcd(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; snapshotId: string; drillNode: { name: string; address: string } },
): Promise<RestoreProof> {
  const i = parseInput(schemas.recover, input, 'proveRestoredEtcd');
  const { meta } = await retrieveSnapshot(deps.secrets, i.mesh, i.cluster, i.snapshotId);
  return withSecretFile(deps.secrets, secretRefs.talosconfig(i.mesh, i.cluster), (talosconfig, secrets) =>
    withScratchDir(async (dir) => {
      const m = await runTool(deps.tools, 'talosctl', ['etcd', 'members', ...secure(i.drillNode.address, talosconfig)], { timeoutMs: 30_000, secrets });
      if (m.exitCode !== 0) throw transient(`the restored etcd on ${i.drillNode.name} does not answer yet: ${stderrTail(m)}`);
      const members = parseEtcdMembers(m.stdout);
      const r = await runTool(deps.tools, 'talosctl', ['etcd', 'snapshot', path.join(dir, 'proof.snapshot'), ...secure(i.drillNode.address, talosconfig)], { timeoutMs: 10 * 60_000, secrets, heartbeatMs: 1_000 });
      if (r.exitCode !== 0) throw transient(`talosctl etcd snapshot on ${i.drillNode.name}: ${stderrTail(r)}`);
      const out = parseSnapshotOutput(r.stdout);
      if (!out) throw transient(`talosctl etcd snapshot on ${i.drillNode.name} printed no snapshot info`);
      const proof: RestoreProof = { members, restored: out.info, source: meta.etcd };
      const short = [
        ...(out.info.revision < meta.etcd.revision ? [`revision ${out.info.revision} < the snapshot's ${meta.etcd.revision}`] : []),
        ...(out.info.totalKeys < meta.etcd.totalKeys ? [`${out.info.totalKeys} keys < the snapshot's ${meta.etcd.totalKeys}`] : []),
        ...(members.some((x) => x.hostname === i.drillNode.name || x.peerUrls.some((u) => u.includes(`//${i.drillNode.address}:`))) ? [] : ['the drill node is not a member of the restored etcd']),
      ];
      if (short.length) {
        throw blocked({
          reason: `the restored etcd on ${i.drillNode.name} does not hold the snapshot's data: ${short.join('; ')}`,
          hint: `compare with talosctl -n ${i.drillNode.address} etcd status; the snapshot may not be the one you meant (meshpilot backup list). Resume re-checks, abort ends the drill`,
          evidence: { restoredRevision: out.info.revision, restoredKeys: out.info.totalKeys, sourceRevision: meta.etcd.revision, sourceKeys: meta.etcd.totalKeys },
        });
      }
      return proof;
    }),
  );
}
