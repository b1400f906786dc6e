import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Tool processes must die with the worker however the worker dies — SIGKILL and OOM included, where no
 * handler of ours runs. Linux does that for us with a parent-death signal (prctl PR_SET_PDEATHSIG): util-linux
 * `setpriv --pdeathsig KILL -- TOOL ARGS…` sets it and then execs the tool, so the tool keeps setpriv's pid
 * (and its process group) and the kernel sends it SIGKILL the moment the worker is gone. The signal survives
 * exec (it is only cleared for set-user-ID programs, which no tool of ours is).
 *
 * Not covered by the signal, hence the worker's start-up sweep (process-ledger.ts): grandchildren a tool
 * forked itself, and a worker that dies in the instant between fork and prctl.
 */
let resolved: { setpriv?: string; why?: string } | undefined;

/**
 * The command prefix that gives a child the parent-death signal, or [] where that is not possible (with why).
 *
 * The kernel only signals a death that happens after the prctl; a worker killed between fork and prctl would leave
 * the tool running. So the prefix does not exec the tool directly: a POSIX shell, started after the prctl, first
 * checks that its parent is still this process ($PPID is read at start-up) and exits 137 otherwise.
 */
export function parentDeathPrefix(): { prefix: string[]; why?: string } {
  resolved ??= resolveSetpriv();
  if (!resolved.setpriv) return { prefix: [], why: resolved.why };
  const guard = `[ "$PPID" = ${process.pid} ] || exit 137; exec "$@"`;
  return { prefix: [resolved.setpriv, '--pdeathsig', 'KILL', '--', '/bin/sh', '-c', guard, 'meshpilot-tool'] };
}

function resolveSetpriv(): { setpriv?: string; why?: string } {
  if (process.platform !== 'linux') return { why: `no parent-death signal on ${process.platform}` };
  const setpriv = findExecutable('setpriv', process.env.PATH ?? '') ?? ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutable);
  if (!setpriv) return { why: 'setpriv (util-linux) is not installed' };
  if (!isExecutable('/bin/sh')) return { why: 'no /bin/sh to check the parent after the prctl' };
  // --pdeathsig exists since util-linux 2.33 (2018); an older setpriv refuses the option
  const probe = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', ':'], { stdio: 'ignore', timeout: 10_000 });
  if (probe.status !== 0) return { why: `${setpriv} does not support --pdeathsig (util-linux >= 2.33 needed)` };
  return { setpriv };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Resolves a command like execvp would (a name with a slash is taken as a path), or undefined when not found. */
export function findExecutable(file: string, searchPath: string, cwd = process.cwd()): string | undefined {
  if (file.includes('/')) {
    const abs = path.resolve(cwd, file);
    return isExecutable(abs) ? abs : undefined;
  }
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(cwd, dir, file);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}
