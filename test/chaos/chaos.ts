// The chaos run behind test/e2e/chaos.test.ts and `npm run chaos`: a lab rollout served by real `meshpilot worker`
// processes that run one process per simulated call, SIGKILLed by the lab's crashWorker fault at seeded points —
// just after each kind of effect, and in the middle of calls — and replaced each time.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { secretRefs } from '../../activities/deps.ts';
import { identityDirName, scratchBase } from '../../activities/exec/secret-scratch.ts';
import { secretValuesOf } from '../../activities/talos/secret-files.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { projectRoot } from '../../config/env.ts';
import { siteTaskQueue } from '../../contracts/names.ts';
import type { RolloutView } from '../../contracts/status.ts';
import { readCalls, type CallRecord } from '../../lab/call-log.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { readLabState, withLabState, type LabState } from '../../lab/state.ts';
import { nodeRecord } from '../../lab/talos/node-record.ts';
import type { CrashPoint } from '../../lab/tools/main.ts';
import { parse } from 'yaml';
import { EncryptedFileSecretStore, keyFromString } from '../../secrets/encrypted-file-store.ts';
import { describePids, labToolPids, spawnMeshpilotWorker, untilNone } from '../helpers/processes.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';

/** mulberry32: a tiny seeded PRNG, so a failing seed replays the same kill points. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Method = 'helm' | 'cilium-connect';

/** A kind of kill point and the nth calls it may pick: calls that happen at least that often in any run. */
type Kind = Omit<CrashPoint, 'nth'> & { range: [number, number] };

/**
 * Where a kill can land in the seed's two-cluster rollout (four nodes per cluster): just after each kind of
 * effect, and in the middle of calls. Retries only add calls, so every nth in a range is reached. `helm upgrade`
 * calls 1–4 are the installs and the clustermesh enables; with the helm method 5–6 are the connects.
 */
function kinds(method: Method): { effects: Kind[]; midCall: Kind[] } {
  const k = (when: CrashPoint['when'], tool: string, args: string[], range: [number, number]): Kind => ({ tool, args, when, range });
  return {
    effects: [
      k('after', 'talosctl', ['gen', 'secrets'], [1, 2]),
      k('after', 'talosctl', ['gen', 'config'], [1, 2]),
      k('after', 'talosctl', ['apply-config'], [1, 8]),
      k('after', 'talosctl', ['bootstrap'], [1, 2]),
      k('after', 'talosctl', ['kubeconfig'], [1, 2]),
      k('after', 'helm', ['upgrade'], [1, 4]),
      k('after', 'kubectl', ['apply'], [1, 2]),
      method === 'cilium-connect' ? k('after', 'cilium', ['clustermesh', 'connect'], [1, 1]) : k('after', 'helm', ['upgrade'], [5, 6]),
    ],
    midCall: [
      k('before', 'talosctl', ['apply-config'], [1, 8]),
      k('before', 'helm', ['upgrade'], [1, 4]),
      k('before', 'talosctl', ['get', 'machinestatus'], [1, 8]),
      k('before', 'cilium', ['status'], [1, 2]),
    ],
  };
}

const sameCall = (a: CrashPoint, b: CrashPoint) => a.tool === b.tool && a.when === b.when && a.nth === b.nth && a.args.join(' ') === b.args.join(' ');

/** One point just after each kind of effect, then mid-call points up to `total`, the nth of each drawn from the seed. */
export function crashPoints(seed: number, total: number, method: Method): CrashPoint[] {
  const rand = prng(seed);
  const draw = ({ range: [lo, hi], ...p }: Kind): CrashPoint => ({ ...p, nth: lo + Math.floor(rand() * (hi - lo + 1)) });
  const { effects, midCall } = kinds(method);
  const points = effects.map(draw);
  while (points.length < total) {
    const p = draw(midCall[Math.floor(rand() * midCall.length)]!);
    // two points on the same call would be one kill
    if (!points.some((q) => sameCall(p, q))) points.push(p);
  }
  return points;
}

