// Workflow-safe: the verify report model (what every surface renders) and its pure helpers.

export type VerdictStatus = 'ok' | 'warn' | 'fail';

/** Every check a verify run makes; the names are stable (they key drift detection and notifications). */
export const CHECKS = {
  'clustermesh-status': 'cilium clustermesh status: every blueprint peer connected on every agent',
  'mesh-addresses': 'clustermesh-apiserver and every global Service still have addresses',
  'lb-pool': 'LB-IPAM pools as in the blueprint, with free addresses',
  wireguard: 'WireGuard encryption on every node',
  'cilium-version': 'Cilium versions equal across clusters (and as in the blueprint)',
  'cluster-identity': 'cluster ID, name, pod and service CIDRs as in the blueprint, no overlap',
  'etcd-latency': 'etcd peer round-trip p99 within budget',
  'global-canary': 'the canary global Service sees remote backends',
  'policy-consistency': 'CiliumNetworkPolicies identical across regions and as in the blueprint',
  'hubble-relay': 'Hubble relay up (needed before strict cross-cluster policies are relied on)',
  'clustermesh-certs': 'ClusterMesh certificates and their CA valid beyond the warning window (default 30 days)',
  'clustermesh-trust': 'every cluster trusts the CA every other cluster\'s ClusterMesh certificates come from',
} as const;
export type CheckName = keyof typeof CHECKS;

/** A person may start this to repair the drift; nothing starts it automatically. */
export interface Remediation {
  /** `rollout`: re-running the blueprint's rollout converges it (idempotent steps); `manual`: a command to run */
  kind: 'rollout' | 'manual';
  command: string;
}

export interface Verdict {
  check: CheckName;
  cluster?: string;
  status: VerdictStatus;
  /** one sentence: what was found */
  summary: string;
  /** small, non-secret facts behind the verdict */
  evidence: Record<string, string | number | boolean>;
  hint: string;
  remediation?: Remediation;
}

export type NotifyOutcome = 'change' | 'reminder' | 'none';

export interface VerdictChange {
  check: CheckName;
  cluster?: string;
  /** undefined: the check is new in this run */
  from?: VerdictStatus;
  /** undefined: the check is gone in this run */
  to?: VerdictStatus;
}

export interface DriftSummary {
  /** when the previous run (the comparison baseline) finished; undefined on the first run */
  previousAt?: string;
  /** differences from the previous run's verdict set */
  changes: VerdictChange[];
  notified: NotifyOutcome;
  /** why it notified or not, in words */
  reason: string;
  /** a delivery that failed (the next run tries again) */
  notifyError?: string;
}

export interface VerifyReport {
  mesh: string;
  revision: string;
  workflowId: string;
  startedAt: string;
  finishedAt: string;
  overall: VerdictStatus;
  counts: Record<VerdictStatus, number>;
  verdicts: Verdict[];
  drift: DriftSummary;
}

export const verdictKey = (v: { check: string; cluster?: string }) => (v.cluster ? `${v.check}@${v.cluster}` : v.check);

const RANK: Record<VerdictStatus, number> = { ok: 0, warn: 1, fail: 2 };

export function overallOf(verdicts: Verdict[]): VerdictStatus {
  return verdicts.reduce<VerdictStatus>((w, v) => (RANK[v.status] > RANK[w] ? v.status : w), 'ok');
}

export function countsOf(verdicts: Verdict[]): Record<VerdictStatus, number> {
  const out = { ok: 0, warn: 0, fail: 0 };
  for (const v of verdicts) out[v.status]++;
  return out;
}

/** The verdict set as `key → status`: what drift compares. */
export function verdictSet(verdicts: Array<Pick<Verdict, 'check' | 'cluster' | 'status'>>): Record<string, VerdictStatus> {
  return Object.fromEntries(verdicts.map((v) => [verdictKey(v), v.status]));
}

export function diffVerdictSets(before: Record<string, VerdictStatus>, after: Record<string, VerdictStatus>): VerdictChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out: VerdictChange[] = [];
  for (const key of keys) {
    if (before[key] === after[key]) continue;
    const [check, cluster] = key.split('@') as [CheckName, string | undefined];
    out.push({ check, ...(cluster ? { cluster } : {}), ...(before[key] ? { from: before[key] } : {}), ...(after[key] ? { to: after[key] } : {}) });
  }
  return out;
}

/** Stable order: failures first, then by check and cluster, so tables and messages read the same every run. */
export function sortVerdicts(verdicts: Verdict[]): Verdict[] {
  return [...verdicts].sort((a, b) => RANK[b.status] - RANK[a.status] || verdictKey(a).localeCompare(verdictKey(b)));
}

const ICON: Record<VerdictStatus, string> = { ok: '✔', warn: '⚠', fail: '✖' };
const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Temporal UI details: a readable table (markdown). */
export function reportTable(r: Pick<VerifyReport, 'mesh' | 'revision' | 'overall' | 'counts' | 'verdicts'> & { drift?: DriftSummary }): string {
  const rows = sortVerdicts(r.verdicts).map((v) => {
    const evidence = Object.entries(v.evidence)
      .slice(0, 6)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(', ');
    const detail = v.status === 'ok' ? v.summary : `**${v.summary}**<br>hint: ${v.hint}${v.remediation ? `<br>remedy: \`${v.remediation.command}\`` : ''}`;
    return `| ${ICON[v.status]} ${v.check} | ${v.cluster ?? 'mesh'} | ${v.status} | ${cell(detail)} | ${cell(evidence)} |`;
  });
  const drift = r.drift
    ? [
        '',
        `**Drift:** ${r.drift.changes.length ? r.drift.changes.map((c) => `${verdictKey(c)} ${c.from ?? 'new'}→${c.to ?? 'gone'}`).join(', ') : 'no change'} — notified: ${r.drift.notified} (${cell(r.drift.reason)})`,
      ]
    : [];
  return [
    `## Verify ${r.mesh} — ${ICON[r.overall]} ${r.overall} (${r.counts.ok} ok, ${r.counts.warn} warn, ${r.counts.fail} fail)`,
    `revision \`${r.revision}\``,
    '',
    '| check | cluster | status | details | evidence |',
    '|---|---|---|---|---|',
    ...rows,
    ...drift,
  ].join('\n');
}
