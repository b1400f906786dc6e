import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { isRunning, processStartTime, processToken, signalGroup } from './proc.ts';

/** An activity attempt a worker was running: enough for its successor to end the attempt at once (crash-recovery.ts). */
export interface RunningAttempt {
  /** the attempt's task token, base64 */
  taskToken: string;
  workflowId: string;
  runId: string;
  activityType: string;
}

/**
 * What one worker process has running, kept in a pid file (`<dir>/<worker pid>-<start time>.pids`), so that the
 * next worker of the same identity can clean up after a worker killed with SIGKILL: the process groups of its tool
 * children (to kill what the parent-death signal did not reach, see parent-death.ts) and its activity attempts
 * (to fail them at once instead of waiting for their heartbeat timeout).
 *
 * The file is append-only while the worker runs (`+PGID START` when a tool starts, `-PGID` when its group is
 * gone; `a+{attempt}` / `a-TOKEN` around each activity attempt): short writes, compacted when the file grows,
 * removed on a clean exit.
 */
export class ProcessLedger {
  private readonly live = new Map<number, string>();
  private readonly attempts = new Map<string, RunningAttempt>();
  private fd: number;
  private lines = 0;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.fd = openSync(file, 'a', 0o600);
  }

  /** Records a tool's process group (the child is its leader: pgid = pid). */
  started(pgid: number): void {
    const start = processStartTime(pgid) ?? '0';
    this.live.set(pgid, start);
    this.write(`+${pgid} ${start}\n`);
  }

  /** The group is gone (its leader exited and the group was killed). */
  ended(pgid: number): void {
    if (!this.live.delete(pgid)) return;
    this.write(`-${pgid}\n`);
    if (this.lines > 10_000) this.compact();
  }

  groups(): number[] {
    return [...this.live.keys()];
  }

  attemptStarted(a: RunningAttempt): void {
    this.attempts.set(a.taskToken, a);
    this.write(`a+${JSON.stringify(a)}\n`);
  }

  attemptEnded(taskToken: string): void {
    if (!this.attempts.delete(taskToken)) return;
    this.write(`a-${taskToken}\n`);
    if (this.lines > 10_000) this.compact();
  }

  /** Last resort on process exit: SIGKILL every group still running (synchronous, as exit handlers must be). */
  killAll(): void {
    for (const pgid of this.live.keys()) signalGroup(pgid, 'SIGKILL');
  }

  /** Clean exit: every tool has ended (or is killed now); nothing is left for a sweep. */
  close(): void {
    this.killAll();
    this.live.clear();
    this.attempts.clear();
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(this.file);
    } catch {
      // never created or already removed
    }
  }

  private write(line: string): void {
    try {
      writeSync(this.fd, line);
      this.lines += 1;
    } catch {
      // the data dir went away under us (a test removed it): the parent-death signal still covers the children
    }
  }

  private compact(): void {
    const tmp = `${this.file}.tmp`;
    const lines = [...[...this.live].map(([pgid, start]) => `+${pgid} ${start}\n`), ...[...this.attempts.values()].map((a) => `a+${JSON.stringify(a)}\n`)];
    writeFileSync(tmp, lines.join(''), { mode: 0o600 });
    renameSync(tmp, this.file);
    closeSync(this.fd);
    this.fd = openSync(this.file, 'a', 0o600);
    this.lines = lines.length;
  }
}

/** The groups a ledger file says were still running: `+` lines not followed by their `-` line. */
export function groupsIn(text: string): Map<number, string> {
  return parseLedger(text).groups;
}

function parseLedger(text: string): { groups: Map<number, string>; attempts: Map<string, RunningAttempt> } {
  const groups = new Map<number, string>();
  const attempts = new Map<string, RunningAttempt>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('a+')) {
      try {
        const a = JSON.parse(line.slice(2)) as RunningAttempt;
        if (typeof a.taskToken === 'string' && typeof a.workflowId === 'string') attempts.set(a.taskToken, a);
      } catch {
        // a line cut short by the crash
      }
    } else if (line.startsWith('a-')) attempts.delete(line.slice(2));
    else {
      const m = /^([+-])(\d+)(?: (\d+))?$/.exec(line);
      if (!m) continue;
      if (m[1] === '+') groups.set(Number(m[2]), m[3] ?? '0');
      else groups.delete(Number(m[2]));
    }
  }
  return { groups, attempts };
}

export interface SweepResult {
  /** ledgers of workers that are gone */
  ledgers: number;
  /** process groups signalled (some may have been empty already) */
  killed: number[];
  /** activity attempts the dead workers were running */
  attempts: RunningAttempt[];
}

/**
 * Kills what workers that are no longer running left behind: for every ledger in `dir` whose owner (named by the
 * file) is gone, SIGKILL each recorded group, then remove the ledger. A live owner (another worker of the same
 * identity on this host) is left alone. A recorded leader that still runs with its recorded start time is ours; one
 * whose pid now belongs to a later process means our group emptied and the number was reused (a pid stays reserved
 * while any process of its group lives), so it is skipped; an absent leader may still have group members, which
 * kill(-pgid) reaches.
 */
export function sweepLedgers(dir: string, ownToken = processToken()): SweepResult {
  const result: SweepResult = { ledgers: 0, killed: [], attempts: [] };
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.pids'));
  } catch {
    return result;
  }
  for (const f of files) {
    const owner = f.slice(0, -'.pids'.length);
    if (owner === ownToken || isRunning(owner)) continue;
    const file = path.join(dir, f);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const { groups, attempts } = parseLedger(text);
    for (const [pgid, start] of groups) {
      const now = processStartTime(pgid);
      if (now !== undefined && start !== '0' && now !== start) continue;
      if (signalGroup(pgid, 'SIGKILL')) result.killed.push(pgid);
    }
    result.attempts.push(...attempts.values());
    result.ledgers += 1;
    try {
      unlinkSync(file);
    } catch {
      // removed by a concurrent sweep
    }
  }
  return result;
}

let current: ProcessLedger | undefined;
let exitHook = false;

/**
 * Opens this worker process's ledger in `dir` (once per process; later calls return the same ledger) and makes
 * sure every recorded group is killed whenever the process exits through Node (process.exit, an uncaught error).
 */
export function openProcessLedger(dir: string): ProcessLedger {
  if (current) return current;
  current = new ProcessLedger(path.join(dir, `${processToken()}.pids`));
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => current?.killAll());
  }
  return current;
}

/** The ledger of this process, when a worker opened one (tests that call adapters directly have none). */
export function processLedger(): ProcessLedger | undefined {
  return current;
}

/** Closes this process's ledger (clean worker exit). */
export function closeProcessLedger(): void {
  current?.close();
  current = undefined;
}