export interface ChaosReport {
  seed: number;
  method: Method;
  points: CrashPoint[];
  kills: number;
  /** per kill: ms from the worker's death until no tool process of the lab was left */
  orphanCleanupMs: number[];
  final: RolloutView;
  lab: LabState;
  calls: CallRecord[];
  /** secret values found on disk at the end, with where (must be empty) */
  secretsOnDisk: string[];
  /** entries left in the workers' RAM-backed secret scratch at the end (must be empty) */
  scratchLeft: string[];
  /** tool processes found alive 2 s after a kill (must be empty) */
  orphans: string[];
  /** per cluster: the OS CA of the one stored Talos secrets bundle, and the OS CA each node's applied config carries */
  talosCa: Record<string, { bundle: string; nodes: Record<string, string | undefined> }>;
  durationMs: number;
}

/** Files under dir, recursively (skipping `skip` paths). */
function filesUnder(dir: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = path.join(dir, name);
    if (skip(p)) continue;
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) out.push(...filesUnder(p, skip));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Every secret value in the store, plus the PEM body lines inside base64-encoded keys and certificates. */
async function secretNeedles(dataDir: string, key: string): Promise<string[]> {
  const store = new EncryptedFileSecretStore(path.join(dataDir, 'secrets'), keyFromString(key));
  const root = path.join(dataDir, 'secrets');
  const needles = new Set<string>();
  for (const f of filesUnder(root).filter((p) => p.endsWith('.enc'))) {
    const text = (await store.get(path.relative(root, f).slice(0, -'.enc'.length))).toString('utf8');
    for (const v of secretValuesOf(text)) {
      needles.add(v);
      const decoded = Buffer.from(v, 'base64').toString('utf8');
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(decoded)) {
        for (const line of decoded.split('\n')) if (line.length >= 40 && !line.startsWith('-----')) needles.add(line.trim());
      }
    }
  }
  return [...needles];
}

