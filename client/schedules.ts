// Temporal Schedules for verify runs: one per mesh (verifyScheduleId), re-creating it updates it. The CLI and the
// chat app call these; nothing else talks to Temporal about schedules.
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import type { RolloutPlan } from '../blueprint/plan.ts';
import type { ActorInput } from '../contracts/messages.ts';
import { DEFAULT_TASK_QUEUE, RUN_KIND, SA, verifyScheduleId, verifyWorkflowId } from '../contracts/names.ts';
import type { VerifyInput, VerifyNotifyConfig } from '../contracts/verify/input.ts';
import { verifyMesh } from '../workflows/verify.ts';
import { ScheduleInputError, VerifyRunInProgress, VerifyScheduleNotFound, type ScheduleArgument } from './errors.ts';

export { ScheduleInputError, VerifyScheduleNotFound, VerifyRunInProgress } from './errors.ts';

export type Cadence = { every: string } | { cron: string };

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const MIN_EVERY_MS = 60_000;

function parseDuration(text: string, argument: ScheduleArgument, minMs: number, minText: string): number {
  const t = text.trim();
  if (!/^(\d+[dhms])+$/.test(t)) throw new ScheduleInputError(argument, `${JSON.stringify(text)} is not a duration like 6h, 30m or 1d12h`);
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([dhms])/g)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (ms < minMs) throw new ScheduleInputError(argument, `${text} is shorter than the ${minText} minimum`);
  if (ms > 366 * UNIT_MS.d) throw new ScheduleInputError(argument, `${text} is longer than a year`);
  return ms;
}

/** `6h`, `90m`, `1d12h`: whole units d/h/m/s, at least one minute apart (a verify run takes seconds to minutes). */
export function parseEvery(text: string): number {
  return parseDuration(text, 'every', MIN_EVERY_MS, '1m');
}

/** Temporal's own floor for a catch-up window is 10 s. */
export function parseCatchupWindow(text: string): number {
  return parseDuration(text, 'catchup', 10_000, '10s');
}

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

/** Five-field cron (minute hour day-of-month month day-of-week), as Temporal Schedules accept it; `@daily` style macros too. */
export function validateCron(expr: string): string {
  const e = expr.trim().replace(/\s+/g, ' ');
  if (/^@(yearly|annually|monthly|weekly|daily|hourly)$/.test(e)) return e;
  const fields = e.split(' ');
  if (fields.length !== 5) throw new ScheduleInputError('cron', `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length} in ${JSON.stringify(expr)}`);
  fields.forEach((f, idx) => {
    const spec = CRON_FIELDS[idx]!;
    const names: readonly string[] = 'names' in spec ? spec.names : [];
    const value = (v: string) => {
      const byName = names.indexOf(v.toUpperCase());
      const n = byName >= 0 ? byName + (spec.name === 'month' ? 1 : 0) : /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isInteger(n) || n < spec.min || n > spec.max) throw new ScheduleInputError('cron', `${spec.name} ${JSON.stringify(v)} is not in ${spec.min}-${spec.max}`);
      return n;
    };
    for (const part of f.split(',')) {
      const [range, step] = part.split('/');
      if (step !== undefined && !/^[1-9]\d*$/.test(step)) throw new ScheduleInputError('cron', `${spec.name} step ${JSON.stringify(step)} is not a positive number`);
      if (range === '*' || range === '?') continue;
      const [a, b] = range!.split('-');
      if (a === undefined || a === '') throw new ScheduleInputError('cron', `${spec.name} field ${JSON.stringify(f)} is empty`);
      const lo = value(a);
      if (b !== undefined && value(b) < lo) throw new ScheduleInputError('cron', `${spec.name} range ${range} runs backwards`);
    }
  });
  return e;
}

export function cadenceSpec(c: Cadence): { spec: ScheduleSpec; text: string } {
  if ('every' in c) {
    const ms = parseEvery(c.every);
    return { spec: { intervals: [{ every: ms }] }, text: `every ${c.every.trim()}` };
  }
  const cron = validateCron(c.cron);
  return { spec: { cronExpressions: [cron] }, text: `cron ${cron}` };
}

