// `watch` and `rollout --wait` into a pipe: one line per change (cluster, step, state), never the whole view again;
// `watch --json`: one object per change in the documented shape (watchEventSchema).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { progressEvents, renderProgressEvent, watchEventSchema, type WatchEvent } from '../../cli/render/progress.ts';
import type { RolloutView, StepState, StepStatus } from '../../contracts/status.ts';
import { CLUSTER_STEPS, MESH_STEPS } from '../../contracts/steps.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isPaused, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

const io: CliIO = { out: () => {}, err: () => {}, isTTY: false, color: false, env: {} };

/** A view where each cluster has passed `done` steps and the next one is in `state`. */
function view(clusters: Record<string, [done: number, state: StepState]>, runState: RolloutView['state'] = 'running', blocked?: RolloutView['blocked']): RolloutView {
  const steps = (defs: readonly { name: string; title: string }[], done: number, state: StepState): StepStatus[] =>
    defs.map((d, i) => ({ name: d.name as StepStatus['name'], title: d.title, attempts: 0, state: i < done ? 'done' : i === done ? state : 'pending' }));
  return {
    id: 'rev1',
    workflowId: 'rollout-m-rev1',
    mesh: 'm',
    revision: 'rev1',
    state: runState,
    startedAt: '',
    updatedAt: '',
    clusters: Object.entries(clusters).map(([name, [done, state]]) => ({ name, workflowId: `w-${name}`, state: runState, step: 'preflight', steps: steps(CLUSTER_STEPS, done, state), actions: [], outputs: {} })),
    meshSteps: steps(MESH_STEPS, 1, 'pending'),
    actions: [],
    startedBy: { by: 't', via: 't' },
    ...(blocked ? { blocked } : {}),
  };
}

describe('progress as changes', () => {
  test('first look: the rollout, then each cluster where it is; then only what changed, in step order', () => {
    const first = progressEvents(undefined, view({ a: [1, 'running'], b: [0, 'running'] }), 'T0');
    assert.deepEqual(
      first.map((e) => (e.type === 'step' ? [e.cluster, e.step, e.state] : [e.type, e.state])),
      [['rollout', 'running'], ['a', 'boot', 'running'], ['b', 'preflight', 'running'], [null, MESH_STEPS[0]!.name, 'done']],
    );
    const next = progressEvents(view({ a: [1, 'running'], b: [0, 'running'] }), view({ a: [3, 'running'], b: [0, 'running'] }), 'T1');
    assert.deepEqual(
      next.map((e) => e.type === 'step' && [e.cluster, e.step, e.state]),
      [['a', 'boot', 'done'], ['a', 'talos-config', 'done'], ['a', 'apply-config', 'running']],
    );
    assert.deepEqual(progressEvents(view({ a: [3, 'running'] }), view({ a: [3, 'running'] })), [], 'no change, no line');
  });

  test('a pause is a step change and a rollout change carrying where and why; every event fits the schema', () => {
    const blocked = { cluster: 'a', step: 'boot' as const, reason: 'node x never answers', hint: 'check its cable', since: 'T', overridable: false, skippable: true, workflowId: 'w-a' };
    const events = progressEvents(view({ a: [1, 'running'] }), view({ a: [1, 'blocked'] }, 'paused', blocked), 'T2');
    assert.deepEqual(events.map((e) => e.type), ['step', 'rollout']);
    const paused = events[1] as Extract<WatchEvent, { type: 'rollout' }>;
    assert.deepEqual([paused.state, paused.blocked?.cluster, paused.blocked?.step, paused.blocked?.reason], ['paused', 'a', 'boot', 'node x never answers']);
    for (const e of events) assert.deepEqual(watchEventSchema.parse(JSON.parse(JSON.stringify(e))), e);
    const text = events.map((e) => renderProgressEvent(io, e, view({ a: [1, 'blocked'] }, 'paused', blocked), 4)).join('');
    assert.match(text, /^⏸ a {5}boot {17}blocked\n/);
    assert.match(text, /⏸ paused at a\/boot since T\n {2}reason: node x never answers\n {2}hint: {3}check its cable/);
    assert.match(text, /meshpilot skip rollout-m-rev1 --step boot/);
  });
});

