// The upgrade row of `npm run bench`: a bench mesh rolled out at older versions, then `meshpilot upgrade` to Talos,
// Kubernetes and Cilium a patch/minor newer, on a fresh lab per size. An upgrade is sequential by design (one
// cluster, one node at a time), so its floor is the tool time on that one path: the union of the intervals of the
// tool calls it made (calls that overlap — the mesh checks run on every cluster at once — count once). The row
// reports wall time against that floor.
import { readFileSync, writeFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import { formatIssue, loadBlueprintText } from '../blueprint/load.ts';
import { planRollout, type RolloutPlan } from '../blueprint/plan.ts';
import { getRolloutView } from '../client/rollouts.ts';
import { startUpgrade } from '../client/upgrades.ts';
import { readCalls } from '../lab/call-log.ts';
import { start } from '../test/helpers/rollout.ts';
import { benchBlueprintYaml } from './blueprint.ts';
import { unionMs } from './critical-path.ts';
import { startBenchWorker } from './lab-worker.ts';
import type { LabSettings } from './meshpilot-run.ts';

export const UPGRADE_FROM = { talos: 'v1.9.4', kubernetes: '1.31.7', cilium: '1.16.19' };
export const UPGRADE_TO = { talos: 'v1.9.5', kubernetes: '1.32.3', cilium: '1.17.6' };

export interface UpgradeRun {
  clusters: number;
  nodes: number;
  state: string;
  /** the upgrade workflow's own start → close */
  wallMs: number;
  /** the union of the upgrade's tool-call intervals */
  toolMs: number;
  toolCalls: number;
  talosUpgrades: number;
}

/** The bench mesh of `clusters` at `v` (every installer image tagged with the Talos version). */
export function benchPlanAt(clusters: number, v: typeof UPGRADE_FROM, revisionSuffix: string): RolloutPlan {
  const doc = parse(benchBlueprintYaml(clusters)) as { versions: Record<string, string>; clusters: Array<{ installImage?: string }> };
  Object.assign(doc.versions, v);
  for (const c of doc.clusters) if (c.installImage) c.installImage = c.installImage.replace(/:v[\d.]+$/, `:${v.talos}`);
  const loaded = loadBlueprintText(stringify(doc));
  if (!loaded.ok || !loaded.blueprint) throw new Error(`bench blueprint at ${JSON.stringify(v)} is invalid:\n${loaded.errors.map((e) => formatIssue('(bench)', e)).join('\n')}`);
  const plan = planRollout(loaded.blueprint);
  plan.revision = `${plan.revision}-${revisionSuffix}`;
  return plan;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const timeout = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error(`${what}: no result within ${ms / 60_000} min`)), ms).unref();
  });
  return Promise.race([p, timeout]);
}

export async function runUpgrade(env: TestWorkflowEnvironment, root: string, clusters: number, lab: LabSettings): Promise<UpgradeRun> {
  const suffix = Date.now().toString(36);
  const from = benchPlanAt(clusters, UPGRADE_FROM, suffix);
  const to = benchPlanAt(clusters, UPGRADE_TO, `${suffix}-up`);
  const w = await startBenchWorker(env.nativeConnection, env.namespace ?? 'default', root, from, { scenario: 'happy', ...lab });
  try {
    const r = await start(env.client, from, w.taskQueue);
    await within(env.client.workflow.getHandle(r.workflowId).result(), 15 * 60_000, `${from.mesh} rollout`);
    const rolled = await getRolloutView(env.client, r.workflowId);
    if (rolled.state !== 'completed') throw new Error(`${from.mesh}: the rollout before the upgrade ended ${rolled.state}`);
    const before = readCalls(w.labDir).length;
    const u = await startUpgrade(env.client, { plan: to, requestedBy: { by: 'bench', via: 'bench' }, taskQueue: w.taskQueue });
    const handle = env.client.workflow.getHandle(u.workflowId);
    const result = await within(handle.result(), 30 * 60_000, `${to.mesh} upgrade`);
    const d = await handle.describe();
    const calls = readCalls(w.labDir).slice(before);
    return {
      clusters,
      nodes: to.clusters.reduce((n, c) => n + c.nodes.length, 0),
      state: result.state,
      wallMs: (d.closeTime?.getTime() ?? Date.now()) - d.startTime.getTime(),
      toolMs: unionMs(calls.map((c) => [c.startedAt, c.startedAt + c.durationMs])),
      toolCalls: calls.length,
      talosUpgrades: calls.filter((c) => c.tool === 'talosctl' && c.argv[0] === 'upgrade').length,
    };
  } finally {
    await w.stop();
    w.remove();
  }
}

const s = (ms: number) => (ms / 1000).toFixed(1);

export function upgradeTable(runs: UpgradeRun[]): string {
  const lines = [
    '| clusters (nodes) | upgrade wall s | tool time on its path s | wall / tool time | tool calls | talosctl upgrade calls | state |',
    `|${'---|'.repeat(7)}`,
    ...runs.map((r) => `| ${r.clusters} (${r.nodes}) | ${s(r.wallMs)} | ${s(r.toolMs)} | ${(r.wallMs / r.toolMs).toFixed(2)}× | ${r.toolCalls} | ${r.talosUpgrades} | ${r.state} |`),
  ];
  return lines.join('\n');
}

const BEGIN = '<!-- upgrade-bench:begin -->';
const END = '<!-- upgrade-bench:end -->';

/** Writes (or replaces) the upgrade section of bench/README.md, between its markers. */
export function writeUpgradeSection(readme: string, runs: UpgradeRun[], settings: LabSettings): void {
  const text = readFileSync(readme, 'utf8');
  const section = [
    BEGIN,
    '## Upgrade (`meshpilot upgrade`)',
    '',
    `Talos ${UPGRADE_FROM.talos} → ${UPGRADE_TO.talos}, Kubernetes ${UPGRADE_FROM.kubernetes} → ${UPGRADE_TO.kubernetes}, Cilium ${UPGRADE_FROM.cilium} → ${UPGRADE_TO.cilium} on a freshly rolled-out bench mesh (1 control plane + 1 worker per cluster), tool latency ${settings.toolLatencyMs} ms. ` +
      'An upgrade goes one cluster and one node at a time by design, so its floor is the tool time on that path (the union of its tool-call intervals); the ratio is the orchestration overhead on top (activity scheduling, polling gaps while a node reboots).',
    '',
    upgradeTable(runs),
    END,
  ].join('\n');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  const next = i >= 0 && j > i ? `${text.slice(0, i)}${section}${text.slice(j + END.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(readme, next);
}
