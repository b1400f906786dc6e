import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { execa } from 'execa';
import { parseCodecKeys } from '../../codec/config.ts';
import { startCodecServer } from '../../codec/server.ts';
import { projectRoot } from '../../config/env.ts';
import { siteTaskQueue } from '../../contracts/names.ts';
import { startTemporal } from '../helpers/temporal.ts';

/** Runs the compose health check the way the container does, as its own process. */
function healthcheck(args: string[], env: Record<string, string> = {}) {
  return execa('node', ['--import', 'tsx', path.join(projectRoot, 'deploy/healthcheck.ts'), ...args], {
    cwd: projectRoot,
    reject: false,
    timeout: 60_000,
    env,
  });
}

describe('container health checks (deploy/healthcheck.ts)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTemporal();
  }, { timeout: 120_000 });
  after(async () => {
    await env?.teardown();
  });

  test('a site worker is healthy only while it polls its site queue from this host', { timeout: 120_000 }, async () => {
    const site = `hc${randomBytes(3).toString('hex')}`;
    const temporal = { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: env.namespace ?? 'default' };
    const before = await healthcheck(['worker', '--site', site], temporal);
    assert.equal(before.exitCode, 1);
    assert.match(before.stderr, new RegExp(`no recent poller .* on task queue ${siteTaskQueue(site)}`));

    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: siteTaskQueue(site),
      activities: { noop: async () => undefined },
    });
    await worker.runUntil(async () => {
      let result = await healthcheck(['worker', '--site', site], temporal);
      // The first long poll can take a moment to register with matching.
      for (let i = 0; i < 10 && result.exitCode !== 0; i++) {
        await new Promise((r) => setTimeout(r, 500));
        result = await healthcheck(['worker', '--site', site], temporal);
      }
      assert.equal(result.exitCode, 0, result.stderr);
    });
  });

  test('http and tcp modes report the codec server up, and a closed port down', { timeout: 60_000 }, async () => {
    const codec = await startCodecServer({ keys: parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`), port: 0, uiOrigins: [] });
    try {
      assert.equal((await healthcheck(['http', `${codec.url}/healthz`])).exitCode, 0);
      assert.equal((await healthcheck(['tcp', codec.url.replace('http://', '')])).exitCode, 0);
    } finally {
      await codec.close();
    }
    const down = await healthcheck(['tcp', codec.url.replace('http://', '')]);
    assert.equal(down.exitCode, 1);
    assert.match(down.stderr, /unhealthy: .*ECONNREFUSED/);
  });
});
