import { readFileSync } from 'node:fs';

/**
 * Just enough of /proc to tell a process from a later one that reuses its pid: the start time (field 22 of
 * /proc/PID/stat, clock ticks since boot) never changes for a process and differs for any later one.
 * Off Linux there is no /proc; every function answers "unknown" and callers fall back to plain pids.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/** A stable identity for a running process: pid plus start time (`1234-98765`), or just the pid off Linux. */
export function processToken(pid = process.pid): string {
  const start = processStartTime(pid);
  return start ? `${pid}-${start}` : String(pid);
}

/** Whether the process a token names is still the one running under that pid. */
export function isRunning(token: string): boolean {
  const [pidText, start] = token.split('-');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (start !== undefined) return processStartTime(pid) === start;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends a signal to a whole process group; false when no process is left in it. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
