// Day two, upgrade (issue #16): a mesh rolled out at older versions is upgraded to a blueprint revision with new
// Talos, Kubernetes and Cilium versions on the real dev server with the lab — the canary cluster first, control
// planes one at a time between etcd gates, and the mesh verified after each cluster; each fault pauses at the right
// node or cluster with a reason and a hint.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { projectRoot } from '../../config/env.ts';
import { createLab } from '../../lab/fleet.ts';
import { parse, stringify } from 'yaml';
import type { Client } from '@temporalio/client';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { abortRollout, actOnStep } from '../../client/rollouts.ts';
import { getUpgradePlan, planUpgradeLive, startUpgrade } from '../../client/upgrades.ts';
import { callsMatching, readCalls, type CallRecord } from '../../lab/call-log.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { scenarioFaults, type ScenarioName } from '../../lab/scenarios.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { SEED_BLUEPRINT, useLabSuite, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';

const operator = { by: 'alice', via: 'test' };
const FACTORY = 'factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba';
const FAST = { recheckBaseMs: 1_000, recheckMaxMs: 2_000, maxHistoryEvents: 1_500 };

/** The seed blueprint at other versions (every cluster's installer image tagged with the Talos version). */
function seedAt(v: { talos: string; kubernetes: string; cilium: string }, extra: (bp: Record<string, any>) => void = () => {}): string {
  const bp = parse(readFileSync(SEED_BLUEPRINT, 'utf8')) as Record<string, any>;
  bp.versions = { ...bp.versions, ...v };
  for (const c of bp.clusters) c.installImage = `${FACTORY}:${v.talos}`;
  extra(bp);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-upgrade-')), 'blueprint.yaml');
  writeFileSync(file, stringify(bp));
  return file;
}

const OLD = { talos: 'v1.9.4', kubernetes: '1.31.7', cilium: '1.16.19' };
const NEW = { talos: 'v1.9.5', kubernetes: '1.32.3', cilium: '1.17.6' };

/** The target revision, with a revision id of its own per lab (tests share one server). */
async function target(lab: LabWorker, file: string): Promise<RolloutPlan> {
  const plan = await planFromFile(file);
  plan.revision = `${plan.revision}-${lab.plan.revision.slice(-6)}`;
  return plan;
}

const upgrades = (calls: CallRecord[]) => callsMatching(calls, 'talosctl', ['upgrade']).filter((c) => c.argv[0] === 'upgrade');
const upgradedNode = (c: CallRecord) => c.argv[c.argv.indexOf('-n') + 1]!;

async function startAndWait(client: Client, plan: RolloutPlan, taskQueue: string) {
  const s = await startUpgrade(client, { plan, requestedBy: { by: 'tester', via: 'test' }, taskQueue, limits: FAST });
  return s.workflowId;
}

describe('meshpilot upgrade on the lab', () => {
  const suite = useLabSuite();

  /** A lab with the old versions rolled out, then the scenario's faults switched on. */
  async function rolledOut(scenario?: ScenarioName): Promise<LabWorker> {
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

  test('upgrades Talos, Kubernetes and Cilium across both clusters: canary first, control planes one at a time, each node once', async () => {
    const lab = await rolledOut();
    const plan = await target(lab, seedAt(NEW, (bp) => (bp.upgrade = { canary: 'cluster-europe' })));

    // --plan: the whole path from the live versions, before anything runs
    const live = await planUpgradeLive(suite.env.client, { plan, taskQueue: lab.taskQueue });
    assert.deepEqual(live.plan.refusals, []);
    assert.deepEqual(live.plan.order, ['cluster-europe', 'cluster-usa']);
    const europe = live.plan.clusters[0]!;
    assert.equal(europe.canary, true);
    assert.deepEqual(europe.kubernetes, { from: '1.31.7', to: '1.32.3' });
    assert.equal(europe.cilium?.from, '1.16.19');
    assert.equal(europe.cilium?.upgradeCompatibility, '1.16');
    assert.ok(europe.talos?.nodes.every((n) => n.from === 'v1.9.4'));
    const seq = europe.steps.map((s) => `${s.name}${s.target ? ` ${s.target}` : ''}`);
    const cps = europe.talos!.nodes.filter((n) => n.role === 'controlplane').map((n) => n.name);
    // every control plane between its two etcd gates, one after another, before any worker
    for (const cp of cps) {
      const i = seq.indexOf(`talos-upgrade ${cp}`);
      assert.equal(seq[i - 1], `etcd-gate-before ${cp}`);
      assert.equal(seq[i + 1], `etcd-gate-after ${cp}`);
    }
    assert.deepEqual(seq.slice(-3), ['kubernetes-upgrade', 'cilium-upgrade', 'cilium-verify']);
    const before = readCalls(lab.labDir).length;
    assert.equal(upgrades(readCalls(lab.labDir)).length, 0, '--plan runs nothing');

    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const done = await waitFor(suite.env.client, id, isFinished, 300_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error ?? done.clusters.map((c) => [c.name, c.state, c.error])));
    assert.ok(done.meshSteps.every((s) => s.state === 'done'), done.meshSteps.map((s) => `${s.name} ${s.target}=${s.state}`).join(' '));
    assert.deepEqual(
      done.meshSteps.filter((s) => s.target).map((s) => `${s.name} ${s.target}`),
      ['mesh-verify cluster-europe', 'global-canary cluster-europe', 'mesh-verify cluster-usa', 'global-canary cluster-usa'],
    );

    const calls = readCalls(lab.labDir).slice(before);
    const state = readLabState(lab.labDir);
    // every node upgraded exactly once, with the new installer image
    const byNode = new Map<string, number>();
    for (const c of upgrades(calls)) {
      byNode.set(upgradedNode(c), (byNode.get(upgradedNode(c)) ?? 0) + 1);
      assert.equal(c.argv[c.argv.indexOf('--image') + 1], `${FACTORY}:v1.9.5`);
    }
    assert.equal(byNode.size, Object.keys(state.nodes).length);
    assert.ok([...byNode.values()].every((n) => n === 1), JSON.stringify([...byNode]));
    // the canary's nodes all went before the other cluster's, control planes before workers
    const order = upgrades(calls).map((c) => state.nodes[upgradedNode(c)]!);
    const firstUsa = order.findIndex((n) => n.cluster === 'cluster-usa');
    assert.ok(order.slice(0, firstUsa).every((n) => n.cluster === 'cluster-europe') && order.slice(firstUsa).every((n) => n.cluster === 'cluster-usa'));
    for (const cl of ['cluster-europe', 'cluster-usa']) {
      const roles = order.filter((n) => n.cluster === cl).map((n) => n.role);
      assert.deepEqual(roles, [...roles].sort(), `${cl}: control planes before workers`);
    }
    // one control plane at a time: each upgrade call began after the previous node was back (etcd gate after it)
    const gates = callsMatching(calls, 'talosctl', ['etcd', 'status']);
    assert.ok(gates.length >= 2 * 3 * 2, `two etcd gates per control plane (${gates.length} etcd status calls)`);
    // never reinstalled or re-bootstrapped
    assert.equal(callsMatching(calls, 'talosctl', ['bootstrap']).length, 0);
    assert.equal(callsMatching(calls, 'talosctl', ['apply-config']).length, 0);
    // Kubernetes once per cluster, with the detected version; Cilium with upgradeCompatibility, mesh peers kept
    const k8s = callsMatching(calls, 'talosctl', ['upgrade-k8s']);
    assert.equal(k8s.length, 2);
    for (const c of k8s) assert.deepEqual(c.argv.slice(c.argv.indexOf('--from'), c.argv.indexOf('--from') + 4), ['--from', '1.31.7', '--to', '1.32.3']);
    const helm = calls.filter((c) => c.tool === 'helm' && c.argv.includes('upgrade'));
    assert.equal(helm.length, 2, 'one helm upgrade per cluster');
    for (const h of helm) assert.equal(h.argv[h.argv.indexOf('--version') + 1], '1.17.6');
    for (const [addr, n] of Object.entries(state.nodes)) {
      assert.equal(n.stage, 'running', `${addr} running`);
    }

    // the live versions now: a new plan has nothing left to do (an upgrade converges)
    const again = await planUpgradeLive(suite.env.client, { plan, taskQueue: lab.taskQueue });
    assert.deepEqual(again.plan.clusters.map((c) => c.name), [], JSON.stringify(again.plan.clusters.map((c) => [c.name, c.talos, c.kubernetes, c.cilium?.from])));
    for (const s of again.survey.clusters) {
      assert.ok(s.nodes.every((n) => n.talos === 'v1.9.5' && n.kubelet === '1.32.3'), JSON.stringify(s.nodes));
      assert.equal(s.kubernetes, '1.32.3');
      assert.deepEqual([s.cilium.chart, s.cilium.upgradeCompatibility, s.cilium.agents, s.cilium.apiserver], ['1.17.6', '1.16', ['1.17.6'], ['1.17.6']]);
      assert.equal(s.cilium.peers.length, 1, 'the mesh peer list is kept');
    }
    const recorded = await getUpgradePlan(suite.env.client, id);
    assert.equal(recorded.plan?.canary, 'cluster-europe');
  });

  test('upgrade-node-stuck: pauses at talos-upgrade of that node with etcd at quorum; resume after it is back completes, never upgrading a node twice', async () => {
    const lab = await rolledOut('upgrade-node-stuck');
    const plan = await target(lab, seedAt(NEW));
    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const paused = await waitFor(suite.env.client, id, isPaused, 240_000);
    assert.equal(paused.blocked?.cluster, 'cluster-usa');
    assert.equal(paused.blocked?.step, 'talos-upgrade');
    assert.equal(paused.blocked?.target, 'usa-cp-2');
    assert.match(paused.blocked!.reason, /usa-cp-2 .*did not come back/);
    assert.match(paused.blocked!.hint, /console|BMC/);
    // the node comes back (an operator power-cycled it): resume
    await withLabState(lab.labDir, (s) => (s.faults.upgradeNeverReturns = []));
    const r = await actOnStep(suite.env.client, id, 'resume', operator);
    assert.match(r.workflowId, /cluster-cluster-usa$/, 'routed to the cluster that owns the paused step');
    const done = await waitFor(suite.env.client, id, isFinished, 300_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const perNode = new Map<string, number>();
    for (const c of upgrades(readCalls(lab.labDir))) perNode.set(upgradedNode(c), (perNode.get(upgradedNode(c)) ?? 0) + 1);
    assert.ok([...perNode.values()].every((n) => n === 1), JSON.stringify([...perNode]));
    const usa = done.clusters.find((c) => c.name === 'cluster-usa')!;
    assert.ok(usa.steps.every((s) => s.state === 'done'));
    assert.ok(done.actions.some((a) => a.action === 'resume' && a.by === 'alice') || usa.steps.length > 0);
  });

  test('upgrade-etcd-unhealthy: pauses at etcd-gate-after of that node (overridable); override with a reason goes on', async () => {
    const lab = await rolledOut('upgrade-etcd-unhealthy');
    const plan = await target(lab, seedAt({ ...OLD, talos: 'v1.9.5' }));
    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const paused = await waitFor(suite.env.client, id, isPaused, 240_000);
    assert.equal(paused.blocked?.cluster, 'cluster-usa');
    assert.equal(paused.blocked?.step, 'etcd-gate-after');
    assert.equal(paused.blocked?.target, 'usa-cp-1');
    assert.equal(paused.blocked?.overridable, true);
    assert.match(paused.blocked!.reason, /usa-cp-1.*not healthy/);
    assert.match(paused.blocked!.hint, /talosctl -n 192\.168\.10\.11 logs etcd/);
    // skip is refused (a gate is overridden, not skipped); an override needs a reason
    await assert.rejects(actOnStep(suite.env.client, id, 'skip', { ...operator, step: 'etcd-gate-after', reason: 'x' }));
    // heal it (the member's data was fine after all) and override: the next gate passes
    await withLabState(lab.labDir, (s) => (s.faults.etcdUnhealthyAfterUpgrade = []));
    await actOnStep(suite.env.client, id, 'override', { ...operator, step: 'etcd-gate-after', reason: 'member rejoined, checked by hand' });
    const done = await waitFor(suite.env.client, id, isFinished, 300_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const gate = done.clusters.find((c) => c.name === 'cluster-usa')!.steps.find((s) => s.name === 'etcd-gate-after' && s.target === 'usa-cp-1')!;
    assert.equal(gate.state, 'overridden');
  });

  test('upgrade-mesh-disconnect: pauses at mesh-verify after the canary; the next cluster has not started; abort stops it', async () => {
    const lab = await rolledOut('upgrade-mesh-disconnect');
    const plan = await target(lab, seedAt({ ...OLD, cilium: '1.17.6' }));
    const id = await startAndWait(suite.env.client, plan, lab.taskQueue);
    const paused = await waitFor(suite.env.client, id, isPaused, 240_000);
    assert.equal(paused.blocked?.step, 'mesh-verify');
    assert.equal(paused.blocked?.target, 'cluster-usa');
    assert.equal(paused.blocked?.cluster, undefined, 'a mesh step');
    assert.match(paused.blocked!.reason, /cluster-usa|cluster-europe/);
    assert.ok(paused.blocked!.hint.length > 0);
    const calls = readCalls(lab.labDir);
    const helm = calls.filter((c) => c.tool === 'helm' && c.argv.includes('upgrade') && c.argv.includes('1.17.6'));
    assert.equal(helm.length, 1, 'only the canary was upgraded');
    await abortRollout(suite.env.client, id, { ...operator, reason: 'mesh down, rolling back by hand' });
    const done = await waitFor(suite.env.client, id, isFinished, 120_000);
    assert.equal(done.state, 'aborted');
    assert.equal(readCalls(lab.labDir).filter((c) => c.tool === 'helm' && c.argv.includes('upgrade') && c.argv.includes('1.17.6')).length, 1);
  });

  test('a worker SIGKILLed while a node upgrades is replaced; the upgrade completes without upgrading any node twice', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-upgrade-kill-'));
    const old = await planFromFile(seedAt(OLD));
    old.revision = `${old.revision}-${randomUUID().slice(0, 6)}`;
    const labDir = path.join(dataDir, 'lab');
    createLab(labDir, fleetFromPlan(old), { scenario: 'happy' });
    const taskQueue = `upgrade-kill-${randomUUID()}`;
    const workerEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: suite.env.address,
      MESHPILOT_DATA_DIR: dataDir,
      MESHPILOT_TASK_QUEUE: taskQueue,
      MESHPILOT_SECRET_KEY: randomBytes(32).toString('hex'),
      MESHPILOT_LOG_LEVEL: 'warn',
    };
    const spawnWorker = (): ResultPromise => execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), 'worker', '--lab'], { env: workerEnv, reject: false, stdio: 'ignore' });
    let worker = spawnWorker();
    try {
      const r = await start(suite.env.client, old, taskQueue);
      assert.equal((await waitFor(suite.env.client, r.workflowId, isFinished, 300_000)).state, 'completed');
      const plan = await planFromFile(seedAt(NEW));
      plan.revision = `${plan.revision}-${old.revision.slice(-6)}`;
      const id = await startAndWait(suite.env.client, plan, taskQueue);
      // pull the plug while a node is between its upgrade request and its return
      const deadline = Date.now() + 240_000;
      for (;;) {
        const s = readLabState(labDir);
        if (Object.values(s.nodes).some((n) => n.stage === 'upgrading' || n.stage === 'rebooting')) break;
        assert.ok(Date.now() < deadline, 'a node should start upgrading');
        await new Promise((res) => setTimeout(res, 50));
      }
      worker.kill('SIGKILL');
      await worker;
      worker = spawnWorker();
      const done = await waitFor(suite.env.client, id, isFinished, 400_000);
      assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    } finally {
      worker.kill('SIGTERM');
      await worker;
    }
    const perNode = new Map<string, number>();
    for (const c of upgrades(readCalls(labDir))) perNode.set(upgradedNode(c), (perNode.get(upgradedNode(c)) ?? 0) + 1);
    assert.equal(perNode.size, Object.keys(readLabState(labDir).nodes).length, 'every node upgraded');
    assert.ok([...perNode.values()].every((n) => n === 1), `one talosctl upgrade per node across the crash: ${JSON.stringify([...perNode])}`);
  });
});
