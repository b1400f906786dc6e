import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MUTATING, parseMeshCommand } from '../../chat/command-text.ts';
import { listBlueprints, resolveBlueprint } from '../../chat/blueprints.ts';
import { AllowList } from '../../chat/allow-list.ts';

describe('/mesh text', () => {
  test('parses every subcommand into a typed command', () => {
    assert.deepEqual(parseMeshCommand(''), { ok: true, command: { kind: 'help' } });
    assert.deepEqual(parseMeshCommand('  plan   usa-europe '), { ok: true, command: { kind: 'plan', name: 'usa-europe' } });
    assert.deepEqual(parseMeshCommand('ROLLOUT usa-europe'), { ok: true, command: { kind: 'rollout', name: 'usa-europe' } });
    assert.deepEqual(parseMeshCommand('status'), { ok: true, command: { kind: 'status', target: undefined } });
    assert.deepEqual(parseMeshCommand('resume rollout-x pool fixed'), { ok: true, command: { kind: 'resume', target: 'rollout-x', reason: 'pool fixed' } });
    assert.deepEqual(parseMeshCommand('abort usa-europe wrong window'), { ok: true, command: { kind: 'abort', target: 'usa-europe', reason: 'wrong window' } });
    assert.deepEqual(parseMeshCommand('schedule usa-europe 6h'), { ok: true, command: { kind: 'schedule', name: 'usa-europe', every: '6h' } });
    assert.deepEqual(parseMeshCommand('detach usa-europe cluster-asia region closed'), {
      ok: true,
      command: { kind: 'detach', mesh: 'usa-europe', cluster: 'cluster-asia', reason: 'region closed' },
    });
    assert.deepEqual(parseMeshCommand('backup usa-europe'), { ok: true, command: { kind: 'backup', name: 'usa-europe' } });
    assert.deepEqual(parseMeshCommand('backup usa-europe cluster-usa'), { ok: true, command: { kind: 'backup', name: 'usa-europe', cluster: 'cluster-usa' } });
    assert.deepEqual(parseMeshCommand('drill usa-europe cluster-usa drill-cp-1=192.168.10.90'), {
      ok: true,
      command: { kind: 'drill', name: 'usa-europe', cluster: 'cluster-usa', node: 'drill-cp-1=192.168.10.90' },
    });
    assert.deepEqual(parseMeshCommand('drill failover usa-europe us'), { ok: true, command: { kind: 'failover-drill', name: 'usa-europe', region: 'us' } });
    assert.deepEqual(parseMeshCommand('drill failover usa-europe eu default/payment-api'), { ok: true, command: { kind: 'failover-drill', name: 'usa-europe', region: 'eu', service: 'default/payment-api' } });
    // a blueprint named `failover` keeps its restore drills: they carry NODE=ADDRESS
    assert.deepEqual(parseMeshCommand('drill failover cluster-usa drill-cp-1=192.168.10.90'), {
      ok: true,
      command: { kind: 'drill', name: 'failover', cluster: 'cluster-usa', node: 'drill-cp-1=192.168.10.90' },
    });
  });

  test('bad input names what is wrong and shows usage', () => {
    const unknown = parseMeshCommand('deploy usa-europe');
    assert.equal(unknown.ok, false);
    assert.match(!unknown.ok ? unknown.message : '', /^unknown command `deploy`[\s\S]*\/mesh rollout NAME/);
    const noReason = parseMeshCommand('abort rollout-x');
    assert.match(!noReason.ok ? noReason.message : '', /needs a rollout id .* and a reason/);
    assert.equal(parseMeshCommand('rollout a b').ok, false);
    const noDetachReason = parseMeshCommand('detach usa-europe cluster-asia');
    assert.match(!noDetachReason.ok ? noDetachReason.message : '', /`detach` needs the mesh, the cluster and a reason/);
    const backupTooMany = parseMeshCommand('backup usa-europe cluster-usa extra');
    assert.match(!backupTooMany.ok ? backupTooMany.message : '', /`backup` takes a blueprint name and, optionally, one cluster/);
    const failoverShort = parseMeshCommand('drill failover usa-europe');
    assert.match(!failoverShort.ok ? failoverShort.message : '', /`drill failover` takes a blueprint name, a region and, optionally, one global service/);
  });

  test('only read commands are open to everyone', () => {
    assert.deepEqual([...MUTATING].sort(), ['abort', 'backup', 'detach', 'drill', 'failover-drill', 'resume', 'rollout', 'schedule', 'verify']);
  });
});

describe('blueprints by name', () => {
  let dir: string;
  let outside: string;
  before(() => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-bp-'));
    dir = path.join(root, 'blueprints');
    outside = path.join(root, 'secret.yaml');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'usa-europe.yaml'), 'x: 1\n');
    writeFileSync(path.join(dir, 'lab.yml'), 'x: 1\n');
    writeFileSync(path.join(dir, 'Not_A_Name.yaml'), 'x: 1\n');
    writeFileSync(outside, 'x: 1\n');
    symlinkSync(outside, path.join(dir, 'escape.yaml'));
  });
  after(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  test('a name maps to <dir>/<name>.yaml or .yml', async () => {
    assert.equal(path.basename(await resolveBlueprint(dir, 'usa-europe')), 'usa-europe.yaml');
    assert.equal(path.basename(await resolveBlueprint(dir, 'lab')), 'lab.yml');
    // escape.yaml links outside the directory: never offered (#12, case 11)
    assert.deepEqual(await listBlueprints(dir), ['lab', 'usa-europe']);
  });

  test('paths, traversal, odd names and symlinks out of the directory are refused', async () => {
    for (const name of ['../secret', '/etc/passwd', 'usa-europe.yaml', 'a/b', '..', 'Not_A_Name', '-x']) {
      await assert.rejects(resolveBlueprint(dir, name), /is not a blueprint name/, name);
    }
    await assert.rejects(resolveBlueprint(dir, 'escape'), /points outside the blueprint directory/);
    await assert.rejects(resolveBlueprint(dir, 'nope'), /no blueprint named nope \(available: lab, usa-europe\)/);
  });
});

describe('allow-list', () => {
  const allow = new AllowList(['U1OPS'], ['C1OPS']);
  test('needs both an allowed user and an allowed channel', () => {
    assert.deepEqual(allow.mayChange('U1OPS', 'C1OPS'), { ok: true });
    const user = allow.mayChange('U2DEV', 'C1OPS');
    assert.match(!user.ok ? user.message : '', /not on the list.*SLACK_ALLOWED_USERS/);
    const channel = allow.mayChange('U1OPS', 'C9RANDOM');
    assert.match(!channel.ok ? channel.message : '', /SLACK_ALLOWED_CHANNELS/);
    assert.equal(new AllowList([], ['C1OPS']).mayChange('U1OPS', 'C1OPS').ok, false);
  });
});
