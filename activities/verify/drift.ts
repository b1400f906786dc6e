// Pure: when a verify run tells people. Only a change in what is wrong is news; a failure that stays is
// repeated as a reminder after a while, never on every run.
import { diffVerdictSets, type NotifyOutcome, type VerdictChange, type VerdictStatus } from '../../contracts/verify/report.ts';

/** What a mesh's verify runs remember between runs (kept by the worker; see activities/verify/ledger.ts). */
export interface VerifyLedger {
  mesh: string;
  /** the previous run: the baseline the report's `changes` are computed against */
  lastRunAt: string;
  lastSet: Record<string, VerdictStatus>;
  /** what people were last told (only runs with a notification channel move this) */
  announcedSet?: Record<string, VerdictStatus>;
  announcedAt?: string;
}

export interface NotifyPolicy {
  /** a channel is configured for this run */
  enabled: boolean;
  /** repeat a persisting failure after this long; 0 = never */
  remindAfterMs: number;
}

export interface DriftDecision {
  /** vs the previous run */
  changes: VerdictChange[];
  /** vs what was last announced: what the notification talks about */
  news: VerdictChange[];
  notify: NotifyOutcome;
  reason: string;
}

/** Only what is wrong matters to people: `ok` entries (and checks appearing healthy) are not news. */
const notOk = (set: Record<string, VerdictStatus>) => Object.fromEntries(Object.entries(set).filter(([, s]) => s !== 'ok'));

export function decideNotification(ledger: VerifyLedger | undefined, current: Record<string, VerdictStatus>, now: Date, policy: NotifyPolicy): DriftDecision {
  const changes = diffVerdictSets(ledger?.lastSet ?? {}, current);
  // Before anything was announced the baseline is "all healthy": a first run that finds a failure says so.
  const news = diffVerdictSets(notOk(ledger?.announcedSet ?? {}), notOk(current));
  if (!policy.enabled) return { changes, news, notify: 'none', reason: 'no notification channel configured for this run' };
  if (news.length > 0) return { changes, news, notify: 'change', reason: `${news.length} verdict(s) changed since the last notification` };
  const failing = Object.values(current).some((s) => s === 'fail');
  const last = ledger?.announcedAt ? Date.parse(ledger.announcedAt) : undefined;
  if (failing && policy.remindAfterMs > 0 && last !== undefined && now.getTime() - last >= policy.remindAfterMs) {
    return { changes, news, notify: 'reminder', reason: `still failing ${Math.round((now.getTime() - last) / 60_000)} min after the last notification` };
  }
  return { changes, news, notify: 'none', reason: failing ? 'same failures as already announced' : 'nothing changed' };
}
