import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { stringify, parse } from 'yaml';
import type { CliIO } from '../../cli/io.ts';
import { register as registerValidate } from '../../cli/commands/validate.ts';
import { register as registerPlan } from '../../cli/commands/plan.ts';
import { EXAMPLES, example } from './fixtures.ts';

const BIN = new URL('../../bin/meshpilot.mjs', import.meta.url).pathname;

interface Run { code: number; out: string; err: string }

/** The commands as cli/main.ts wires them, with captured streams; a throw would be a stack trace to a user. */
async function run(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env: {} };
  const program = new Command('meshpilot').exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  registerValidate(program, io);
  registerPlan(program, io);
  await program.parseAsync(args, { from: 'user' });
  return { code: io.exitCode ?? 0, out, err };
}

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'meshpilot-bp-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

async function oneError(path: string): Promise<{ path: string; message: string; line?: number }> {
  const r = await run('validate', path, '--json');
  assert.equal(r.code, 1);
  const body = JSON.parse(r.out);
  assert.equal(body.ok, false);
  assert.equal(body.errors.length, 1, JSON.stringify(body.errors));
  assert.doesNotMatch(r.out + r.err, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  return body.errors[0];
}

describe('meshpilot validate', () => {
  test('the seed example is valid: exit 0', async () => {
    const r = await run('validate', `${EXAMPLES}usa-europe.yaml`);
    assert.equal(r.code, 0);
    assert.match(r.out, /^valid: .*usa-europe\.yaml \(2 clusters; 0 error\(s\), 0 warning\(s\)\)/m);
  });
  test('--json gives {ok, errors, warnings} with field paths and YAML lines', async () => {
    const text = readFileSync(`${EXAMPLES}usa-europe.yaml`, 'utf8').replace('podSubnets: [10.2.0.0/16]', 'podSubnets: [10.1.128.0/17]');
    const r = await run('validate', file('overlap.yaml', text), '--json');
    assert.equal(r.code, 1);
    const body = JSON.parse(r.out);
    assert.deepEqual(Object.keys(body), ['ok', 'errors', 'warnings']);
    const e = body.errors.find((x: { path: string }) => x.path === 'clusters[1].network.podSubnets[0]');
    assert.ok(e, r.out);
    const expectedLine = text.split('\n').findIndex((l) => l.includes('10.1.128.0/17')) + 1;
    assert.equal(e.line, expectedLine);
  });
  test('human output names file:line, path and fix', async () => {
    const text = readFileSync(`${EXAMPLES}usa-europe.yaml`, 'utf8').replace('id: 2', 'id: 1');
    const p = file('dup-id.yaml', text);
    const r = await run('validate', p);
    assert.equal(r.code, 1);
    const lines = text.split('\n');
    const europe = lines.indexOf('  - name: cluster-europe');
    const line = lines.findIndex((l, i) => i > europe && l.trim() === 'id: 1') + 1;
    assert.ok(r.out.includes(`error   ${p}:${line}: clusters[1].id: cluster ID 1 is already used by cluster-usa`), r.out);
    assert.match(r.out, /^invalid: /m);
  });
  test('unreadable YAML: one error with its line', async () => {
    const e = await oneError(file('broken.yaml', 'apiVersion: meshpilot.dev/v1alpha1\nkind: [unclosed\nmetadata: {}\n'));
    assert.match(e.message, /^not valid YAML/);
    assert.equal(typeof e.line, 'number');
  });
  test('a wrong type: one error naming the field', async () => {
    const doc = example('usa-europe');
    doc.clusters[0].id = 'one';
    const e = await oneError(file('wrong-type.yaml', stringify(doc)));
    assert.equal(e.path, 'clusters[0].id');
    assert.match(e.message, /expected number/);
  });
  test('an unknown field: one error naming it, at its line', async () => {
    const text = readFileSync(`${EXAMPLES}usa-europe.yaml`, 'utf8').replace('    region: eu\n', '    region: eu\n    regoin: eu\n');
    const e = await oneError(file('unknown.yaml', text));
    assert.equal(e.path, 'clusters[1].regoin');
    assert.match(e.message, /unknown field "regoin"/);
    assert.equal(e.line, text.split('\n').indexOf('    regoin: eu') + 1);
  });
  test('a 10 MB file: one error, not read', async () => {
    const e = await oneError(file('huge.yaml', `# ${'x'.repeat(10 * 1024 * 1024)}\n`));
    assert.match(e.message, /10\.\d MB; a blueprint is at most 1 MiB/);
  });
  test('a missing file, an empty file, a directory, two documents', async () => {
    assert.match((await oneError(join(dir, 'nope.yaml'))).message, /cannot read .*: no such file/);
    assert.match((await oneError(file('empty.yaml', '\n# nothing\n'))).message, /empty/);
    assert.match((await oneError(dir)).message, /not a regular file|directory/);
    assert.match((await oneError(file('two.yaml', 'a: 1\n---\nb: 2\n'))).message, /more than one YAML document/);
  });
  test('a YAML scalar instead of a mapping', async () => {
    const e = await oneError(file('scalar.yaml', 'just a string\n'));
    assert.match(e.message, /expected object/);
  });
  test('--strict turns an unverified version into an error', async () => {
    const text = readFileSync(`${EXAMPLES}usa-europe.yaml`, 'utf8').replace('cilium: 1.16.19', 'cilium: 1.18.0');
    const p = file('v.yaml', text);
    assert.equal((await run('validate', p)).code, 0);
    assert.equal((await run('validate', p, '--strict')).code, 1);
  });
});

describe('meshpilot plan', () => {
  test('human view: cluster table and the step graph of every cluster and the mesh', async () => {
    const r = await run('plan', `${EXAMPLES}three-regions.yaml`);
    assert.equal(r.code, 0);
    assert.match(r.out, /^cluster-usa\s+1\s+us\s+usa\s+3 cp \+ 1 w\s+10\.1\.0\.0\/16\s+10\.96\.0\.0\/16\s+l2 192\.168\.10\.240\/28\s+192\.168\.10\.241$/m);
    assert.match(r.out, /^cluster-asia\s+3\s+ap\s+asia/m);
    for (const c of ['cluster-usa', 'cluster-europe', 'cluster-asia']) assert.match(r.out, new RegExp(`^cluster ${c} `, 'm'));
    assert.match(r.out, /^\s+12\. clustermesh-address - /m);
    assert.match(r.out, /^\s+6\. apply-manifests \(skippable\)/m);
    assert.match(r.out, /^\s+1\. mesh-preflight - [^\n]+\n[^]*^\s+2\. mesh-ca - [^\n]+\n[^]*^cluster cluster-usa /m, 'the live-mesh read and the shared CA are planned before the clusters, as they run');
    assert.match(r.out, /^\s+7\. etcd-latency \(gate: overridable\)/m);
  });
  test('--json prints the plan; --out writes every artifact', async () => {
    const out = join(dir, 'artifacts');
    const r = await run('plan', `${EXAMPLES}usa-europe.yaml`, '--json', '--out', out);
    assert.equal(r.code, 0);
    const plan = JSON.parse(r.out);
    assert.equal(plan.mesh, 'usa-europe');
    assert.match(plan.revision, /^[0-9a-f]{16}$/);
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'plan.json'), 'utf8')), plan);
    const values = parse(readFileSync(join(out, 'cluster-europe/cilium/values.yaml'), 'utf8'));
    assert.deepEqual(values.cluster, { name: 'cluster-europe', id: 2 });
    for (const f of ['talos/patch-all.yaml', 'talos/patch-controlplane.yaml', 'talos/patch-worker.yaml', 'cilium/values-clustermesh.yaml', 'cilium/values-connect.yaml', 'lb-ipam.yaml', 'global-canary.yaml', 'mesh-manifests.yaml']) {
      assert.ok(existsSync(join(out, 'cluster-usa', f)), f);
    }
  });
  test('an invalid blueprint: exit 1 with the errors, no plan', async () => {
    const text = readFileSync(`${EXAMPLES}usa-europe.yaml`, 'utf8').replace('encryption: wireguard', 'encryption: none');
    const r = await run('plan', file('clear.yaml', text));
    assert.equal(r.code, 1);
    assert.match(r.out, /mesh\.encryption: nodes sit at sites/);
    assert.doesNotMatch(r.out, /clustermesh-enable/);
  });
});

describe('the real binary', () => {
  test('bin/meshpilot.mjs validate: exit 0 on the example, exit 1 and one line per error on a broken file, no stack trace', async () => {
    const ok = await execa('node', [BIN, 'validate', `${EXAMPLES}usa-europe.yaml`], { reject: false, timeout: 60_000 });
    assert.equal(ok.exitCode, 0, ok.stderr);
    const bad = await execa('node', [BIN, 'validate', file('bin-broken.yaml', 'kind: [\n')], { reject: false, timeout: 60_000 });
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stdout, /bin-broken\.yaml:\d+: \(file\): not valid YAML/);
    assert.doesNotMatch(bad.stdout + bad.stderr, /\n\s+at /);
  });
});
