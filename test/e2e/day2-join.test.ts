// Day two (issue #16), join and detach, on the real dev server with the lab: a running two-cluster mesh grows to
// three by a rollout of the bigger blueprint (the first two are never re-booted, re-applied or re-bootstrapped;
// only their cilium release's peer list changes), then loses the third with a detach; a joining cluster whose
// ID a live member uses pauses mesh-preflight naming the field; a worker SIGKILLed mid-join resumes without
// redoing work.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { startDetach } from '../../client/detach.ts';
import { abortRollout } from '../../client/rollouts.ts';
import { projectRoot } from '../../config/env.ts';
import { detachWorkflowId } from '../../contracts/names.ts';
import { callsMatching, readCalls, type CallRecord } from '../../lab/call-log.ts';
import { createLab, extendLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { getRelease, lastRevision, type Release } from '../../lab/kube/releases.ts';
import { readLabState } from '../../lab/state.ts';
import { labWorkerProcess, SEED_BLUEPRINT, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';

const JOINED_BLUEPRINT = path.join(projectRoot, 'examples', 'usa-europe-asia.yaml');
const FIRST_TWO = ['cluster-usa', 'cluster-europe'];

async function biggerPlan(revisionSuffix: string, file = JOINED_BLUEPRINT): Promise<RolloutPlan> {
  const plan = await planFromFile(file);
  plan.revision = `${plan.revision}-${revisionSuffix}`;
  return plan;
}

/** A copy of a blueprint whose mesh is joined by `cilium clustermesh connect` instead of declarative values. */
function withCiliumConnect(file: string): string {
  const bp = parse(readFileSync(file, 'utf8')) as { mesh: { method: string } };
  bp.mesh.method = 'cilium-connect';
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-connect-')), path.basename(file));
  writeFileSync(out, stringify(bp));
  return out;
}

/** Talos calls that would touch an existing node: install, bootstrap, reboot, reset, upgrade. */
function disruptiveTalosCalls(calls: CallRecord[], addresses: string[]): CallRecord[] {
  return calls.filter((c) => c.tool === 'talosctl' && ['apply-config', 'bootstrap', 'reboot', 'reset', 'upgrade'].includes(c.argv[0]!) && c.argv.some((a) => addresses.includes(a)));
}

const release = (labDir: string, cluster: string): Release => {
  const r = getRelease(readLabState(labDir).clusters[cluster]!, 'kube-system', 'cilium');
  assert.ok(r, `${cluster} has a cilium release`);
  return r;
};
const peersOf = (r: Release): string[] =>
  (((lastRevision(r).config.clustermesh as { config?: { clusters?: Array<{ name: string }> } } | undefined)?.config?.clusters ?? []) as Array<{ name: string }>).map((c) => c.name).sort();

/** The release's values without the peer list: what a peer-list change must leave exactly as it was. */
function valuesBesidesPeers(r: Release): unknown {
  const v = structuredClone(lastRevision(r).config) as { clustermesh?: { config?: { clusters?: unknown } } };
  if (v.clustermesh?.config) delete v.clustermesh.config.clusters;
  return v;
}

describe('day two: join and detach', () => {
  const suite = useLabSuite();
  /** the lab's mesh rolled out as its blueprint says: the live mesh a day-two change starts from */
  const dayOne = async (l: { plan: RolloutPlan; taskQueue: string }) => {
    const first = await start(suite.env.client, l.plan, l.taskQueue);
    const day1 = await waitFor(suite.env.client, first.workflowId, isFinished, 300_000);
    assert.equal(day1.state, 'completed', JSON.stringify(day1.blocked ?? day1.error));
  };

  test('a running two-cluster mesh grows to three (the first two only get a new peer list), then loses one with detach', async () => {
    const l = await suite.lab({ scenario: 'happy' });
    await dayOne(l);

    const big = await biggerPlan(randomUUID().slice(0, 6));
    const extended = await extendLab(l.labDir, fleetFromPlan(big), { scenario: 'happy' });
    assert.deepEqual(extended.kept, FIRST_TWO);
    assert.deepEqual(extended.added, ['cluster-asia']);

    const before = readLabState(l.labDir);
    const callsBefore = readCalls(l.labDir).length;
    const releasesBefore = Object.fromEntries(FIRST_TWO.map((c) => [c, release(l.labDir, c)]));

    const join = await start(suite.env.client, big, l.taskQueue);
    const day2 = await waitFor(suite.env.client, join.workflowId, isFinished, 300_000);
    assert.equal(day2.state, 'completed', JSON.stringify(day2.blocked ?? day2.error));

    // roles as mesh-preflight read them, and the kept steps of the members
    const role = Object.fromEntries(day2.clusters.map((c) => [c.name, c.role]));
    assert.deepEqual(role, { 'cluster-usa': 'member', 'cluster-europe': 'member', 'cluster-asia': 'new' });
    for (const name of FIRST_TWO) {
      const steps = Object.fromEntries(day2.clusters.find((c) => c.name === name)!.steps.map((s) => [s.name, s.state]));
      for (const s of ['boot', 'talos-config', 'apply-config', 'bootstrap', 'kubeconfig', 'cilium-install', 'clustermesh-enable']) assert.equal(steps[s], 'kept', `${name}/${s}`);
      // the Golden Rule gate is read-only: a member is held to it before its peer list changes
      assert.equal(steps['etcd-latency'], 'done', `${name}/etcd-latency`);
    }
    assert.equal(day2.meshSteps.find((s) => s.name === 'mesh-preflight')?.state, 'done');

    // the call log: nothing Talos touched a node of the first two, and their clusters were bootstrapped once, ever
    const joinCalls = readCalls(l.labDir).slice(callsBefore);
    const oldAddresses = Object.values(before.nodes)
      .filter((n) => FIRST_TWO.includes(n.cluster))
      .map((n) => n.address);
    assert.deepEqual(disruptiveTalosCalls(joinCalls, oldAddresses), [], 'no apply-config, bootstrap, reboot, reset or upgrade on the first two');
    const after = readLabState(l.labDir);
    for (const name of FIRST_TWO) {
      assert.equal(after.clusters[name]!.bootstrapCount, 1, `${name} bootstrapped once`);
      for (const n of Object.values(after.nodes).filter((x) => x.cluster === name)) {
        assert.equal(n.stageSince, before.nodes[n.address]!.stageSince, `${n.name} was not rebooted or re-installed`);
      }
    }
    assert.equal(after.clusters['cluster-asia']!.bootstrapCount, 1);
    assert.equal(callsMatching(joinCalls, 'talosctl', ['gen', 'secrets']).length, 1, 'secrets generated for the joining cluster only');

    // the members' cilium release: exactly one new revision, whose only change is the peer list (+ cluster-asia)
    for (const name of FIRST_TWO) {
      const was = releasesBefore[name]!;
      const now = release(l.labDir, name);
      assert.equal(now.revisions.length, was.revisions.length + 1, `${name}: one helm upgrade (the peer list)`);
      assert.equal(lastRevision(now).chartVersion, lastRevision(was).chartVersion);
      assert.deepEqual(valuesBesidesPeers(now), valuesBesidesPeers(was), `${name}: every other value kept`);
      assert.deepEqual(
        peersOf(now),
        ['cluster-asia', 'cluster-europe', 'cluster-usa'].filter((p) => p !== name),
      );
    }
    assert.deepEqual(peersOf(release(l.labDir, 'cluster-asia')), FIRST_TWO.slice().sort());

    // global services were checked during the change, not assumed: the baseline read, then the guard after each member
    const parent = await suite.env.client.workflow.getHandle(join.workflowId).fetchHistory();
    const activities = (parent.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
    assert.equal(activities.filter((a) => a === 'globalServiceSources').length, 2, 'a baseline per member');
    assert.equal(activities.filter((a) => a === 'globalBackendsKept').length, 2, 'a guard after each member');
    assert.equal(activities.filter((a) => a === 'readLiveCluster').length, 3, 'mesh-preflight read all three clusters');

    // re-running the same bigger blueprint converges: all three are members now, kept; no release changes
    const revisionsBeforeRerun = Object.fromEntries([...FIRST_TWO, 'cluster-asia'].map((c) => [c, release(l.labDir, c).revisions.length]));
    const callsBeforeRerun = readCalls(l.labDir).length;
    const again = await start(suite.env.client, big, l.taskQueue);
    assert.equal(again.workflowId, join.workflowId);
    const rerun = await waitFor(suite.env.client, again.workflowId, isFinished, 300_000);
    assert.equal(rerun.state, 'completed', JSON.stringify(rerun.blocked ?? rerun.error));
    assert.ok(
      rerun.clusters.every((c) => c.role === 'member'),
      JSON.stringify(rerun.clusters.map((c) => [c.name, c.role])),
    );
    const allAddresses = Object.values(readLabState(l.labDir).nodes).map((n) => n.address);
    assert.deepEqual(disruptiveTalosCalls(readCalls(l.labDir).slice(callsBeforeRerun), allAddresses), []);
    for (const [c, n] of Object.entries(revisionsBeforeRerun)) assert.equal(release(l.labDir, c).revisions.length, n, `${c}: no new helm revision on a re-run`);

    // detach: cluster-asia leaves; the others forget it, it keeps running on its own, nothing is wiped
    const asiaBefore = release(l.labDir, 'cluster-asia');
    const callsBeforeDetach = readCalls(l.labDir).length;
    const d = await startDetach(suite.env.client, {
      mesh: big.mesh,
      cluster: 'cluster-asia',
      reason: 'region closed',
      requestedBy: { by: 'tester', via: 'test' },
      taskQueue: l.taskQueue,
    });
    assert.deepEqual(d, { workflowId: detachWorkflowId(big.mesh, 'cluster-asia'), started: true });
    const detached = await waitFor(suite.env.client, d.workflowId, isFinished, 300_000);
    assert.equal(detached.state, 'completed', JSON.stringify(detached.blocked ?? detached.error));
    assert.deepEqual(detached.operation, { kind: 'detach', cluster: 'cluster-asia', reason: 'region closed' });
    assert.deepEqual(
      detached.meshSteps.map((s) => [s.name, s.state]),
      [
        ['detach-preflight', 'done'],
        ['remove-peer', 'done'],
        ['detach-verify', 'done'],
        ['global-services', 'done'],
        ['isolate', 'done'],
      ],
    );
    assert.deepEqual(peersOf(release(l.labDir, 'cluster-usa')), ['cluster-europe']);
    assert.deepEqual(peersOf(release(l.labDir, 'cluster-europe')), ['cluster-usa']);
    const asia = release(l.labDir, 'cluster-asia');
    assert.deepEqual(peersOf(asia), [], 'the detached cluster runs on its own');
    assert.equal(lastRevision(asia).status, 'deployed', 'its Cilium still runs');
    assert.equal(asia.revisions.length, asiaBefore.revisions.length + 1, 'one values change on the detached cluster, no uninstall');
    const detachCalls = readCalls(l.labDir).slice(callsBeforeDetach);
    assert.deepEqual(
      detachCalls.filter(
        (c) =>
          (c.tool === 'helm' && ['uninstall', 'delete'].includes(c.argv[0]!)) ||
          (c.tool === 'kubectl' && c.argv[0] === 'delete') ||
          (c.tool === 'talosctl' && ['reset', 'reboot'].includes(c.argv[0]!)),
      ),
      [],
      'nothing is wiped',
    );
    assert.equal(readLabState(l.labDir).clusters['cluster-asia']!.bootstrapCount, 1);
  });

  test('mesh.method cilium-connect: the join connects the new cluster to each member, members stay connected, nothing else changes', async () => {
    const l = await suite.lab({ scenario: 'happy', blueprint: withCiliumConnect(SEED_BLUEPRINT) });
    assert.equal(l.plan.meshPhase.method, 'cilium-connect');
    await dayOne(l);
    assert.equal(callsMatching(readCalls(l.labDir), 'cilium', ['clustermesh', 'connect']).length, 1, 'day one: one connect for the one pair');

    const big = await biggerPlan(randomUUID().slice(0, 6), withCiliumConnect(JOINED_BLUEPRINT));
    assert.equal(big.meshPhase.method, 'cilium-connect');
    await extendLab(l.labDir, fleetFromPlan(big), { scenario: 'happy' });
    const before = readLabState(l.labDir);
    const callsBefore = readCalls(l.labDir).length;
    const releasesBefore = Object.fromEntries(FIRST_TWO.map((c) => [c, release(l.labDir, c)]));

    const join = await start(suite.env.client, big, l.taskQueue);
    const day2 = await waitFor(suite.env.client, join.workflowId, isFinished, 300_000);
    assert.equal(day2.state, 'completed', JSON.stringify(day2.blocked ?? day2.error));
    assert.deepEqual(Object.fromEntries(day2.clusters.map((c) => [c.name, c.role])), { 'cluster-usa': 'member', 'cluster-europe': 'member', 'cluster-asia': 'new' });

    // one connect per new pair, each with cluster-asia on one side; the connected member pair is read, not re-connected
    const joinCalls = readCalls(l.labDir).slice(callsBefore);
    const connects = callsMatching(joinCalls, 'cilium', ['clustermesh', 'connect']);
    const pair = (c: CallRecord) => [c.argv[c.argv.indexOf('--context') + 1]!, c.argv[c.argv.indexOf('--destination-context') + 1]!];
    assert.equal(connects.length, 2, JSON.stringify(connects.map(pair)));
    assert.deepEqual(connects.map((c) => pair(c).filter((ctx) => ctx.includes('cluster-asia')).length), [1, 1], JSON.stringify(connects.map(pair)));
    assert.deepEqual(
      connects.map((c) => pair(c).find((ctx) => !ctx.includes('cluster-asia'))!.replace(/^.*@/, '')).sort(),
      ['cluster-europe', 'cluster-usa'],
    );

    // the first two: no Talos call touched their nodes; their release changed only by the peer list
    const oldAddresses = Object.values(before.nodes)
      .filter((n) => FIRST_TWO.includes(n.cluster))
      .map((n) => n.address);
    assert.deepEqual(disruptiveTalosCalls(joinCalls, oldAddresses), []);
    for (const name of FIRST_TWO) {
      assert.equal(release(l.labDir, name).revisions.length, releasesBefore[name]!.revisions.length + 1, `${name}: one new revision, written by its connect`);
      assert.deepEqual(valuesBesidesPeers(release(l.labDir, name)), valuesBesidesPeers(releasesBefore[name]!), `${name}: every other value kept`);
      assert.deepEqual(
        peersOf(release(l.labDir, name)),
        ['cluster-asia', 'cluster-europe', 'cluster-usa'].filter((p) => p !== name),
      );
      assert.equal(readLabState(l.labDir).clusters[name]!.bootstrapCount, 1, `${name} bootstrapped once`);
    }
    assert.deepEqual(peersOf(release(l.labDir, 'cluster-asia')), FIRST_TWO.slice().sort());

    // global services checked after each member's change, as with declarative values
    const parent = await suite.env.client.workflow.getHandle(join.workflowId).fetchHistory();
    const activities = (parent.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
    assert.equal(activities.filter((a) => a === 'globalBackendsKept').length, 2, 'a guard after each member');
    assert.equal(day2.meshSteps.find((s) => s.name === 'mesh-verify')?.state, 'done');
  });

  test('a joining cluster whose ID a live member uses pauses mesh-preflight naming the field; abort stops it with nothing built', async () => {
    const l = await suite.lab({ scenario: 'happy' });
    await dayOne(l);

    const big = await biggerPlan(randomUUID().slice(0, 6));
    // join-id-clash: cluster-usa's cilium-config was edited to cluster-asia's ID (3)
    await extendLab(l.labDir, fleetFromPlan(big), { scenario: 'join-id-clash' });
    const callsBefore = readCalls(l.labDir).length;
    const join = await start(suite.env.client, big, l.taskQueue);
    const paused = await waitFor(suite.env.client, join.workflowId, isPaused, 120_000);
    assert.equal(paused.blocked!.step, 'mesh-preflight');
    assert.equal(paused.blocked!.cluster, undefined, 'a mesh-phase pause');
    assert.match(paused.blocked!.reason, /clusters\[2\]\.id: cluster ID 3 of joining cluster cluster-asia is in use by cluster-usa/);
    assert.match(paused.blocked!.reason, /clusters\[0\]\.id: cluster-usa runs with cluster ID 3/);
    assert.match(paused.blocked!.hint, /set clusters\[2\]\.id/);
    assert.match(paused.blocked!.hint, /meshpilot amend/);
    assert.deepEqual(
      paused.clusters.map((c) => c.step),
      ['not started', 'not started', 'not started'],
      'no cluster workflow started',
    );

    await abortRollout(suite.env.client, join.workflowId, { by: 'alice', via: 'test', reason: 'fix the IDs first' });
    const done = await waitFor(suite.env.client, join.workflowId, isFinished, 60_000);
    assert.equal(done.state, 'aborted');
    assert.equal(done.meshSteps.find((s) => s.name === 'mesh-preflight')?.state, 'aborted');
    assert.ok(
      done.actions.some((a) => a.action === 'abort' && a.by === 'alice'),
      'the abort is in the audit',
    );
    const joinCalls = readCalls(l.labDir).slice(callsBefore);
    assert.deepEqual(
      joinCalls.filter((c) => (c.tool === 'helm' && c.argv[0] === 'upgrade') || (c.tool === 'talosctl' && ['apply-config', 'bootstrap', 'gen'].includes(c.argv[0]!))),
      [],
      'nothing was built or changed',
    );
  });

  test('a worker SIGKILLed mid-join is replaced and the join completes without redoing work', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-join-kill-'));
    const labDir = path.join(dataDir, 'lab');
    const small = await planFromFile(SEED_BLUEPRINT);
    const suffix = randomUUID().slice(0, 6);
    small.revision = `${small.revision}-${suffix}`;
    createLab(labDir, fleetFromPlan(small), { scenario: 'happy' });
    const { taskQueue, spawn: spawnWorker } = labWorkerProcess(suite.env.address, dataDir, 'join-kill');
    let worker = spawnWorker();
    try {
      await dayOne({ plan: small, taskQueue });

      const big = await biggerPlan(suffix);
      await extendLab(labDir, fleetFromPlan(big), { scenario: 'happy' });
      const join = await start(suite.env.client, big, taskQueue);
      // past the joining cluster's bootstrap, then pull the plug
      await waitFor(suite.env.client, join.workflowId, (v) => v.clusters.find((c) => c.name === 'cluster-asia')?.steps.find((s) => s.name === 'bootstrap')?.state === 'done', 300_000);
      worker.kill('SIGKILL');
      await worker;
      worker = spawnWorker();
      const done = await waitFor(suite.env.client, join.workflowId, isFinished, 300_000);
      assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    } finally {
      worker.kill('SIGTERM');
      await worker;
    }
    const state = readLabState(labDir);
    for (const name of [...FIRST_TWO, 'cluster-asia']) assert.equal(state.clusters[name]!.bootstrapCount, 1, `${name} bootstrapped once`);
    assert.equal(callsMatching(readCalls(labDir), 'talosctl', ['gen', 'secrets']).length, 3, 'secrets generated once per cluster, even across the crash');
    for (const name of FIRST_TWO)
      assert.deepEqual(
        peersOf(release(labDir, name)),
        ['cluster-asia', 'cluster-europe', 'cluster-usa'].filter((p) => p !== name),
      );
  });
});
