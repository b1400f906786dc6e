import type { ApplicationFailure } from '@temporalio/common';
import { fatal, transient } from '../../contracts/failures.ts';
import { sleep } from '../context.ts';
import type { ActivityDeps } from '../deps.ts';
import { runTool, type RunToolOptions, type ToolResult } from '../exec/run-tool.ts';

/**
 * Running helm/kubectl/cilium and classifying what went wrong. Network-shaped failures (the apiserver not up
 * yet, a TLS handshake timeout, a dropped connection) are transient; everything else is fatal unless the
 * caller recognises it first.
 */
const TRANSIENT = [
  /connection refused/i,
  /TLS handshake timeout/i,
  /i\/o timeout/i,
  /Kubernetes cluster unreachable/i,
  /Unable to connect to the server/i,
  /connection reset by peer/i,
  /no route to host/i,
  /\bunexpected EOF\b/i,
  /ServiceUnavailable|the server is currently unable to handle the request/i,
  /etcdserver: (request timed out|leader changed)/i,
  /another operation \(install\/upgrade\/rollback\) is in progress/i,
];

export const looksTransient = (r: ToolResult) => r.timedOut || TRANSIENT.some((p) => p.test(r.stderr));

const lastLines = (text: string, n = 3) => text.trim().split('\n').filter(Boolean).slice(-n).join(' | ');

export function classify(r: ToolResult, what: string, hint?: string): ApplicationFailure {
  if (r.exitCode === 127) return fatal(`${what}: ${r.command.split(' ')[0]} is not installed`, hint ?? 'install the pinned tool or put the lab tools first on PATH');
  const detail = r.timedOut ? `timed out after ${r.durationMs} ms` : lastLines(r.stderr) || `exit ${r.exitCode}`;
  if (looksTransient(r)) return transient(`${what}: ${detail}`);
  return fatal(`${what}: ${detail}`, hint);
}

export interface CallOptions extends RunToolOptions {
  /** read-only calls may be retried in place on transient failures (default 2 retries) */
  retries?: number;
}

/** A tool call; read-only callers pass `retries` so one flaky answer does not fail the whole activity. */
export async function callTool(deps: Pick<ActivityDeps, 'tools'>, tool: string, args: string[], opts: CallOptions = {}): Promise<ToolResult> {
  const retries = opts.retries ?? 0;
  for (let attempt = 0; ; attempt++) {
    const r = await runTool(deps.tools, tool, args, { timeoutMs: 60_000, ...opts });
    if (r.exitCode === 0 || attempt >= retries || !looksTransient(r) || r.cancelled) return r;
    await sleep(200 * (attempt + 1));
  }
}

/** Parses a tool's JSON stdout, naming the command when it is not JSON (a contract break, so fatal). */
export function parseJson<T = unknown>(r: ToolResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw fatal(`${r.command} printed something that is not JSON: ${r.stdout.slice(0, 120)}`, 'check the tool version against the pinned one');
  }
}
