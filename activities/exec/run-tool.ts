import { CancelledFailure } from '@temporalio/common';
import { execa } from 'execa';
import { activityContext } from '../context.ts';
import { redact, redactArgs } from '../../secrets/redact.ts';
import { findExecutable, parentDeathPrefix } from './parent-death.ts';
import { signalGroup } from './proc.ts';
import { processLedger } from './process-ledger.ts';
import { currentToolScope } from './tool-scope.ts';

export interface ToolEnvironment {
  /** Environment for child processes (PATH with the lab's tools first in lab mode, LAB dir, ...). */
  env: NodeJS.ProcessEnv;
  /** Working directory for tool calls that write files. */
  cwd?: string;
}

export interface RunToolOptions {
  /** Per-call timeout; the process group is terminated (SIGTERM, then SIGKILL) when it expires. */
  timeoutMs?: number;
  /** Written to the tool's stdin: the way secrets reach tools that read them there (`helm -f -`, `kubectl apply -f -`). */
  input?: string;
  /** Values that must never appear in logs, errors or history. */
  secrets?: readonly string[];
  /** the output is public certificates (a CA bundle): PEM certificates are not redacted from stdout (keys still are) */
  keepCertificates?: boolean;
  /** Extra environment for this call only (e.g. KUBECONFIG). */
  env?: NodeJS.ProcessEnv;
  /** Heartbeat interval while the process runs (inside an activity). */
  heartbeatMs?: number;
  /** After SIGTERM (cancellation, timeout, the activity ended) the group gets this long to exit before SIGKILL. */
  killGraceMs?: number;
}

/** One result shape for every tool call: redacted command, exit code, output, duration, timed-out/cancelled flags. */
export interface ToolResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
}

