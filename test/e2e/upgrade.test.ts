// Day two, upgrade (issue #16): a mesh rolled out at older versions is upgraded to a blueprint revision with new
// Talos, Kubernetes and Cilium versions on the real dev server with the lab — the canary cluster first, control
// planes one at a time between etcd gates, every node once, and the mesh verified after each cluster.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getUpgradePlan, planUpgradeLive } from '../../client/upgrades.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { readLabState } from '../../lab/state.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, waitFor } from '../helpers/rollout.ts';
import { FACTORY, NEW, rolledOut, seedAt, startAndWait, target, upgradedNode, upgrades } from '../helpers/upgrade.ts';

describe('meshpilot upgrade on the lab', () => {
  const suite = useLabSuite();

  test('upgrades Talos, Kubernetes and Cilium across both clusters: canary first, control planes one at a time, each node once', async () => {
    const lab = await rolledOut(suite);
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
});
