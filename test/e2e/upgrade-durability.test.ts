// Upgrade durability (issue #16): a worker process SIGKILLed while a node upgrades is replaced, and the upgrade
// completes without upgrading any node twice (what each lab node accepted, not only the call log).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { readCalls } from '../../lab/call-log.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { readLabState } from '../../lab/state.ts';
import { nodeVersions, talosVersionOf } from '../../lab/talos/versions.ts';
import { labWorkerProcess, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { NEW, OLD, seedAt, startAndWait, upgradedNode, upgrades } from '../helpers/upgrade.ts';

describe('meshpilot upgrade durability', () => {
  const suite = useLabSuite();

  test('a worker SIGKILLed while a node upgrades is replaced; the upgrade completes without upgrading any node twice', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-upgrade-kill-'));
    const old = await planFromFile(seedAt(OLD));
    old.revision = `${old.revision}-${randomUUID().slice(0, 6)}`;
    const labDir = path.join(dataDir, 'lab');
    createLab(labDir, fleetFromPlan(old), { scenario: 'happy' });
    const { taskQueue, spawn: spawnWorker } = labWorkerProcess(suite.env.address, dataDir, 'upgrade-kill');
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
    // What the nodes received is the truth: a talosctl killed with its worker after the node accepted the request
    // never writes its line to the call log, so the log can only under-count. Every node got exactly one accepted
    // upgrade request (a duplicate is acknowledged and counted too) and runs the new version.
    const state = readLabState(labDir);
    const received = Object.keys(state.nodes).map((a) => [a, nodeVersions(state, a).upgrades, talosVersionOf(state, state.nodes[a]!)] as const);
    assert.ok(received.length > 0);
    assert.deepEqual(received.filter(([, n, v]) => n !== 1 || v !== NEW.talos), [], `one accepted upgrade per node, each on ${NEW.talos}`);
    const logged = new Map<string, number>();
    for (const c of upgrades(readCalls(labDir))) logged.set(upgradedNode(c), (logged.get(upgradedNode(c)) ?? 0) + 1);
    assert.ok([...logged.values()].every((n) => n === 1), `no node asked twice in the call log: ${JSON.stringify([...logged])}`);
  });
});
