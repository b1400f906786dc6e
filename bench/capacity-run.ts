// One capacity measurement: N concurrent 2-cluster rollouts on one Temporal server, served by two worker processes
// on one task queue, with the lab in a third process. Everything the table needs comes from /proc (CPU, memory)
// and from the histories the server kept (task waits, workflow-task timeouts, history sizes).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa, type ResultPromise } from 'execa';
import { startRollout } from '../client/rollouts.ts';
import { parseCodecKeys } from '../codec/config.ts';
import { dataConverter } from '../codec/data-converter.ts';
import { projectRoot } from '../config/env.ts';
import { clusterWorkflowId } from '../contracts/names.ts';
import { createLab } from '../lab/fleet.ts';
import { fleetFromPlan } from '../lab/from-blueprint.ts';
import { LAB_SOCKET_ENV } from '../lab/server/tool-server.ts';
import type { MeshRolloutResult } from '../workflows/mesh-rollout.ts';
import type { CapacityBackend } from './capacity-backends.ts';
import { historyFacts, percentile, type HistoryFacts } from './capacity-history.ts';
import { capacityPlans } from './capacity-plan.ts';
import { sampleGroups, type GroupUsage } from './capacity-procs.ts';
import type { CapacityLab } from './capacity-worker.ts';

export interface CapacitySettings {
  toolLatencyMs: number;
  /** how long the run may take before it is cut (the rollouts not finished by then count as not completed) */
  timeoutMs: number;
  /** MESHPILOT_WORKER_* for the two workers */
  workerEnv: Record<string, string>;
}

export interface CapacityRow {
  backend: string;
  n: number;
  /** the MESHPILOT_WORKER_* both workers ran with (absent in runs saved before rows carried it) */
  workerEnv?: Record<string, string>;
  completed: number;
  /** up to 5 rollouts that did not complete: their end state and error (absent in runs saved before) */
  notCompleted?: Array<{ workflowId: string; state: string; error: string }>;
  wallS: number;
  wftTimeouts: { startToClose: number; scheduleToStart: number };
  workflowTaskWaitMs: { p50: number; p99: number; max: number; count: number };
  activityWaitMs: { p50: number; p99: number; max: number; count: number };
  events: { parentMax: number; childMax: number; perRolloutAvg: number };
  /** cpuS includes the tool shims the workers started; orchestrationCpuS is the worker processes alone */
  workers: { peakMemMb: number; cpuS: number; orchestrationCpuS: number };
  server: GroupUsage;
  lab: GroupUsage;
  loadAvg1m: number;
}

const node = (script: string, args: string[], env: NodeJS.ProcessEnv) =>
  execa('node', ['--import', 'tsx', path.join(projectRoot, 'bench', script), ...args], { env, extendEnv: false, reject: false, stdout: 'pipe', stderr: 'inherit', cleanup: true });

