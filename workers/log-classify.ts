// The worker's log lines, classified by meshpilot's own failure types (contracts/failures.ts). The SDK logs every
// failed activity attempt as a warning ("Activity failed"); for meshpilot a blocked attempt is not a failure but
// an expected pause, which the step runner turns into a paused step with a reason and a hint. So:
// - blocked: one line at info level, with the reason, hint and evidence as fields (the raw error dropped);
// - transient and fatal: stay warnings, with `failure` naming the type so a log shipper can tell them apart.
// `meshpilot worker` writes every entry as a JSON line (log.ts); `meshpilot dev` and the demo write human lines.
import { blockedDetailsOf, FailureType, findApplicationFailure } from '../contracts/failures.ts';
import type { LogEntry, LogLevel, LogSink } from './log.ts';

export type FailureClass = 'transient' | 'blocked' | 'fatal';

const CLASS_OF: Record<string, FailureClass> = {
  [FailureType.transient]: 'transient',
  [FailureType.blocked]: 'blocked',
  [FailureType.fatal]: 'fatal',
};

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

/** The message of a blocked attempt's entry: stable, so a log query can count pauses. */
export const BLOCKED_MSG = 'Activity blocked: the step pauses until it re-checks or an operator acts';

/** The entry as meshpilot means it: a blocked attempt becomes an info line with its reason; other failures are tagged. */
export function classifyLogEntry(entry: LogEntry): LogEntry {
  const app = entry.error === undefined ? undefined : findApplicationFailure(entry.error);
  const failure = app?.type ? CLASS_OF[app.type] : undefined;
  if (!failure) return entry;
  if (failure !== 'blocked') return { ...entry, failure };
  const details = blockedDetailsOf(app);
  const { error: _raw, ...rest } = entry;
  return {
    ...rest,
    level: 'info',
    msg: BLOCKED_MSG,
    failure,
    reason: details?.reason ?? app?.message ?? '',
    hint: details?.hint ?? '',
    ...(details?.evidence ? { evidence: details.evidence } : {}),
  };
}

/** Classifies every entry, then drops what is below the configured level (a demoted warning may now be). */
export function classified(sink: LogSink, threshold: LogLevel): LogSink {
  return (entry) => {
    const e = classifyLogEntry(entry);
    if (RANK[e.level] >= RANK[threshold]) sink(e);
  };
}

// Fields a person reading `meshpilot dev` does not need on every line (they stay in the JSON of `worker`).
const NOISE = new Set(['time', 'level', 'msg', 'taskToken', 'sdkComponent', 'namespace', 'workflowRunId', 'isLocal', 'failure', 'reason', 'hint', 'evidence', 'error']);

function errorText(err: unknown): string | undefined {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  return undefined;
}

/** One line a person reads: never JSON. A pause says what is blocked and why; anything else says its level and message. */
export function humanLogLine(entry: LogEntry): string {
  if (entry.failure === 'blocked') {
    const where = [entry.activityType, entry.workflowId].filter(Boolean).join(' in ');
    return `⏸ paused${where ? ` (${where})` : ''}: ${String(entry.reason)}${entry.hint ? ` — hint: ${String(entry.hint)}` : ''}`;
  }
  const err = errorText(entry.error);
  const fields = Object.entries(entry)
    .filter(([k, v]) => !NOISE.has(k) && v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${String(v)}`);
  const level = entry.level === 'info' ? '' : `${entry.level}: `;
  const failure = typeof entry.failure === 'string' ? ` [${entry.failure}]` : '';
  return `${level}${entry.msg}${err ? `: ${err}` : ''}${failure}${fields.length ? ` (${fields.join(' ')})` : ''}`.replace(/\s*\n\s*/g, ' ');
}

/** `meshpilot dev` and the demo: the worker's lines as human lines, through the surface's own writer. */
export function humanLineSink(write: (line: string) => void): LogSink {
  return (entry) => write(humanLogLine(entry));
}
