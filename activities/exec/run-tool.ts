import { CancelledFailure } from '@temporalio/common';
import { execa } from 'execa';
import { activityContext } from '../context.ts';
import { redact, redactArgs } from '../../secrets/redact.ts';

export interface ToolEnvironment {
  /** Environment for child processes (PATH with the lab's tools first in lab mode, LAB dir, ...). */
  env: NodeJS.ProcessEnv;
  /** Working directory for tool calls that write files. */
  cwd?: string;
}

export interface RunToolOptions {
  /** Per-call timeout; the process is killed (SIGTERM, then SIGKILL) when it expires. */
  timeoutMs?: number;
  input?: string;
  /** Values that must never appear in logs, errors or history. */
  secrets?: readonly string[];
  /** Extra environment for this call only (e.g. KUBECONFIG). */
  env?: NodeJS.ProcessEnv;
  /** Heartbeat interval while the process runs (inside an activity). */
  heartbeatMs?: number;
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

/**
 * Runs a tool with an argument array (never a shell string). Inside an activity it heartbeats while the
 * process runs and kills the process when the activity is cancelled. Never throws on a non-zero exit:
 * callers classify results; use `runToolOk` to throw a redacted ToolError instead.
 */
export async function runTool(
  tools: ToolEnvironment,
  file: string,
  args: readonly string[],
  opts: RunToolOptions = {},
): Promise<ToolResult> {
  const ctx = activityContext();
  const secrets = opts.secrets ?? [];
  const command = [file, ...redactArgs(args, secrets)].join(' ');
  const started = Date.now();
  const child = execa(file, [...args], {
    env: { ...tools.env, ...opts.env },
    extendEnv: false,
    cwd: tools.cwd,
    input: opts.input,
    timeout: opts.timeoutMs ?? 120_000,
    forceKillAfterDelay: 3_000,
    cancelSignal: ctx?.cancellationSignal,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 16 * 1024 * 1024,
  });
  let beat: NodeJS.Timeout | undefined;
  if (ctx) {
    beat = setInterval(() => ctx.heartbeat({ command, runningMs: Date.now() - started }), opts.heartbeatMs ?? 5_000);
  }
  try {
    const r = await child;
    if (ctx?.cancellationSignal.aborted) {
      throw new CancelledFailure(`activity cancelled; killed ${command} after ${Date.now() - started} ms`);
    }
    const notFound = (r as { code?: string }).code === 'ENOENT';
    return {
      command,
      exitCode: r.exitCode ?? (notFound ? 127 : -1),
      stdout: redact(String(r.stdout ?? ''), secrets),
      stderr: redact(notFound ? `${file}: command not found` : String(r.stderr ?? ''), secrets),
      durationMs: Date.now() - started,
      timedOut: Boolean(r.timedOut),
      cancelled: Boolean(r.isCanceled) || Boolean(ctx?.cancellationSignal.aborted),
    };
  } finally {
    if (beat) clearInterval(beat);
  }
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
