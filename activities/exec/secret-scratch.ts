import { lstatSync, mkdirSync, readdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRunning, processToken } from './proc.ts';

/**
 * Where a secret lives for the length of one tool call when the tool insists on a path (talosctl
 * `--talosconfig`, `gen secrets -o`, `gen config -o`, KUBECONFIG, openssl `-keyout`): a private directory on a
 * RAM-backed file system, never on a disk. Layout: `<base>/meshpilot-<uid>/<identity>/<worker pid>-<start time>/`,
 * 0700 all the way down; every call gets its own subdirectory, removed in `finally`. A worker killed mid-call
 * leaves its directory in RAM only, and the next worker of the same identity on the host removes it at start
 * (sweepSecretScratch). Helm values with key material do not come here at all: they go through stdin.
 *
 * The base is MESHPILOT_SECRET_TMPDIR when set, else /dev/shm, else $XDG_RUNTIME_DIR — whichever is a tmpfs.
 * Without one (not Linux) it falls back to the OS temp dir and says so once, in the worker's start-up log.
 */
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

export const SECRET_TMPDIR_ENV = 'MESHPILOT_SECRET_TMPDIR';

function ramBacked(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    const type = statfsSync(dir).type;
    return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

export interface ScratchBase {
  dir: string;
  ramBacked: boolean;
  /** set when the base is not RAM-backed: why, for the worker's start-up log */
  warning?: string;
}

export function scratchBase(env: NodeJS.ProcessEnv = process.env): ScratchBase {
  const configured = env[SECRET_TMPDIR_ENV];
  if (configured) {
    const ram = ramBacked(configured);
    return { dir: configured, ramBacked: ram, ...(ram ? {} : { warning: `${SECRET_TMPDIR_ENV}=${configured} is not a tmpfs: secrets handed to tools as files touch a disk` }) };
  }
  for (const dir of ['/dev/shm', env.XDG_RUNTIME_DIR]) if (dir && ramBacked(dir)) return { dir, ramBacked: true };
  return {
    dir: os.tmpdir(),
    ramBacked: false,
    warning: `no RAM-backed directory (/dev/shm, $XDG_RUNTIME_DIR) on this host: secrets handed to tools as files go to ${os.tmpdir()}; set ${SECRET_TMPDIR_ENV} to a tmpfs`,
  };
}

const userDir = (base: string) => path.join(base, `meshpilot-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`);
/** The identity of a worker that was given none, as in Temporal's worker list: `meshpilot@<host>`. */
export const defaultIdentity = () => `meshpilot@${os.hostname()}`;

/** A worker identity (`meshpilot-usa@host`) as one safe path segment. */
export const identityDirName = (identity: string) => identity.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'meshpilot';

let root: { dir: string; base: ScratchBase } | undefined;
let exitHook = false;

/**
 * This process's scratch root, created on first use (workers call it at start with their identity; adapters
 * used outside a worker get the default identity).
 */
export function secretScratchRoot(opts: { identity?: string; env?: NodeJS.ProcessEnv } = {}): { dir: string; base: ScratchBase } {
  if (root) return root;
  const base = scratchBase(opts.env);
  root = { dir: createScratchDir(base.dir, opts.identity ?? defaultIdentity()), base };
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      if (root) rmSync(root.dir, { recursive: true, force: true });
    });
  }
  return root;
}

/** `<base>/meshpilot-<uid>/<identity>/<this process>/`, 0700, after checking that the per-user level is ours alone. */
export function createScratchDir(base: string, identity: string): string {
  // 0700 on the per-user and per-identity levels too: other users on the host do not even see the names
  mkdirSync(userDir(base), { recursive: true, mode: 0o700 });
  assertPrivate(userDir(base));
  const dir = path.join(userDir(base), identityDirName(identity), processToken());
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** /dev/shm is shared by every user: a per-user directory someone else created (or opened up) is refused. */
function assertPrivate(dir: string): void {
  const st = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} must be a directory owned by this user with mode 0700 (it holds secrets for tool calls); remove it or set ${SECRET_TMPDIR_ENV}`);
  }
}

/** A private directory for one tool call's secret files, removed when fn settles. */
export async function withSecretDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const scratch = secretScratchRoot().dir;
  // recreated when something removed it under a running process (a test's cleanup)
  mkdirSync(scratch, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(scratch, 'call-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes one secret to a 0600 file for the length of fn. */
export function withSecretFile<T>(name: string, value: Buffer | string, fn: (file: string) => Promise<T>): Promise<T> {
  return withSecretDir(async (dir) => {
    const file = path.join(dir, path.basename(name));
    await writeFile(file, value, { mode: 0o600 });
    return fn(file);
  });
}

/** Removes this process's scratch root (clean worker exit). */
export function closeSecretScratch(): void {
  if (root) rmSync(root.dir, { recursive: true, force: true });
  root = undefined;
}

/**
 * Removes the scratch directories of workers of this identity that are gone (killed mid-call). Directories of
 * live workers (another worker of the same identity on this host) are left alone.
 */
export function sweepSecretScratch(opts: { identity?: string; env?: NodeJS.ProcessEnv } = {}): { removed: string[] } {
  const dir = path.join(userDir(scratchBase(opts.env).dir), identityDirName(opts.identity ?? defaultIdentity()));
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return { removed };
  }
  for (const owner of entries) {
    if (owner === processToken() || isRunning(owner)) continue;
    rmSync(path.join(dir, owner), { recursive: true, force: true });
    removed.push(owner);
  }
  return { removed };
}