export class ToolError extends Error {
  override name = 'ToolError';
  constructor(readonly result: ToolResult) {
    super(
      `${result.command} ${result.timedOut ? 'timed out' : result.cancelled ? 'was cancelled' : `exited ${result.exitCode}`}` +
        (result.stderr ? `: ${result.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''),
    );
  }
}

export function isToolError(err: unknown): err is ToolError {
  return err instanceof ToolError;
}

/** The activity a tool call belongs to, when it runs inside one. */
export interface ToolActivity {
  workflowId?: string;
  activityId: string;
  activityType: string;
}

/** What happens to tool processes, for observers (tests measuring abort latency, diagnostics): synchronous, cheap. */
export type ToolEvent = { pid: number; command: string; at: number; activity?: ToolActivity } & (
  | { type: 'spawn' }
  | { type: 'terminate'; why: 'cancelled' | 'timeout' | 'activity-ended' }
  | { type: 'exit' }
);

const listeners = new Set<(e: ToolEvent) => void>();

/** Subscribes to tool events; returns the unsubscribe function. */
export function onToolEvent(listener: (e: ToolEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(e: ToolEvent): void {
  for (const l of listeners) l(e);
}

/** Long enough for helm to record a cancelled release as failed; short enough that an abort ends tools within ~2 s. */
const KILL_GRACE_MS = 1_000;

/**
 * Runs a tool with an argument array (never a shell string). Never throws on a non-zero exit: callers classify
 * results; use `runToolOk` to throw a redacted ToolError instead.
 *
 * Process hygiene: the tool runs as the leader of its own process group with a parent-death signal
 * (parent-death.ts), recorded in the worker's process ledger. Cancellation, the timeout and the end of the
 * activity (tool-scope.ts) terminate the whole group; once the activity is cancelled or has ended, no new
 * call starts. Inside an activity it heartbeats before the call (so a cancel reaches an activity that runs
 * call after call) and while the process runs.
 */
export async function runTool(
  tools: ToolEnvironment,
  file: string,
  args: readonly string[],
  opts: RunToolOptions = {},
): Promise<ToolResult> {
  const ctx = activityContext();
  const scope = currentToolScope();
  const secrets = opts.secrets ?? [];
  const command = [file, ...redactArgs(args, secrets)].join(' ');
  if (ctx?.cancellationSignal.aborted) throw new CancelledFailure(`activity cancelled; ${command} was not started`);
  if (scope?.ended) throw new CancelledFailure(`${scope.ended}; ${command} was not started`);
  const env = { ...tools.env, ...opts.env };
  const started = Date.now();
  const result = (exitCode: number, stdout: string, stderr: string, timedOut = false): ToolResult => ({
    command,
    exitCode,
    stdout: redact(stdout, secrets, { keepCertificates: opts.keepCertificates === true }),
    stderr: redact(stderr, secrets),
    durationMs: Date.now() - started,
    timedOut,
    cancelled: false,
  });
  const executable = findExecutable(file, env.PATH ?? '', tools.cwd);
  if (!executable) return result(127, '', `${file}: command not found`);
  ctx?.heartbeat({ command });

  const { prefix } = parentDeathPrefix();
  const [bin, ...preArgs] = [...prefix, executable];
  const child = execa(bin!, [...preArgs, ...args], {
    env,
    extendEnv: false,
    cwd: tools.cwd,
    input: opts.input,
    // its own process group (and session): signals reach the tool and everything it started, and a Ctrl-C
    // meant for the worker does not hit the tools before the worker has decided what to do with them
    detached: true,
    cleanup: false,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 16 * 1024 * 1024,
  });
  const pgid = child.pid;
  if (pgid === undefined) {
    const r = await child;
    return result(126, '', `${file}: ${r.message ?? 'could not be started'}`);
  }
  const ledger = processLedger();
  ledger?.started(pgid);
  const activity = ctx && { workflowId: ctx.info.workflowExecution?.workflowId, activityId: ctx.info.activityId, activityType: ctx.info.activityType };
  if (listeners.size) emit({ type: 'spawn', pid: pgid, command, at: Date.now(), activity });

  let stop: 'cancelled' | 'timeout' | 'activity-ended' | undefined;
  let forceKill: NodeJS.Timeout | undefined;
  const exited = child.then(
    () => undefined,
    () => undefined,
  );
  const terminate = (why: NonNullable<typeof stop>): Promise<void> => {
    if (!stop && child.exitCode === null && child.signalCode === null) {
      stop = why;
      if (listeners.size) emit({ type: 'terminate', pid: pgid, command, why, at: Date.now(), activity });
      signalGroup(pgid, 'SIGTERM');
      forceKill = setTimeout(() => signalGroup(pgid, 'SIGKILL'), opts.killGraceMs ?? KILL_GRACE_MS);
    }
    return exited;
  };
  const scoped = { terminate: () => terminate('activity-ended') };
  scope?.add(scoped);
  const onCancel = () => void terminate('cancelled');
  ctx?.cancellationSignal.addEventListener('abort', onCancel, { once: true });
  const timer = setTimeout(() => void terminate('timeout'), opts.timeoutMs ?? 120_000);
  const beat = ctx ? setInterval(() => ctx.heartbeat({ command, runningMs: Date.now() - started }), opts.heartbeatMs ?? 1_000) : undefined;
  let r: Awaited<typeof child>;
  try {
    r = await child;
  } finally {
    clearTimeout(timer);
    clearTimeout(forceKill);
    clearInterval(beat);
    ctx?.cancellationSignal.removeEventListener('abort', onCancel);
    // whatever the leader left behind in its group goes with it
    signalGroup(pgid, 'SIGKILL');
    ledger?.ended(pgid);
    scope?.delete(scoped);
    if (listeners.size) emit({ type: 'exit', pid: pgid, command, at: Date.now(), activity });
  }
  if (stop === 'cancelled' || ctx?.cancellationSignal.aborted) {
    throw new CancelledFailure(`activity cancelled; killed ${command} after ${Date.now() - started} ms`);
  }
  if (stop === 'activity-ended') throw new CancelledFailure(`${scope?.ended ?? 'the activity ended'}; killed ${command}`);
  return result(r.exitCode ?? -1, String(r.stdout ?? ''), String(r.stderr ?? ''), stop === 'timeout');
}

export async function runToolOk(
  tools: ToolEnvironment,
  file: string,
  args: readonly string[],
  opts: RunToolOptions = {},
): Promise<ToolResult> {
  const r = await runTool(tools, file, args, opts);
  if (r.exitCode !== 0 || r.timedOut || r.cancelled) throw new ToolError(r);
  return r;
}
