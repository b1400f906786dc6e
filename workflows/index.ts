// The worker's workflow bundle entry: every workflow type meshpilot registers.
export { meshRollout } from './mesh-rollout.ts';
export { clusterRollout } from './cluster-rollout.ts';
export { meshDetach } from './mesh-detach.ts';
export { verifyMesh } from './verify.ts';
export { meshUpgrade } from './mesh-upgrade.ts';
export { clusterUpgrade } from './cluster-upgrade.ts';
export { upgradeSurvey } from './upgrade-survey.ts';
export { clusterBackup } from './backup.ts';
export { backupCatalog, backupPrune } from './backup-catalog.ts';
export { restoreDrill } from './restore-drill.ts';
export { meshRotate } from './mesh-rotate.ts';
export { failoverDrill } from './failover-drill.ts';
