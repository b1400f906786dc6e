// Workflow-safe: the etcd snapshot model (issue #17). A snapshot's bytes live only in the encrypted store; history,
// search attributes, logs and every surface carry its reference and these facts about it.
import type { ActorInput } from './messages.ts';
import type { OperatorAction, RunState, StepStatus } from './status.ts';
import type { PauseLimits } from './steps.ts';

/** One etcd member as `talosctl etcd members` lists it. */
export interface SnapshotMember {
  id: string;
  hostname: string;
  peerUrls: string[];
}

/** What meshpilot records about a stored snapshot (never the snapshot itself). */
export interface SnapshotMeta {
  /** `<yyyymmdd>-<hhmmss>-<run>`: sortable by time, unique per backup run */
  id: string;
  mesh: string;
  cluster: string;
  /** the secret-store reference holding the encrypted snapshot */
  ref: string;
  takenAt: string;
  /** the control plane it was streamed from */
  node: { name: string; address: string };
  /** sha256 of the whole file as talosctl wrote it (the etcd database plus its own trailing sha256) */
  sha256: string;
  sizeBytes: number;
  /** from talosctl's `snapshot info:` line (etcdutl snapshot status) */
  etcd: { hash: string; revision: number; totalKeys: number; totalSize: number };
  members: SnapshotMember[];
  /** the workflow that took it */
  workflowId: string;
}

/** Keep the newest `keepLast`, and/or nothing older than `maxAgeMs`; the newest snapshot is always kept. */
export interface RetentionPolicy {
  keepLast?: number;
  maxAgeMs?: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepLast: 7 };

export interface BackupNotifyConfig {
  webhook?: { urlRef: string; secretRef?: string };
  slack?: { channel: string; tokenRef: string };
}

/** A cluster as a backup needs it: its control planes, in the blueprint's order (the first is tried first). */
export interface BackupCluster {
  name: string;
  controlPlanes: Array<{ name: string; address: string }>;
}

export interface BackupInput {
  mesh: string;
  /** the blueprint revision the control-plane list came from */
  revision: string;
  cluster: BackupCluster;
  retention: RetentionPolicy;
  requestedBy: ActorInput;
  /** notified on failure only (a pause or a failed run), never on success */
  notify?: BackupNotifyConfig;
  limits?: PauseLimits;
  /** state carried through continue-as-new while paused */
  carried?: BackupCarried;
}

export interface BackupCarried {
  startedAt: string;
  snapshotId: string;
  runner: { steps: StepStatus[]; actions: OperatorAction[]; abortedBy?: ActorInput & { reason: string } };
  source?: { node: { name: string; address: string }; members: SnapshotMember[] };
  snapshot?: SnapshotMeta;
  notifiedPauses: string[];
}

export interface BackupResult {
  id: string;
  mesh: string;
  cluster: string;
  state: RunState;
  /** the snapshot taken (metadata and the store reference; never its bytes) */
  snapshot?: SnapshotMeta;
  prune?: PruneOutcome;
  /** set when a failure notification could not be delivered */
  notifyError?: string;
  error?: string;
}

/** What prune decided: the ids removed and the ids kept, newest first. */
export interface PruneOutcome {
  cluster: string;
  deleted: string[];
  kept: string[];
}

/**
 * The retention decision, pure (the activity applies it; tests and `--plan` call it directly): sorted newest first,
 * a snapshot goes when it is past the newest `keepLast` or older than `maxAgeMs`; the newest one always stays, so a
 * policy never leaves a cluster without a backup.
 */
export function retentionVerdict(snapshots: readonly Pick<SnapshotMeta, 'id' | 'takenAt'>[], policy: RetentionPolicy, nowMs: number): { keep: string[]; drop: string[] } {
  const sorted = [...snapshots].sort((a, b) => b.takenAt.localeCompare(a.takenAt) || b.id.localeCompare(a.id));
  const keep: string[] = [];
  const drop: string[] = [];
  sorted.forEach((s, i) => {
    const beyondCount = policy.keepLast !== undefined && i >= policy.keepLast;
    const tooOld = policy.maxAgeMs !== undefined && nowMs - Date.parse(s.takenAt) > policy.maxAgeMs;
    if (i > 0 && (beyondCount || tooOld)) drop.push(s.id);
    else keep.push(s.id);
  });
  return { keep, drop };
}

/** Snapshot ids: the time the backup run started (UTC, to the second) and a run-specific suffix. */
export function snapshotId(startedAtIso: string, runId: string): string {
  const t = startedAtIso.replace(/[-:]/g, '').replace(/\.\d+Z$|Z$/, '');
  const [date = '', time = ''] = t.split('T');
  // the run id's tail: Temporal's run ids may be UUIDv7, whose head is the time (equal for runs close together)
  return `${date}-${time}-${runId.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(-10)}`;
}

/** `meshpilot restore-drill`: which snapshot goes onto which fresh node. */
export interface RestoreDrillInput {
  mesh: string;
  revision: string;
  /** the cluster the snapshot was taken of */
  cluster: string;
  /** default: the newest stored snapshot of the cluster (chosen at drill-preflight, then kept) */
  snapshotId?: string;
  /** a spare control-plane node in Talos maintenance mode */
  drillNode: { name: string; address: string };
  requestedBy: ActorInput;
  limits?: PauseLimits;
  /** carried through continue-as-new while paused: the steps passed and the snapshot chosen */
  carried?: { startedAt: string; runner: BackupCarried['runner']; snapshot?: SnapshotMeta; refs?: DrillRefs };
}

/** Where the drill's inputs live in the secret store (named by the preflight, which checked they are there). */
export interface DrillRefs {
  controlplaneConfigRef: string;
  talosconfigRef: string;
}

/** The proof: the restored etcd's own snapshot status beside the stored one's. */
export interface RestoreProof {
  members: SnapshotMember[];
  restored: SnapshotMeta['etcd'];
  source: SnapshotMeta['etcd'];
}

export interface RestoreDrillResult {
  id: string;
  mesh: string;
  cluster: string;
  state: RunState;
  snapshot?: SnapshotMeta;
  proof?: RestoreProof;
  error?: string;
}
