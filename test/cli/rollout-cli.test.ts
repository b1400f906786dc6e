// The CLI drives a real lab rollout: start, watch until paused, a refused action, resume, completion; every
// --json output is checked against the documented schema.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { projectRoot } from '../../config/env.ts';
import { buildActivityDeps } from '../../workers/deps.ts';
import { createMeshpilotWorker } from '../../workers/worker.ts';
import { runCli } from '../helpers/cli.ts';
import { healLab } from '../helpers/lab-worker.ts';
import { startTemporal } from '../helpers/temporal.ts';

const stepSchema = z.object({ name: z.string(), state: z.enum(['pending', 'running', 'blocked', 'done', 'kept', 'skipped', 'overridden', 'failed', 'aborted']) }).passthrough();
const statusSchema = z.object({
  id: z.string(),
  state: z.enum(['running', 'paused', 'completed', 'failed', 'aborted']),
  clusters: z.array(z.object({ name: z.string(), step: z.string(), state: z.string(), steps: z.array(stepSchema) }).passthrough()).min(2),
  blocked: z.object({ cluster: z.string().nullable(), step: z.string(), reason: z.string().min(1), hint: z.string().min(1) }).passthrough().optional(),
  actions: z.array(z.object({ action: z.string(), by: z.string(), via: z.string() }).passthrough()),
}).passthrough();
const startSchema = z.object({ workflowId: z.string().startsWith('rollout-usa-europe-'), rolloutId: z.string(), started: z.boolean() }).passthrough();
const refusalSchema = z.object({ accepted: z.literal(false), reason: z.string().min(1) });
const listSchema = z.array(z.object({ workflowId: z.string(), mesh: z.string(), state: z.string() }).passthrough());

describe('meshpilot CLI on a lab rollout', () => {
  let env: TestWorkflowEnvironment;
  let stopWorker: () => Promise<void>;
  let cliEnv: NodeJS.ProcessEnv;

  before(async () => {
    env = await startTemporal();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-cli-'));
    const taskQueue = `cli-${randomUUID()}`;
    const secretKey = randomBytes(32).toString('hex');
    cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: env.address, MESHPILOT_DATA_DIR: dataDir, MESHPILOT_TASK_QUEUE: taskQueue, MESHPILOT_SECRET_KEY: secretKey, MESHPILOT_ACTOR: 'carol', NO_COLOR: '1' };
    const { deps, close } = await buildActivityDeps({ dataDir, secretKey, labDir: path.join(dataDir, 'lab'), pollBudgetMs: 2_000 });
    const worker = await createMeshpilotWorker({ connection: env.nativeConnection, namespace: 'default', taskQueue, deps });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await close();
    };
  });
  after(async () => {
    await stopWorker?.();
    await env?.teardown();
  });

  const cli = (...argv: string[]) => runCli(cliEnv, ...argv);

  test('start → watch → pause → refused action → resume → completed', async () => {
    const blueprint = path.join(projectRoot, 'examples/usa-europe.yaml');
    const started = await cli('rollout', blueprint, '--lab', 'node-unreachable', '--json');
    assert.equal(started.code, 0, started.err);
    const { workflowId } = startSchema.parse(JSON.parse(started.out));

    const again = startSchema.parse(JSON.parse((await cli('rollout', blueprint, '--json')).out));
    assert.equal(again.workflowId, workflowId, 'the same change does not start a second rollout');
    assert.equal(again.started, false);

    const watched = await cli('watch', workflowId, '--until-paused');
    assert.equal(watched.code, 0, watched.err);
    assert.match(watched.out, /paused at cluster-usa\/boot/);
    assert.match(watched.out, /meshpilot resume/);

    const status = statusSchema.parse(JSON.parse((await cli('status', workflowId, '--json')).out));
    assert.equal(status.state, 'paused');
    assert.equal(status.blocked?.cluster, 'cluster-usa');
    assert.match(status.blocked!.reason, /usa-worker-1/);

    const list = listSchema.parse(JSON.parse((await cli('list', '--state', 'paused', '--json')).out));
    assert.ok(list.some((r) => r.workflowId === workflowId));

    const refused = await cli('override', workflowId, '--reason', 'let me through', '--json');
    assert.equal(refused.code, 1);
    assert.match(refusalSchema.parse(JSON.parse(refused.out)).reason, /not a gate/);
    const refusedText = await cli('skip', workflowId, '--step', 'bootstrap', '--reason', 'nope');
    assert.equal(refusedText.code, 1);
    assert.match(refusedText.err, /refused: step bootstrap is pending, not paused/);
    const noReason = await cli('abort', workflowId);
    assert.notEqual(noReason.code, 0);
    assert.match(noReason.err, /--reason/);

    await healLab(path.join(cliEnv.MESHPILOT_DATA_DIR!, 'lab'), 'node-unreachable');
    const resumed = await cli('resume', workflowId, '--json');
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(JSON.parse(resumed.out).accepted, true);

    const end = await cli('watch', workflowId);
    assert.equal(end.code, 0, end.err);
    const final = statusSchema.parse(JSON.parse((await cli('status', workflowId, '--json')).out));
    assert.equal(final.state, 'completed');
    assert.equal(final.blocked, undefined);
    assert.ok(final.actions.some((a) => a.action === 'resume' && a.by === 'carol' && a.via === 'cli'));
    assert.match((await cli('status', workflowId)).out, /completed/);
  });

  test('bad input: unknown scenario, unknown rollout, invalid blueprint', async () => {
    const bad = await cli('rollout', path.join(projectRoot, 'examples/usa-europe.yaml'), '--lab', 'nope');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--lab: unknown scenario "nope"/);
    const missing = await cli('status', 'rollout-nope-123');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no rollout with id rollout-nope-123/);
    const invalid = await cli('rollout', path.join(projectRoot, 'package.json'));
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /not a valid blueprint/);
  });
});
