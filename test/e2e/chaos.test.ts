// Chaos: a two-cluster lab rollout served by real `meshpilot worker` processes that start one process per simulated
// call, SIGKILLed at seeded points — just after each kind of effect and in the middle of calls — and replaced each
// time (test/chaos/chaos.ts). The short form runs in `npm test`; `npm run chaos` runs more seeds, both connect
// methods and more kills. MESHPILOT_CHAOS_SEED=N replays one seed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runChaos } from '../chaos/chaos.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';

const full = process.env.MESHPILOT_CHAOS === 'full';
const seeds = process.env.MESHPILOT_CHAOS_SEED ? [Number(process.env.MESHPILOT_CHAOS_SEED)] : full ? [1, 2, 3] : [2];
const methods = full ? (['cilium-connect', 'helm'] as const) : (['cilium-connect'] as const);
const points = full ? 14 : 10;

describe('chaos', () => {
  const suite = useLabSuite();

  for (const seed of seeds) {
    for (const method of methods) {
      test(`seed ${seed}, ${method}: ${points} worker SIGKILLs, the rollout completes and nothing is done twice, orphaned or left on disk`, async () => {
        const r = await runChaos(suite.env.client, { seed, points, method, address: suite.env.address, log: (l) => process.stderr.write(`chaos ${seed}/${method}: ${l}\n`) });
        process.stderr.write(`chaos ${seed}/${method}: ${r.kills} kills, completed in ${Math.round(r.durationMs / 1000)} s\n`);
        const summary = JSON.stringify({ state: r.final.state, blocked: r.final.blocked, error: r.final.error });
        assert.equal(r.final.state, 'completed', summary);
        assert.ok(r.kills >= 10, `${r.kills} kills`);
        assert.deepEqual(r.points.filter((p) => p.firedAt === undefined), [], 'every kill point was reached and fired');
        assert.equal(r.kills, r.points.length, 'one worker death per point');

        // no tool outlives its worker
        assert.deepEqual(r.orphans, [], '0 tool processes alive 2 s after each kill');

        // nothing done twice
        const ok = (tool: string, ...args: string[]) => r.calls.filter((c) => c.tool === tool && c.exitCode === 0 && args.every((a) => c.argv.includes(a)));
        for (const c of Object.values(r.lab.clusters)) assert.equal(c.bootstrapCount, 1, `${c.name}: one bootstrap`);
        for (const n of Object.values(r.lab.nodes)) assert.equal(ok('talosctl', 'apply-config', n.address).length, 1, `${n.name}: configured once`);
        let revisions = 0;
        for (const c of Object.values(r.lab.clusters)) {
          const rel = (c.helm as Record<string, { revisions: Array<{ status: string }> }>)['kube-system/cilium']!;
          // install, clustermesh enable, connect: nothing pending or failed, no revision beyond those three
          assert.deepEqual(rel.revisions.map((x) => x.status), ['superseded', 'superseded', 'deployed'], `${c.name}: cilium release history`);
          revisions += rel.revisions.length;
        }
        const connects = ok('cilium', 'clustermesh', 'connect').length;
        if (method === 'cilium-connect') assert.equal(connects, 1, 'one connect per pair');
        // every revision is one helm install/upgrade (cilium clustermesh connect upgrades both clusters' releases)
        assert.equal(revisions, ok('helm', 'upgrade').length + 2 * connects, 'one helm install per release revision');

        // one Talos secrets bundle per cluster: every node's config carries the CA of the stored bundle, even where a
        // kill right after `gen secrets` discarded an unstored one (docs/crash.md states this guarantee)
        for (const [cluster, ca] of Object.entries(r.talosCa)) {
          for (const [node, sha] of Object.entries(ca.nodes)) assert.equal(sha, ca.bundle, `${cluster}/${node}: config from the stored bundle`);
        }

        // worker restarts did not use up any step's retries: no step paused, none ran twice
        for (const [where, steps] of [...r.final.clusters.map((c) => [c.name, c.steps] as const), ['mesh', r.final.meshSteps] as const]) {
          for (const s of steps) assert.ok(s.state === 'done' && s.attempts === 1, `${where}/${s.name}: ${s.state} after ${s.attempts} runs`);
        }

        // secrets: not a byte on disk, and the RAM-backed scratch is empty once the last worker stopped
        assert.deepEqual(r.secretsOnDisk, [], '0 secret bytes on disk');
        assert.deepEqual(r.scratchLeft, [], 'the secret scratch is empty');
      });
    }
  }
});
