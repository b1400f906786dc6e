// Drift notifications: decide (drift.ts), tell the configured channels, then remember what was
// said. The ledger moves only after every channel accepted, so a failed delivery is retried by the next run.
import { fatal, transient } from '../../contracts/failures.ts';
import type { RolloutMessage } from '../../notify/message.ts';
import { isNotifyError, type Notifier } from '../../notify/notifier.ts';
import { SlackNotifier } from '../../notify/slack.ts';
import { WebhookNotifier } from '../../notify/webhook.ts';
import type { ActivityDeps } from '../deps.ts';
import { decideNotification, type DriftDecision } from './drift.ts';
import { DEFAULT_REMIND_AFTER_MS, type VerifyNotifyConfig } from '../../contracts/verify/input.ts';
import { sortVerdicts, verdictKey, verdictSet, type DriftSummary, type VerifyReport } from '../../contracts/verify/report.ts';
import { readLedger, writeLedger } from './ledger.ts';

/** The message people get: what changed first, then everything still wrong, and a remediation they may start. */
export function driftMessage(report: Omit<VerifyReport, 'drift'>, decision: DriftDecision, channel?: string): RolloutMessage {
  const wrong = sortVerdicts(report.verdicts).filter((v) => v.status !== 'ok');
  const recovered = wrong.length === 0;
  const title =
    decision.notify === 'reminder'
      ? `Mesh ${report.mesh}: still ${report.counts.fail} failing check(s)`
      : recovered
        ? `Mesh ${report.mesh}: all checks ok again`
        : `Mesh ${report.mesh}: ${report.counts.fail} failing, ${report.counts.warn} warning check(s)`;
  const changes = decision.news.map((c) => `• ${verdictKey(c)}: ${c.from ?? 'ok'} → ${c.to ?? 'ok'}`);
  const remedy = wrong.find((v) => v.remediation?.kind === 'rollout')?.remediation;
  return {
    title,
    state: recovered ? 'completed' : report.overall === 'fail' ? 'failed' : 'warning',
    text: [decision.notify === 'reminder' ? decision.reason : 'What changed since the last notification:', ...(decision.notify === 'change' ? changes : [])].join('\n'),
    fields: wrong.slice(0, 10).map((v) => ({ label: `${v.status === 'fail' ? '✖' : '⚠'} ${verdictKey(v)}`, value: `${v.summary}\nhint: ${v.hint}` })),
    actions: remedy
      ? [
          {
            id: 'verify.remediate',
            label: 'Start remediation rollout',
            style: 'primary',
            // The chat app starts `meshpilot rollout` of this mesh's blueprint: a person presses it, nothing else does.
            value: JSON.stringify({ mesh: report.mesh, revision: report.revision, command: remedy.command }),
            confirm: { title: 'Start a rollout?', text: `Re-run the rollout of ${report.mesh} (revision ${report.revision}) to converge the drift.`, confirm: 'Start', deny: 'Cancel' },
          },
        ]
      : [],
    footer: `verify ${report.workflowId} · revision ${report.revision}`,
    ...(channel ? { channel } : {}),
  };
}

export async function notifiers(deps: ActivityDeps, cfg: Pick<VerifyNotifyConfig, 'webhook' | 'slack'>): Promise<Array<{ n: Notifier; channel?: string }>> {
  const out: Array<{ n: Notifier; channel?: string }> = [];
  const secret = async (ref: string, what: string) => {
    if (!(await deps.secrets.has(ref))) throw fatal(`notify: ${what} ${ref} is not in the secret store`, `store it first: the ${what} is a secret reference`);
    return (await deps.secrets.get(ref)).toString('utf8').trim();
  };
  if (cfg.webhook) {
    out.push({
      n: new WebhookNotifier({ url: await secret(cfg.webhook.urlRef, 'webhook URL'), ...(cfg.webhook.secretRef ? { secret: await secret(cfg.webhook.secretRef, 'webhook signing secret') } : {}) }),
    });
  }
  if (cfg.slack) out.push({ n: new SlackNotifier({ token: await secret(cfg.slack.tokenRef, 'Slack bot token') }), channel: cfg.slack.channel });
  return out;
}

export async function recordVerifyOutcome(
  deps: ActivityDeps,
  i: { report: Omit<VerifyReport, 'drift'>; notify?: VerifyNotifyConfig; previous?: VerifyReport },
): Promise<DriftSummary> {
  const { report } = i;
  const ledger = await readLedger(deps, report.mesh);
  // An explicit previous report replaces the remembered last run (announcements stay the ledger's).
  const base = i.previous ? { ...(ledger ?? { mesh: report.mesh }), lastRunAt: i.previous.finishedAt, lastSet: verdictSet(i.previous.verdicts) } : ledger;
  const current = verdictSet(report.verdicts);
  const now = new Date();
  const enabled = Boolean(i.notify?.webhook || i.notify?.slack);
  const decision = decideNotification(base, current, now, { enabled, remindAfterMs: i.notify?.remindAfterMs ?? DEFAULT_REMIND_AFTER_MS });
  if (decision.notify !== 'none') {
    for (const { n, channel } of await notifiers(deps, i.notify!)) {
      try {
        await n.post(driftMessage(report, decision, channel));
      } catch (err) {
        if (isNotifyError(err)) throw err.retryable ? transient(`notify ${n.name}: ${err.message}`) : fatal(`notify ${n.name}: ${err.message}`, err.hint);
        throw err;
      }
    }
  }
  const announced = decision.notify !== 'none' || (enabled && !ledger?.announcedSet);
  await writeLedger(deps, {
    mesh: report.mesh,
    lastRunAt: report.finishedAt,
    lastSet: current,
    ...(announced ? { announcedSet: current, announcedAt: decision.notify !== 'none' ? now.toISOString() : (ledger?.announcedAt ?? now.toISOString()) } : {}),
    ...(!announced && ledger?.announcedSet ? { announcedSet: ledger.announcedSet, ...(ledger.announcedAt ? { announcedAt: ledger.announcedAt } : {}) } : {}),
  });
  return {
    ...(base?.lastRunAt ? { previousAt: base.lastRunAt } : {}),
    changes: decision.changes,
    notified: decision.notify,
    reason: decision.reason,
  };
}
