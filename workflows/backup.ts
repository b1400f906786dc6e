// `meshpilot backup now|schedule`: one etcd snapshot of one cluster (issue #17). Read-only towards the cluster: a
// control plane whose etcd answers is picked first, the snapshot is streamed from it and stored encrypted (history
// holds its reference, sha256, size and member list), then the retention policy runs. No healthy control plane
// pauses the backup (resume re-checks, abort ends it); people are notified of pauses and failures only.
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import type { BackupInput, BackupResult } from '../contracts/backup.ts';
import { act, quick, waits } from './activities.ts';
import { BackupState } from './backup-state.ts';
import { answerStepMessages, endedBy } from './operation.ts';
import { ContinueAsNewNeeded } from './step-runner.ts';

export type { BackupInput, BackupResult } from '../contracts/backup.ts';

export async function clusterBackup(input: BackupInput): Promise<BackupResult> {
  const b = new BackupState(input);
  const { runner } = b;

  // The rollout's message contracts, so status, watch, resume and abort work on a backup as on any run.
  answerStepMessages(runner, () => b.status(), () => b.validateAmend());

  let done = false;
  const notifier = notifyLoop(b, () => done);
  b.changed();
  const { mesh } = input;
  const cluster = input.cluster.name;
  try {
    await runner.run('backup-target', async () => {
      b.source = await act(quick.pickSnapshotSource, `${cluster}: talosctl etcd members on each control plane until one is healthy (read-only)`, {
        mesh,
        cluster,
        controlPlanes: input.cluster.controlPlanes,
      });
      b.changed();
    });
    await runner.run('etcd-snapshot', async () => {
      const source = b.source!;
      b.snapshot = await act(waits.takeEtcdSnapshot, `${cluster}: talosctl etcd snapshot from ${source.node.name}, stored encrypted as ${b.snapshotId}`, {
        mesh,
        cluster,
        id: b.snapshotId,
        node: source.node,
        members: b.members(),
        takenAt: new Date().toISOString(),
        workflowId: b.workflowId,
      });
      b.changed();
    });
    await runner.run('retention', async () => {
      b.prune = await act(quick.pruneEtcdSnapshots, `${cluster}: prune snapshots past the retention policy`, { mesh, cluster, retention: input.retention, nowMs: Date.now() });
      b.changed();
    });
    b.state = 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      done = true;
      await notifier;
      await condition(allHandlersFinished);
      await continueAsNew<typeof clusterBackup>({ ...input, carried: b.carried() });
    }
    const end = endedBy(runner, err);
    b.state = end.state;
    if (end.error !== undefined) b.error = end.error;
  }
  b.changed();
  done = true;
  await notifier;
  await condition(allHandlersFinished);
  return b.result();
}

/** Sends each pause/failure notice as it appears; a channel that refuses is recorded, never fails the backup. */
async function notifyLoop(b: BackupState, finished: () => boolean): Promise<void> {
  const notify = b.input.notify;
  if (!notify || !b.notifying) return;
  for (;;) {
    await condition(() => b.notices.length > 0 || finished());
    const n = b.notices.shift();
    if (!n) return;
    try {
      await act(quick.notifyBackupFailure, `notify: backup of ${b.input.cluster.name} ${n.state} at ${n.step}`, {
        mesh: b.input.mesh,
        cluster: b.input.cluster.name,
        workflowId: b.workflowId,
        state: n.state,
        step: n.step,
        reason: n.reason,
        hint: n.hint,
        notify,
      });
    } catch (err) {
      b.notifyError = (err as Error).message;
    }
  }
}
