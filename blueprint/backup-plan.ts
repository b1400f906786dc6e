// Pure: what `meshpilot backup now FILE` will do per cluster, step by step (`--plan` prints it before anything runs).
import type { BackupCluster, RetentionPolicy } from '../contracts/backup.ts';
import { BACKUP_STEPS, type BackupStepName } from '../contracts/steps.ts';
import type { StepPlan } from './plan.ts';

export function planBackup(mesh: string, cluster: BackupCluster, retention: RetentionPolicy): StepPlan[] {
  const policy = [retention.keepLast !== undefined ? `keep the last ${retention.keepLast}` : '', retention.maxAgeMs !== undefined ? `drop those older than ${Math.round(retention.maxAgeMs / 3_600_000)} h` : '']
    .filter(Boolean)
    .join(', ');
  const details: Record<BackupStepName, string[]> = {
    'backup-target': [`CP in order: ${cluster.controlPlanes.map((n) => `${n.name} ${n.address}`).join(', ') || 'none (the blueprint has no control plane)'}`, `TALOSCONFIG: mesh/${mesh}/${cluster.name}/talosconfig from the secret store`],
    'etcd-snapshot': [`ID: the run's start time and run id; stored as backup/${mesh}/${cluster.name}/ID (+ ID.meta)`],
    retention: [`${policy || 'no policy'}; the newest snapshot always stays`],
  };
  return BACKUP_STEPS.map((d) => ({ name: d.name, title: d.title, skippable: d.skippable, gate: d.gate, runs: [...d.runs], details: details[d.name] }));
}
