// `meshpilot lab init` on a lab that exists (lab/fleet.ts extendLab): the clusters it holds stay exactly as they
// are, the blueprint's new ones are added, a conflicting cluster or address is refused.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { projectRoot } from '../../config/env.ts';
import { createLab, extendLab, LabConflictError } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { readLabState, withLabState } from '../../lab/state.ts';

const example = (name: string) => planFromFile(path.join(projectRoot, 'examples', name));

describe('lab init on an existing lab', () => {
  test('keeps the clusters it holds exactly as they are and adds the new ones', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-lab-extend-')), 'lab');
    createLab(dir, fleetFromPlan(await example('usa-europe.yaml')), { scenario: 'happy' });
    await withLabState(dir, (s) => {
      s.clusters['cluster-usa']!.bootstrapCount = 1;
      s.clusters['cluster-usa']!.extra['marker'] = 'kept';
      for (const n of Object.values(s.nodes)) if (n.cluster === 'cluster-usa') n.stage = 'running';
    });
    const before = readLabState(dir);
    const r = await extendLab(dir, fleetFromPlan(await example('usa-europe-asia.yaml')), { scenario: 'join-id-clash' });
    assert.deepEqual(r.kept, ['cluster-usa', 'cluster-europe']);
    assert.deepEqual(r.added, ['cluster-asia']);
    assert.deepEqual(r.unlisted, []);
    const after = readLabState(dir);
    for (const name of r.kept) assert.deepEqual(after.clusters[name], before.clusters[name], `${name} unchanged`);
    for (const [addr, n] of Object.entries(before.nodes)) assert.deepEqual(after.nodes[addr], n);
    assert.ok(Object.values(after.nodes).some((n) => n.cluster === 'cluster-asia' && n.stage === 'maintenance'));
    assert.equal(after.scenario, 'join-id-clash');
    assert.deepEqual(after.faults.clusterIdEdited, { cluster: 'cluster-usa', id: 3 });

    // the smaller blueprint again: cluster-asia is left alone, named as not listed
    const again = await extendLab(dir, fleetFromPlan(await example('usa-europe.yaml')), { scenario: 'happy' });
    assert.deepEqual(again.added, []);
    assert.deepEqual(again.unlisted, ['cluster-asia']);
  });

  test('a cluster held with other nodes is refused, never rebuilt in place', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-lab-extend-')), 'lab');
    const plan = await example('usa-europe.yaml');
    createLab(dir, fleetFromPlan(plan), { scenario: 'happy' });
    const changed = fleetFromPlan(plan);
    changed.clusters[0]!.nodes = changed.clusters[0]!.nodes.slice(1);
    await assert.rejects(extendLab(dir, changed, { scenario: 'happy' }), (e: Error) => e instanceof LabConflictError && /cluster-usa with other nodes/.test(e.message));
  });
});
