// `meshpilot detach` before anything starts: --plan prints the steps, bad arguments are named with exit code 2.
// The run itself (start, --wait, status) is in test/e2e/day2-join.test.ts.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { z } from 'zod';
import { projectRoot } from '../../config/env.ts';
import { DETACH_STEPS } from '../../contracts/steps.ts';

const meshpilot = (args: string[]) => execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), ...args], { reject: false, env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', NO_COLOR: '1' } });

describe('meshpilot detach (arguments and plan)', () => {
  test('--plan --json prints every step with what it runs, and starts nothing', async () => {
    const r = await meshpilot(['detach', 'usa-europe', 'cluster-asia', '--plan', '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const out = z
      .object({ mesh: z.string(), cluster: z.string(), steps: z.array(z.object({ name: z.string(), runs: z.array(z.string()), details: z.array(z.string()) })) })
      .parse(JSON.parse(r.stdout));
    assert.equal(out.cluster, 'cluster-asia');
    assert.deepEqual(
      out.steps.map((s) => s.name),
      DETACH_STEPS.map((s) => s.name),
    );
    assert.match(out.steps.find((s) => s.name === 'remove-peer')!.runs[0]!, /--reuse-values/);
  });

  test('bad arguments are named, exit 2, before any connection', async () => {
    const noReason = await meshpilot(['detach', 'usa-europe', 'cluster-asia']);
    assert.equal(noReason.exitCode, 2);
    assert.match(noReason.stderr, /--reason: say why the cluster leaves/);
    const badCluster = await meshpilot(['detach', 'usa-europe', 'Cluster_Asia', '--reason', 'region closed']);
    assert.equal(badCluster.exitCode, 2);
    assert.match(badCluster.stderr, /CLUSTER: "Cluster_Asia" is not a cluster name/);
  });
});
