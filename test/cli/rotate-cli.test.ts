// `meshpilot rotate certs|ca` before anything starts: --plan prints the steps, bad arguments are named with exit
// code 2. The rotations themselves run in test/e2e/rotate.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { z } from 'zod';
import { projectRoot } from '../../config/env.ts';
import { ROTATE_CA_STEPS, ROTATE_CERTS_STEPS } from '../../contracts/steps.ts';

const meshpilot = (args: string[]) => execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), ...args], { reject: false, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', NO_COLOR: '1' } });
const SEED = path.join(projectRoot, 'examples/usa-europe.yaml');
const planSchema = z.object({ mesh: z.string(), kind: z.enum(['certs', 'ca']), clusters: z.array(z.string()), steps: z.array(z.object({ name: z.string(), runs: z.array(z.string()) })) });

describe('meshpilot rotate (arguments and plan)', () => {
  test('--plan --json: every step of each rotation with what it runs; nothing starts (no server is reachable)', async () => {
    for (const [kind, defs] of [['certs', ROTATE_CERTS_STEPS], ['ca', ROTATE_CA_STEPS]] as const) {
      const r = await meshpilot(['rotate', kind, SEED, '--plan', '--json']);
      assert.equal(r.exitCode, 0, r.stderr);
      const out = planSchema.parse(JSON.parse(r.stdout));
      assert.equal(out.mesh, 'usa-europe');
      assert.deepEqual(out.clusters, ['cluster-usa', 'cluster-europe']);
      assert.deepEqual(out.steps.map((s) => s.name), defs.map((s) => s.name));
    }
    const ca = planSchema.parse(JSON.parse((await meshpilot(['rotate', 'ca', SEED, '--plan', '--json'])).stdout));
    assert.match(ca.steps.find((s) => s.name === 'trust-both')!.runs[0]!, /tls\.caBundle = old \+ new CA.*--reuse-values.*values on stdin/);
    const text = await meshpilot(['rotate', 'ca', SEED, '--plan']);
    assert.equal(text.exitCode, 0, text.stderr);
    assert.match(text.stdout, /rotate ca: usa-europe/);
    assert.match(text.stdout, /drop-old-ca/);
  });

  test('bad arguments are named, exit 2, before any connection', async () => {
    const days = await meshpilot(['rotate', 'certs', SEED, '--warn-days', 'soon']);
    assert.equal(days.exitCode, 2);
    assert.match(days.stderr, /--warn-days: expected a whole number of days from 1 to 3650, got "soon"/);
    const kind = await meshpilot(['rotate', 'keys', SEED]);
    assert.notEqual(kind.exitCode, 0);
    assert.match(kind.stderr, /unknown command 'keys'/);
    const verifyDays = await meshpilot(['verify', SEED, '--cert-warn-days', '0']);
    assert.equal(verifyDays.exitCode, 2);
    assert.match(verifyDays.stderr, /--cert-warn-days: expected a whole number of days from 1 to 3650, got "0"/);
  });
});
