import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { projectRoot } from '../../config/env.ts';

/** Live processes (zombies excluded) whose environment or command line satisfies `match`. */
export function processesWhere(match: (p: { pid: number; environ: string; cmdline: string }) => boolean): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) continue;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (match({ pid, environ, cmdline })) out.push(pid);
    } catch {
      // gone already, or not ours to read
    }
  }
  return out;
}

/** The simulated tools running against this lab (tool processes or shims: the lab dir is in their environment). */
export const labToolPids = (labDir: string) => processesWhere((p) => p.environ.includes(`MESHPILOT_LAB_DIR=${labDir}\0`));

/** The command lines of processes still running, for assertion messages. */
export function describePids(pids: number[]): string[] {
  return pids.map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
    } catch {
      return `${pid}: (gone)`;
    }
  });
}

/** Polls (bounded) until `pids()` is empty; returns what is left at the deadline (empty when all are gone). */
export async function untilNone(pids: () => number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let left = pids();
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = pids();
  }
  return left;
}

/** Polls (bounded) until `pids()` finds something; returns it (empty at the deadline). */
export async function untilSome(pids: () => number[], withinMs: number): Promise<number[]> {
  const deadline = Date.now() + withinMs;
  let found = pids();
  while (!found.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    found = pids();
  }
  return found;
}

/** `meshpilot worker` as its own process (what a supervisor runs), with stderr collected. */
export function spawnMeshpilotWorker(env: NodeJS.ProcessEnv, args: string[] = ['--lab']): { child: ResultPromise; stderr: () => string; ready: Promise<void> } {
  const child = execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), 'worker', ...args], {
    env,
    extendEnv: false,
    reject: false,
    stdout: 'ignore',
    // the tests decide when a worker dies; execa must not SIGKILL one that takes its time to stop
    forceKillAfterDelay: false,
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/worker polling task queue/.test(err)) {
        child.stderr!.off('data', check);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    void child.then(() => reject(new Error(`the worker exited before polling: ${err.slice(-2000)}`)));
  });
  ready.catch(() => undefined);
  return { child, stderr: () => err, ready };
}
