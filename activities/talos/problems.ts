import type { ApplicationFailure } from '@temporalio/common';
import { blocked, fatal, transient } from '../../contracts/failures.ts';
import type { ToolResult } from '../exec/run-tool.ts';

/**
 * What a failed talosctl call means, read from its stderr. The texts are talosctl v1.9's: gRPC status errors as
 * grpc-go prints them (`rpc error: code = … desc = …`), the maintenance service's refusals
 * (siderolabs/talos@v1.9.5 internal/app/maintenance/server.go), bootstrap's (internal/app/machined/internal/server/
 * v1alpha1/v1alpha1_server.go Bootstrap), the client's (cmd/talosctl/pkg/talos/global/client.go), and
 * go-multierror's "N error(s) occurred:" from config validation (pkg/machinery/config/types/v1alpha1/
 * v1alpha1_validation.go); lab/talos/rpc-errors.ts reproduces them, and test/conformance/talos.test.ts holds the
 * offline ones to the real talosctl.
 */
export type TalosProblem =
  | 'missing-tool'
  | 'timeout'
  | 'unreachable' // nothing answers on :50000 (powered off, rebooting, cabling) or the dial timed out
  | 'untrusted' // x509 unknown authority: the node is in maintenance or runs another secrets bundle's config
  | 'configured' // the insecure (maintenance) client reached a node that already has a config
  | 'not-ready' // bootstrap not available yet, time not in sync, etcd not up yet
  | 'already-exists'
  | 'no-endpoints'
  | 'invalid-config'
  | 'other';

export function talosProblem(r: ToolResult): TalosProblem {
  const e = r.stderr;
  if (r.timedOut) return 'timeout';
  if (r.exitCode === 127 || /command not found/.test(e)) return 'missing-tool';
  if (/connect: connection refused|i\/o timeout|no route to host|connection reset by peer|code = Unavailable desc = connection closed/.test(e)) return 'unreachable';
  if (/x509: certificate signed by unknown authority/.test(e)) return 'untrusted';
  if (/tls: certificate required|tls: bad certificate/.test(e)) return 'configured';
  if (/code = AlreadyExists/.test(e)) return 'already-exists';
  if (/not available yet|time is not in sync|code = DeadlineExceeded|context deadline exceeded/.test(e)) return 'not-ready';
  if (/failed to determine endpoints|nodes are not set for the command/.test(e)) return 'no-endpoints';
  if (/code = InvalidArgument|configuration validation failed|error occurred:|errors occurred:/.test(e)) return 'invalid-config';
  return 'other';
}

/** The last meaningful stderr line (already redacted by runTool). */
export const stderrTail = (r: ToolResult) => r.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 500);

/** How many attempts an unreachable node gets as a transient fault before the step reports blocked. */
export const UNREACHABLE_TRANSIENT_ATTEMPTS = 3;

export function unreachableFailure(attempt: number, nodeName: string, address: string, r: ToolResult): ApplicationFailure {
  if (attempt < UNREACHABLE_TRANSIENT_ATTEMPTS) return transient(`node ${nodeName} (${address}) did not answer (attempt ${attempt}): ${stderrTail(r)}`);
  return blocked({
    reason: `Node ${nodeName} (${address}) does not answer on the Talos API (port 50000)`,
    hint: `Check that ${nodeName} is powered on (BMC) and booted into Talos maintenance mode, and its cable, switch port and VLAN reach ${address}; then resume.`,
    evidence: { node: nodeName, address, attempts: attempt, error: stderrTail(r) },
  });
}

/** The default classification: which failure crosses the activity boundary for a problem. */
export function talosFailure(what: string, r: ToolResult): ApplicationFailure {
  const p = talosProblem(r);
  const tail = stderrTail(r);
  switch (p) {
    case 'missing-tool':
      return fatal(`${what}: talosctl is not on the worker's PATH`, 'install talosctl v1.9 on the worker host (or run with --lab)');
    case 'no-endpoints':
      return fatal(`${what}: talosctl has no endpoint to dial (${tail})`, 'this is a meshpilot bug: every call must pass -e and -n');
    case 'invalid-config':
      return fatal(`${what}: Talos rejected the machine config: ${tail}`, "fix the blueprint's Talos patches, then start the rollout again");
    case 'untrusted':
      return blocked({
        reason: `${what}: the node does not trust this cluster's talosconfig (x509: certificate signed by unknown authority)`,
        hint: 'The node runs a machine config from another secrets bundle (or was reset to maintenance). Reset the node, or restore the original Talos secrets in the secret store, then resume.',
        evidence: { error: tail },
      });
    default:
      return transient(`${what}: ${r.timedOut ? 'timed out' : tail || `exit ${r.exitCode}`}`);
  }
}
