// Workflow-safe: what starts a verify run (by hand or from its Schedule).
import type { RolloutPlan } from '../../blueprint/plan.ts';
import type { VerifyReport } from './report.ts';

/**
 * Where drift notifications go. Only references cross into Temporal: a webhook URL often embeds a token, so
 * the URL itself lives in the secret store like the signing secret and the Slack bot token.
 */
export interface VerifyNotifyConfig {
  webhook?: { urlRef: string; secretRef?: string };
  slack?: { channel: string; tokenRef: string };
  /** repeat a failure that persists after this long; 0 = never (default: 24 h) */
  remindAfterMs?: number;
}

export const DEFAULT_REMIND_AFTER_MS = 24 * 60 * 60_000;

export interface VerifyInput {
  plan: RolloutPlan;
  /** compare with this report instead of the mesh's ledger (the worker keeps the last run's verdicts) */
  previous?: VerifyReport;
  notify?: VerifyNotifyConfig;
  /** the blueprint file, when known: remediation hints then name it */
  source?: string;
  /** a ClusterMesh certificate or CA expiring within this many days fails clustermesh-certs (default 30) */
  certWarnDays?: number;
  requestedBy?: { by: string; via?: string };
}