/**
 * The cadence and revision a schedule's summary carries — `Verify M (cron 0 3 * * 1,4, revision R)` or
 * `Backup C (mesh M, every 1d, revision R)`. A cron may hold commas, so the cadence runs up to the last
 * `, revision `.
 */
export function scheduleSummaryFacts(summary: string | undefined): { cadence: string; revision?: string } {
  const m = /\((?:mesh [^,()]+, )?(.+), revision ([^)]+)\)$/.exec(summary ?? '');
  return m ? { cadence: m[1]!, revision: m[2]! } : { cadence: 'unknown' };
}

export interface VerifyScheduleOptions {
  plan: RolloutPlan;
  cadence: Cadence;
  by: ActorInput;
  notify?: VerifyNotifyConfig;
  /** the blueprint file: remediation hints name it */
  source?: string;
  taskQueue?: string;
  /**
   * How late a missed run may still start after an outage (Temporal's default is a year, which would replay a
   * stale check long after it matters). Default 1h; with overlap SKIP at most one such run starts.
   */
  catchupWindow?: string;
  certWarnDays?: number;
}

export const DEFAULT_CATCHUP_WINDOW = '1h';

function scheduleParts(opts: VerifyScheduleOptions) {
  const { spec, text } = cadenceSpec(opts.cadence);
  const catchup = opts.catchupWindow ?? DEFAULT_CATCHUP_WINDOW;
  const catchupMs = parseCatchupWindow(catchup);
  const input: VerifyInput = {
    plan: opts.plan,
    ...(opts.notify ? { notify: opts.notify } : {}),
    ...(opts.source ? { source: opts.source } : {}),
    ...(opts.certWarnDays !== undefined ? { certWarnDays: opts.certWarnDays } : {}),
    requestedBy: { by: opts.by.by, via: `${opts.by.via ?? 'api'} (schedule)` },
  };
  return {
    text,
    spec,
    action: {
      type: 'startWorkflow' as const,
      workflowType: verifyMesh,
      // Temporal appends the scheduled time, so each run has its own id.
      workflowId: verifyWorkflowId(opts.plan.mesh, 'scheduled'),
      taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
      args: [input] as [VerifyInput],
      staticSummary: `Verify ${opts.plan.mesh} (${text}, revision ${opts.plan.revision})`,
      typedSearchAttributes: [
        { key: SA.mesh, value: opts.plan.mesh },
        { key: SA.kind, value: RUN_KIND.verify },
        { key: SA.state, value: 'running' },
      ],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: catchupMs, pauseOnFailure: false },
  };
}

/** Creates the mesh's schedule, or updates it in place (cadence, blueprint, notify) when it exists. */
export async function upsertVerifySchedule(client: Client, opts: VerifyScheduleOptions): Promise<{ scheduleId: string; created: boolean; cadence: string }> {
  const scheduleId = verifyScheduleId(opts.plan.mesh);
  const parts = scheduleParts(opts);
  const { text, ...body } = parts;
  try {
    await client.schedule.create({
      scheduleId,
      ...body,
      memo: { mesh: opts.plan.mesh, createdBy: opts.by.by },
      typedSearchAttributes: [
        { key: SA.mesh, value: opts.plan.mesh },
        { key: SA.kind, value: RUN_KIND.verify },
      ],
    });
    return { scheduleId, created: true, cadence: text };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, ...body, state: { ...prev.state, note: `updated by ${opts.by.by}` } }));
  return { scheduleId, created: false, cadence: text };
}

export interface VerifyScheduleView {
  scheduleId: string;
  mesh: string;
  cadence: string;
  paused: boolean;
  note?: string;
  revision?: string;
  nextRunAt?: string;
  lastRun?: { workflowId: string; startedAt: string };
  running: string[];
  catchupWindowMs: number;
  overlap: string;
}

