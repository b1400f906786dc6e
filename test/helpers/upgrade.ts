// Shared by the upgrade end-to-end tests (test/e2e/upgrade*.test.ts): the seed blueprint at other versions, a lab
// mesh rolled out at the old ones, and the lab call log read as per-node upgrades.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import type { Client } from '@temporalio/client';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { startUpgrade } from '../../client/upgrades.ts';
import { callsMatching, type CallRecord } from '../../lab/call-log.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { scenarioFaults, type ScenarioName } from '../../lab/scenarios.ts';
import { withLabState } from '../../lab/state.ts';
import { SEED_BLUEPRINT, type LabWorker, type useLabSuite } from './lab-worker.ts';
import { isFinished, start, waitFor } from './rollout.ts';

export const operator = { by: 'alice', via: 'test' };
export const FACTORY = 'factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';
const FAST = { recheckBaseMs: 1_000, recheckMaxMs: 2_000, maxHistoryEvents: 1_500 };

/** The seed blueprint at other versions (every cluster's installer image tagged with the Talos version). */
export function seedAt(v: { talos: string; kubernetes: string; cilium: string }, extra: (bp: Record<string, any>) => void = () => {}): string {
  const bp = parse(readFileSync(SEED_BLUEPRINT, 'utf8')) as Record<string, any>;
  bp.versions = { ...bp.versions, ...v };
  for (const c of bp.clusters) c.installImage = `${FACTORY}:${v.talos}`;
  extra(bp);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-upgrade-')), 'blueprint.yaml');
  writeFileSync(file, stringify(bp));
  return file;
}

export const OLD = { talos: 'v1.9.4', kubernetes: '1.31.7', cilium: '1.16.19' };
export const NEW = { talos: 'v1.9.5', kubernetes: '1.32.3', cilium: '1.17.6' };

/** The target revision, with a revision id of its own per lab (tests share one server). */
export async function target(lab: LabWorker, file: string): Promise<RolloutPlan> {
  const plan = await planFromFile(file);
  plan.revision = `${plan.revision}-${lab.plan.revision.slice(-6)}`;
  return plan;
}

export const upgrades = (calls: CallRecord[]) => callsMatching(calls, 'talosctl', ['upgrade']).filter((c) => c.argv[0] === 'upgrade');
export const upgradedNode = (c: CallRecord) => c.argv[c.argv.indexOf('-n') + 1]!;

/** Starts the upgrade as a test operator, with quick automatic re-checks. */
export async function startAndWait(client: Client, plan: RolloutPlan, taskQueue: string) {
  const s = await startUpgrade(client, { plan, requestedBy: { by: 'tester', via: 'test' }, taskQueue, limits: FAST });
  return s.workflowId;
}

/** A lab with the old versions rolled out, then the scenario's faults switched on. */
export async function rolledOut(suite: ReturnType<typeof useLabSuite>, scenario?: ScenarioName): Promise<LabWorker> {
  const lab = await suite.lab({ scenario: 'happy', blueprint: seedAt(OLD) });
  const r = await start(suite.env.client, lab.plan, lab.taskQueue);
  const done = await waitFor(suite.env.client, r.workflowId, isFinished, 300_000);
  assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
  if (scenario) {
    const faults = scenarioFaults(scenario, fleetFromPlan(lab.plan));
    await withLabState(lab.labDir, (s) => Object.assign(s.faults, faults));
  }
  return lab;
}