/** The first stdout line of a child process, or its failure. */
function firstLine(child: ResultPromise, what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${r.exitCode ?? r.signal}) before it was ready`));
    });
  });
}

async function stopChild(child: ResultPromise): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await child;
  clearTimeout(timer);
}

const summary = (values: number[]) => ({
  p50: percentile(values, 50) ?? 0,
  p99: percentile(values, 99) ?? 0,
  max: values.length ? Math.max(...values) : 0,
  count: values.length,
});

export async function runCapacity(backend: CapacityBackend, n: number, settings: CapacitySettings, log: (m: string) => void): Promise<CapacityRow> {
  const tag = `${Date.now().toString(36)}${backend.name}${n}`;
  const plans = capacityPlans(n, tag);
  const root = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-capacity-'));
  const children: ResultPromise[] = [];
  const codecKeys = `cap:${randomBytes(32).toString('base64')}`;
  const connection = await Connection.connect({ address: backend.address });
  const client = new Client({ connection, namespace: 'default', dataConverter: dataConverter(parseCodecKeys(codecKeys)) });
  try {
    const labDirs: Record<string, string> = {};
    for (const plan of plans) {
      const labDir = path.join(root, 'labs', plan.mesh);
      createLab(labDir, fleetFromPlan(plan), { scenario: 'happy', toolLatencyMs: settings.toolLatencyMs });
      labDirs[plan.mesh] = labDir;
    }
    writeFileSync(path.join(root, 'lab-dirs.json'), JSON.stringify(labDirs));
    const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME, MESHPILOT_CACHE_DIR: process.env.MESHPILOT_CACHE_DIR };
    const lab = node('capacity-lab.ts', [path.join(root, 'lab-dirs.json')], baseEnv);
    children.push(lab);
    const ready = JSON.parse(await firstLine(lab, 'capacity lab', 120_000)) as { socket: string; metrics: Record<string, string> };
    const labs: Record<string, CapacityLab> = Object.fromEntries(plans.map((p) => [p.mesh, { labDir: labDirs[p.mesh]!, metricsUrl: ready.metrics[p.mesh]! }]));
    writeFileSync(path.join(root, 'labs.json'), JSON.stringify(labs));

    const taskQueue = `capacity-${randomUUID()}`;
    const dataDir = path.join(root, 'worker-data');
    mkdirSync(dataDir);
    const workerEnv = {
      ...baseEnv,
      ...settings.workerEnv,
      TEMPORAL_ADDRESS: backend.address,
      MESHPILOT_TASK_QUEUE: taskQueue,
      MESHPILOT_DATA_DIR: dataDir,
      MESHPILOT_SECRET_KEY: randomBytes(32).toString('hex'),
      MESHPILOT_CODEC_KEYS: codecKeys,
      CAPACITY_LABS: path.join(root, 'labs.json'),
      [LAB_SOCKET_ENV]: ready.socket,
    };
    const workers = [node('capacity-worker.ts', [], workerEnv), node('capacity-worker.ts', [], workerEnv)];
    children.push(...workers);
    await Promise.all(workers.map((w, i) => firstLine(w, `worker ${i + 1}`, 300_000)));

    const sampler = sampleGroups({ worker1: [workers[0]!.pid!], worker2: [workers[1]!.pid!], server: backend.serverPids(), lab: [lab.pid!] });
    log(`${backend.name} N=${n}: starting ${n} rollouts`);
    const started = await Promise.all(plans.map((plan) => startRollout(client, { plan, requestedBy: { by: 'bench', via: 'bench' }, taskQueue, bootOverride: 'none' })));
    const errors = new Map<number, string>();
    const outcomes = started.map((s, i) =>
      (client.workflow.getHandle(s.workflowId).result() as Promise<MeshRolloutResult>).catch((err: unknown) => {
        errors.set(i, (err as Error).message);
        return undefined;
      }),
    );
    const results = await Promise.all(
      outcomes.map((o) => Promise.race([o, new Promise<undefined>((r) => setTimeout(() => r(undefined), settings.timeoutMs).unref())])),
    );
    // A result() call that failed (a deadline on a loaded server) says nothing about the rollout: ask the server.
    for (const [i, err] of errors) {
      if (results[i]) continue;
      const d = await client.workflow.getHandle(started[i]!.workflowId).describe().catch(() => undefined);
      if (d?.status.name === 'COMPLETED') results[i] = (await client.workflow.getHandle(started[i]!.workflowId).result().catch(() => undefined)) as MeshRolloutResult | undefined;
      if (!results[i]) errors.set(i, `${d?.status.name ?? 'unknown'}: ${err}`);
    }
    const usage = sampler.stop();
    // A run cut by the time limit must not keep loading the next one.
    await Promise.all(
      started.filter((_, i) => !results[i]).map((st) => client.workflow.getHandle(st.workflowId).terminate('capacity run cut at its time limit').catch(() => undefined)),
    );
    // The result() calls of cut rollouts end with their termination; none may still be retrying when the
    // connection closes (grpc-js throws from a timer then, which ends the process).
    await Promise.race([Promise.all(outcomes), new Promise((r) => setTimeout(r, 300_000).unref())]);
    const loadAvg1m = Number(os.loadavg()[0]!.toFixed(1));
    log(`${backend.name} N=${n}: ${results.filter((r) => r?.state === 'completed').length}/${n} completed; reading ${n * 3} histories`);

    const all: HistoryFacts[] = [];
    let parentMax = 0;
    let childMax = 0;
    let first = Infinity;
    let last = 0;
    let unread = 0;
    let lastError = '';
    for (const [i, s] of started.entries()) {
      try {
        const d = await client.workflow.getHandle(s.workflowId).describe();
        first = Math.min(first, d.startTime.getTime());
        last = Math.max(last, d.closeTime?.getTime() ?? Date.now());
        const parent = historyFacts((await client.workflow.getHandle(s.workflowId).fetchHistory()).events ?? []);
        parentMax = Math.max(parentMax, parent.events);
        all.push(parent);
      } catch (err) {
        unread++;
        lastError = String(err);
      }
      for (const c of plans[i]!.clusters) {
        try {
          const child = historyFacts((await client.workflow.getHandle(clusterWorkflowId(s.workflowId, c.name)).fetchHistory()).events ?? []);
          childMax = Math.max(childMax, child.events);
          all.push(child);
        } catch (err) {
          // a rollout cut before it started this cluster has no child history
          unread++;
          lastError = String(err);
        }
      }
    }
    if (unread) log(`${backend.name} N=${n}: ${unread} of ${n * 3} histories unreadable or never started (last: ${lastError})`);
    if (first === Infinity) first = last;
    return {
      backend: backend.label,
      n,
      workerEnv: settings.workerEnv,
      completed: results.filter((r) => r?.state === 'completed').length,
      notCompleted: started
        .map((st, i) => ({ workflowId: st.workflowId, state: results[i]?.state ?? (errors.has(i) ? 'error' : 'cut at the time limit'), error: (results[i]?.error ?? errors.get(i) ?? '').slice(0, 300) }))
        .filter((x) => x.state !== 'completed')
        .slice(0, 5),
      wallS: Math.round((last - first) / 100) / 10,
      wftTimeouts: {
        startToClose: all.reduce((t, f) => t + f.wftTimeouts.startToClose, 0),
        scheduleToStart: all.reduce((t, f) => t + f.wftTimeouts.scheduleToStart, 0),
      },
      workflowTaskWaitMs: summary(all.flatMap((f) => f.workflowTaskWaitMs)),
      activityWaitMs: summary(all.flatMap((f) => f.activityWaitMs)),
      events: { parentMax, childMax, perRolloutAvg: Math.round(all.reduce((t, f) => t + f.events, 0) / n) },
      workers: {
        peakMemMb: Math.max(usage.worker1!.peakMemMb, usage.worker2!.peakMemMb),
        cpuS: Math.round((usage.worker1!.cpuS + usage.worker2!.cpuS) * 10) / 10,
        orchestrationCpuS: Math.round((usage.worker1!.ownCpuS + usage.worker2!.ownCpuS) * 10) / 10,
      },
      server: usage.server!,
      lab: usage.lab!,
      loadAvg1m,
    };
  } finally {
    for (const c of children.reverse()) await stopChild(c);
    await connection.close();
    rmSync(root, { recursive: true, force: true });
  }
}