export async function runChaos(client: Client, opts: { seed: number; points: number; method: Method; address: string; log?: (l: string) => void }): Promise<ChaosReport> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-chaos-'));
  const tmpDir = path.join(dataDir, 'tmp');
  mkdirSync(tmpDir);
  const labDir = path.join(dataDir, 'lab');
  const blueprint = path.join(dataDir, 'blueprint.yaml');
  writeFileSync(blueprint, readFileSync(path.join(projectRoot, 'examples', 'usa-europe.yaml'), 'utf8').replace(/^(\s+method:) helm$/m, `$1 ${opts.method}`));
  const plan = await planFromFile(blueprint);
  plan.revision = `${plan.revision}-${randomUUID().slice(0, 6)}`;
  // a little latency per call, so parallel calls overlap and a kill always finds tools running
  createLab(labDir, fleetFromPlan(plan), { scenario: 'happy', toolLatencyMs: 300 });
  // points: 0 is an undisturbed run (the baseline the assertions compare with)
  const points = opts.points > 0 ? crashPoints(opts.seed, opts.points, opts.method) : [];
  await withLabState(labDir, (s) => {
    s.faults.crashWorker = points;
  });
  const site = `chaos-${randomUUID().slice(0, 8)}`;
  const key = randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: tmpDir,
    TEMPORAL_ADDRESS: opts.address,
    MESHPILOT_DATA_DIR: dataDir,
    MESHPILOT_SITE: site,
    MESHPILOT_SECRET_KEY: key,
    MESHPILOT_LAB_PROCESS_PER_CALL: '1',
    MESHPILOT_LOG_LEVEL: 'warn',
    ...(process.env.MESHPILOT_CACHE_DIR ? { MESHPILOT_CACHE_DIR: process.env.MESHPILOT_CACHE_DIR } : {}),
  };
  const { workflowId } = await start(client, plan, siteTaskQueue(site));
  let finished: RolloutView | undefined;
  const done = waitFor(client, workflowId, isFinished, 30 * 60_000).then((v) => (finished = v));
  done.catch(() => undefined);
  let kills = 0;
  const orphanCleanupMs: number[] = [];
  const orphans: string[] = [];
  for (let worker = 1; ; worker++) {
    const w = spawnMeshpilotWorker(env);
    const spawnedAt = Date.now();
    void w.ready.then(() => log(`worker ${worker} polling after ${Date.now() - spawnedAt} ms`), () => undefined);
    const outcome = await Promise.race([w.child.then((r) => ({ exited: r })), done.then(() => ({ exited: undefined }))]);
    if (!outcome.exited) {
      w.child.kill('SIGTERM');
      const r = await w.child;
      if (r.exitCode !== 0) throw new Error(`the last worker did not stop cleanly (${r.exitCode ?? r.signal}): ${w.stderr().slice(-2000)}`);
      break;
    }
    const r = outcome.exited;
    const diedAt = Date.now();
    if (r.signal !== 'SIGKILL') throw new Error(`worker ${worker} exited on its own (${r.exitCode ?? r.signal}): ${w.stderr().slice(-2000)}`);
    kills += 1;
    // the parent-death signal: nothing the dead worker started may still run 2 s later
    const left = await untilNone(() => labToolPids(labDir), 2_000);
    orphanCleanupMs.push(Date.now() - diedAt);
    orphans.push(...describePids(left));
    const last = (readLabState(labDir).faults.crashWorker as CrashPoint[]).filter((p) => p.firedAt !== undefined).sort((a, b) => b.firedAt! - a.firedAt!)[0];
    log(`kill ${kills} (${Math.round((diedAt - started) / 1000)} s): ${last ? `${last.when} ${last.tool} ${last.args.join(' ')} #${last.nth}` : '?'}; no tool left after ${orphanCleanupMs.at(-1)} ms`);
    if (finished) break;
  }
  const final = finished ?? (await done);
  // secrets: nothing anywhere under the data dir (the lab's state.json is the simulated machines' own disks), the
  // workers' TMPDIR (inside it), or left in the identity's RAM-backed scratch
  const needles = await secretNeedles(dataDir, key);
  const secretsOnDisk: string[] = [];
  for (const f of filesUnder(dataDir, (p) => p.startsWith(path.join(labDir, 'state.json')))) {
    const text = readFileSync(f).toString('latin1');
    for (const n of needles) if (text.includes(n)) secretsOnDisk.push(`${path.relative(dataDir, f)}: ${n.slice(0, 12)}…`);
  }
  const store = new EncryptedFileSecretStore(path.join(dataDir, 'secrets'), keyFromString(key));
  const lab = readLabState(labDir);
  const talosCa: ChaosReport['talosCa'] = {};
  for (const c of plan.clusters) {
    const bundle = parse((await store.get(secretRefs.talosSecrets(plan.mesh, c.name))).toString('utf8')) as { certs: { os: { crt: string } } };
    talosCa[c.name] = {
      bundle: createHash('sha256').update(bundle.certs.os.crt).digest('hex'),
      nodes: Object.fromEntries(c.nodes.map((n) => [n.name, nodeRecord(lab, n.address)?.osCaSha])),
    };
  }
  const scratch = path.join(scratchBase(env).dir, `meshpilot-${process.getuid!()}`, identityDirName(`meshpilot-${site}@${os.hostname()}`));
  const scratchLeft = filesUnder(scratch).concat(readdirSafe(scratch));
  return {
    seed: opts.seed,
    method: opts.method,
    points: readLabState(labDir).faults.crashWorker as CrashPoint[],
    kills,
    orphanCleanupMs,
    final,
    lab,
    calls: readCalls(labDir),
    secretsOnDisk,
    scratchLeft,
    orphans,
    talosCa,
    durationMs: Date.now() - started,
  };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}