const MESH = /^[a-z0-9][a-z0-9-]*$/;
export function assertMeshName(mesh: string): void {
  if (!MESH.test(mesh)) throw new ScheduleInputError('mesh', `${JSON.stringify(mesh)} is not a mesh name (lower-case letters, digits, -)`);
}
function handleFor(client: Client, mesh: string) {
  assertMeshName(mesh);
  return client.schedule.getHandle(verifyScheduleId(mesh));
}

async function mapNotFound<T>(mesh: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new VerifyScheduleNotFound(mesh);
    throw err;
  }
}

export async function describeVerifySchedule(client: Client, mesh: string): Promise<VerifyScheduleView> {
  const d = await mapNotFound(mesh, () => handleFor(client, mesh).describe());
  const action = d.action as { staticSummary?: string };
  const { cadence, revision } = scheduleSummaryFacts(action.staticSummary);
  const last = d.info.recentActions.at(-1);
  return {
    scheduleId: d.scheduleId,
    mesh,
    cadence,
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    ...(revision ? { revision } : {}),
    ...(d.info.nextActionTimes[0] ? { nextRunAt: d.info.nextActionTimes[0].toISOString() } : {}),
    ...(last ? { lastRun: { workflowId: last.action.workflow.workflowId, startedAt: last.takenAt.toISOString() } } : {}),
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    catchupWindowMs: d.policies.catchupWindow,
    overlap: String(d.policies.overlap ?? 'unknown'),
  };
}

/** Every mesh's verify schedule (ids `verify-<mesh>` starting verifyMesh). */
export async function listVerifySchedules(client: Client): Promise<VerifyScheduleView[]> {
  const meshes: string[] = [];
  for await (const s of client.schedule.list()) {
    const type = s.action?.type === 'startWorkflow' ? s.action.workflowType : undefined;
    if (type === verifyMesh.name && s.scheduleId.startsWith('verify-')) meshes.push(s.scheduleId.slice('verify-'.length));
  }
  const views = await Promise.all(meshes.map((m) => describeVerifySchedule(client, m).catch(() => undefined)));
  return views.filter((v): v is VerifyScheduleView => v !== undefined).sort((a, b) => a.mesh.localeCompare(b.mesh));
}

export async function pauseVerifySchedule(client: Client, mesh: string, by: ActorInput): Promise<void> {
  await mapNotFound(mesh, () => handleFor(client, mesh).pause(`paused by ${by.by}${by.reason ? `: ${by.reason}` : ''}`));
}

export async function unpauseVerifySchedule(client: Client, mesh: string, by: ActorInput): Promise<void> {
  await mapNotFound(mesh, () => handleFor(client, mesh).unpause(`unpaused by ${by.by}`));
}

export async function deleteVerifySchedule(client: Client, mesh: string): Promise<void> {
  await mapNotFound(mesh, () => handleFor(client, mesh).delete());
}

/**
 * Runs the schedule's action now (overlap SKIP: a run already in progress is reported, not doubled) and returns
 * the started run's workflow id once the schedule records it.
 */
export async function triggerVerifySchedule(client: Client, mesh: string, opts: { timeoutMs?: number } = {}): Promise<{ workflowId: string }> {
  const handle = handleFor(client, mesh);
  const before = await mapNotFound(mesh, () => handle.describe());
  if (before.info.runningActions.length) {
    throw new VerifyRunInProgress(mesh, before.info.runningActions.map((a) => a.workflow.workflowId));
  }
  const known = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await handle.trigger(ScheduleOverlapPolicy.SKIP);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const d = await handle.describe();
    const fresh = d.info.recentActions.find((a) => !known.has(a.action.workflow.workflowId));
    if (fresh) return { workflowId: fresh.action.workflow.workflowId };
    if (Date.now() > deadline) throw new Error(`triggered the schedule of ${mesh}, but no run appeared within ${opts.timeoutMs ?? 30_000} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
