import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';

/**
 * The simulated fleet's state: one JSON file in the lab directory, read-modify-written under a file lock,
 * so concurrent tool processes (parallel clusters) never lose an update.
 *
 * Extend with optional fields only; every tool module reads the same file.
 */
export const labNodeSchema = z.object({
  name: z.string(),
  address: z.string(),
  site: z.string(),
  cluster: z.string(),
  role: z.enum(['controlplane', 'worker']),
  installDisk: z.string(),
  /** off → (boot) → maintenance → (apply-config) → installing → running; running → (talosctl upgrade) → upgrading → rebooting → running */
  stage: z.enum(['off', 'booting', 'maintenance', 'installing', 'upgrading', 'rebooting', 'running']),
  stageSince: z.number(),
  /** false = the node never answers (cable, switch port, wrong VLAN). */
  reachable: z.boolean().default(true),
  labels: z.record(z.string(), z.string()).default({}),
  appliedConfigSha: z.string().optional(),
  etcdMemberId: z.string().optional(),
});
export type LabNode = z.infer<typeof labNodeSchema>;

export const labClusterSchema = z.object({
  name: z.string(),
  endpoint: z.string(),
  /** set by `talosctl bootstrap` on the first control-plane node */
  bootstrappedAt: z.number().optional(),
  bootstrapCount: z.number().default(0),
  /** kube API objects keyed `apiVersion|kind|namespace|name` (namespace '' for cluster-scoped) */
  kube: z.record(z.string(), z.any()).default({}),
  /** helm releases keyed `namespace/name` */
  helm: z.record(z.string(), z.any()).default({}),
  extra: z.record(z.string(), z.any()).default({}),
});
export type LabCluster = z.infer<typeof labClusterSchema>;

export const labStateSchema = z.object({
  version: z.literal(1),
  scenario: z.string(),
  /** every tool call sleeps this long first (the benchmark's fixed per-call latency) */
  toolLatencyMs: z.number().int().min(0).default(0),
  createdAt: z.number(),
  /** round-trip ms between sites; same site defaults to ~1 ms */
  siteRttMs: z.record(z.string(), z.record(z.string(), z.number())).default({}),
  /** scenario knobs: read by the tool modules (see lab/scenarios.ts) */
  faults: z.record(z.string(), z.any()).default({}),
  nodes: z.record(z.string(), labNodeSchema),
  clusters: z.record(z.string(), labClusterSchema),
  /** per-key call counters (flaky tools, "fail the first N") */
  counters: z.record(z.string(), z.number()).default({}),
});
export type LabState = z.infer<typeof labStateSchema>;

export const LAB_DIR_ENV = 'MESHPILOT_LAB_DIR';

export function labDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[LAB_DIR_ENV];
  if (!dir) throw new Error(`${LAB_DIR_ENV} is not set: the lab tools need the lab directory (meshpilot lab init)`);
  return dir;
}

const stateFile = (dir: string) => path.join(dir, 'state.json');

export const labExists = (dir: string): boolean => existsSync(stateFile(dir));

/**
 * A long-lived process (the worker's lab tool server) reads the state on every call. Validating the whole fleet
 * each time costs O(fleet) CPU per call, so the text last read or written by this process is kept with its
 * parsed state: when the file still holds exactly that text, the parsed state is reused. Another process
 * writing the file changes the text and the next read parses it again.
 */
interface Cached {
  text: string;
  state: LabState;
}
const cache = new Map<string, Cached>();

/** The cached state itself (callers must not mutate it outside withLabState). */
function loadShared(dir: string): LabState {
  const text = readFileSync(stateFile(dir), 'utf8');
  const hit = cache.get(dir);
  if (hit?.text === text) return hit.state;
  const state = labStateSchema.parse(JSON.parse(text));
  cache.set(dir, { text, state });
  return state;
}

/** The per-call latency knob, read without copying the fleet (every simulated call reads it). */
export function labToolLatencyMs(dir: string): number {
  return loadShared(dir).toolLatencyMs;
}

/** The crash fault's points (lab/tools/main.ts), read like the latency knob: without copying the fleet. */
export function labCrashPoints(dir: string): unknown[] {
  const points = loadShared(dir).faults.crashWorker;
  return Array.isArray(points) ? points : [];
}

/** A snapshot of the fleet: the caller owns it (changes to it are not saved; use withLabState for that). */
export function readLabState(dir: string): LabState {
  return structuredClone(loadShared(dir));
}

function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function save(dir: string, state: LabState): void {
  const text = JSON.stringify(state);
  writeAtomic(stateFile(dir), text);
  cache.set(dir, { text, state });
}

export function writeLabState(dir: string, state: LabState): void {
  mkdirSync(dir, { recursive: true });
  save(dir, labStateSchema.parse(structuredClone(state)));
}

/** Same-process callers queue here instead of polling the file lock. */
const queues = new Map<string, Promise<unknown>>();

/** Runs fn with the state under an exclusive lock and saves what it returns (or the mutated state). */
export async function withLabState<T>(dir: string, fn: (state: LabState) => T | Promise<T>): Promise<T> {
  if (!existsSync(stateFile(dir))) throw new Error(`no lab at ${dir} (run: meshpilot lab init)`);
  const prev = queues.get(dir) ?? Promise.resolve();
  const run = prev.then(() => underFileLock(dir, fn));
  const tail = run.catch(() => undefined);
  queues.set(dir, tail);
  void tail.then(() => {
    if (queues.get(dir) === tail) queues.delete(dir);
  });
  return run;
}

async function underFileLock<T>(dir: string, fn: (state: LabState) => T | Promise<T>): Promise<T> {
  const release = await lockfile.lock(stateFile(dir), {
    retries: { retries: 200, minTimeout: 5, maxTimeout: 50, factor: 1.3 },
    stale: 10_000,
  });
  try {
    const state = loadShared(dir);
    let out: T;
    try {
      out = await fn(state);
    } catch (err) {
      // fn may have changed the shared object halfway: forget it, the file still holds the last saved state.
      cache.delete(dir);
      throw err;
    }
    save(dir, state);
    return out;
  } finally {
    await release();
  }
}