describe('watch on a real lab rollout, into a pipe', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  let cliEnv: NodeJS.ProcessEnv;
  before(async () => {
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'node-unreachable' });
    cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: env.address, MESHPILOT_DATA_DIR: lab.dataDir, MESHPILOT_TASK_QUEUE: lab.taskQueue, NO_COLOR: '1' };
  });
  after(async () => {
    await lab?.stop();
    await env?.teardown();
  });

  async function cli(...argv: string[]) {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env: cliEnv });
    return { code, out, err };
  }

  test('--json streams one object per change until the pause; without it, one line per change', async () => {
    const { workflowId } = await start(env.client, lab.plan, lab.taskQueue);
    const streamed = await cli('watch', workflowId, '--until-paused', '--json');
    assert.equal(streamed.code, 0, streamed.err);
    const events = streamed.out.trimEnd().split('\n').map((l) => watchEventSchema.parse(JSON.parse(l)));
    assert.equal(events[0]?.type, 'rollout');
    const last = events.at(-1)!;
    assert.ok(last.type === 'rollout' && last.state === 'paused', JSON.stringify(last));
    assert.deepEqual([last.blocked?.cluster, last.blocked?.step], ['cluster-usa', 'boot']);
    assert.match(last.blocked!.reason, /usa-worker-1/);
    assert.ok(events.some((e) => e.type === 'step' && e.cluster === 'cluster-usa' && e.step === 'boot' && e.state === 'blocked'));
    const seen = events.filter((e) => e.type === 'step').map((e) => `${e.cluster}/${e.step}/${e.state}`);
    assert.equal(new Set(seen).size, seen.length, 'each change once');

    await waitFor(env.client, workflowId, isPaused);
    const lines = await cli('watch', workflowId, '--until-paused');
    assert.equal(lines.code, 0, lines.err);
    assert.match(lines.out, /^⏸ cluster-usa +boot +blocked$/m);
    assert.match(lines.out, /paused at cluster-usa\/boot/);
    assert.equal(lines.out.match(/rollout-usa-europe-\S+ {2}revision/g)?.length, 1, `the rollout's head once, not a frame per look:\n${lines.out}`);
  });

  test('healed with `lab heal` and resumed, the stream ends with the completed rollout; bad --lab input is refused', async () => {
    const [paused] = await (await import('../../client/rollouts.ts')).listRollouts(env.client, { state: 'paused' });
    assert.ok(paused, 'the rollout of the previous test is paused');
    const notBroken = await cli('lab', 'heal', 'node-unreachable', 'usa-cp-1');
    assert.equal(notBroken.code, 1);
    assert.match(notBroken.err, /node-unreachable usa-cp-1 is not broken \(broken now: node-unreachable usa-worker-1\)/);
    const healed = await cli('lab', 'heal', 'node-unreachable', 'usa-worker-1');
    assert.equal(healed.code, 0, healed.err);
    assert.equal((await cli('resume', paused.workflowId)).code, 0);
    const rest = await cli('watch', paused.workflowId, '--json');
    assert.equal(rest.code, 0, rest.err);
    const events = rest.out.trimEnd().split('\n').map((l) => watchEventSchema.parse(JSON.parse(l)));
    const last = events.at(-1)!;
    assert.ok(last.type === 'rollout' && last.state === 'completed', JSON.stringify(last));

    const badScenario = await cli('rollout', 'examples/usa-europe.yaml', '--json', '--wait', '--lab', 'nope');
    assert.equal(badScenario.code, 2, 'a bad scenario is refused before anything starts');
    const latency = await cli('rollout', 'examples/usa-europe.yaml', '--lab', '--tool-latency', '5');
    assert.equal(latency.code, 2);
    assert.match(latency.err, /--tool-latency: only with a scenario/);
  });
});
