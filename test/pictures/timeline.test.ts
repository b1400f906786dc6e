// The rollout timeline, from real histories of lab rollouts on the real dev server: while paused and after an
// operator resumed and amended it (lb-pending), overridden with payload encryption on (etcd-slow), skipped and
// aborted (node-unreachable). Every lane, step and action is in the picture and in report.html; each step's
// state and time agree with what the workflows themselves report; both open in Chromium.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { parseCodecKeys } from '../../codec/config.ts';
import { dataConverter } from '../../codec/data-converter.ts';
import { EncryptedHistory, fetchRolloutFacts } from '../../client/rollout-history.ts';
import { actOnStep, abortRollout, amendRollout, getRolloutView } from '../../client/rollouts.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { writeOut } from '../../cli/out-dir.ts';
import { projectRoot } from '../../config/env.ts';
import type { RolloutView, StepStatus } from '../../contracts/status.ts';
import { CLUSTER_STEPS, MESH_STEPS } from '../../contracts/steps.ts';
import type { Lane, TimelineModel } from '../../pictures/timeline/model.ts';
import { rolloutReport } from '../../pictures/timeline/report.ts';
import { useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';
import { launchChromium, type HeadlessBrowser } from '../ui/browser.ts';
import { assertRenders } from './browser-check.ts';
import { svgText, svgTitles } from './svg-text.ts';

const FIXED_POOL = path.join(projectRoot, 'examples', 'usa-europe-pool-fixed.yaml');

/** The timeline agrees with the workflows' own step status (their query): same states, and each bar lies inside
 * its step's [start, end] on the server's clock (an activity is scheduled after its step starts and closes before
 * the workflow sees it done). */
function assertMatchesWorkflows(m: TimelineModel, view: RolloutView): void {
  const check = (lane: Lane, steps: StepStatus[]) => {
    const reached = steps.filter((s) => s.state !== 'pending');
    assert.deepEqual(
      lane.bars.map((b) => b.step),
      reached.map((s) => s.name),
      `${lane.name}: the steps in the picture are the steps the workflow ran`,
    );
    for (const s of reached) {
      const bar = lane.bars.find((b) => b.step === s.name)!;
      const expected = s.state === 'blocked' ? 'paused' : s.state;
      assert.equal(bar.state, expected, `${lane.name}/${s.name}`);
      if (s.state === 'done' && s.startedAt && s.endedAt) {
        assert.ok(m.startedAt + bar.from >= Date.parse(s.startedAt) - 1, `${lane.name}/${s.name} starts in the picture before the workflow started it`);
        assert.ok(m.startedAt + bar.to <= Date.parse(s.endedAt) + 1, `${lane.name}/${s.name} ends in the picture after the workflow saw it done`);
      }
    }
  };
  check(
    m.lanes.find((l) => l.kind === 'mesh')!,
    view.meshSteps,
  );
  for (const c of view.clusters)
    check(
      m.lanes.find((l) => l.name === c.name)!,
      c.steps,
    );
}

describe('rollout timeline and report', () => {
  const suite = useLabSuite();
  let browser: HeadlessBrowser;
  const out = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-report-'));
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  test('lb-pending: the pause while it lasts; then resume and amend are markers with who and why, the pause ends by the amendment, the critical path runs through Europe', async () => {
    const l = await suite.lab({ scenario: 'lb-pending' });
    const client = suite.env.client;
    const { workflowId } = await start(client, l.plan, l.taskQueue);
    await waitFor(client, workflowId, isPaused);

    // while paused: an open timeline, Europe's lb-ipam shaded with Cilium's diagnosis and the hint
    const open = rolloutReport(await fetchRolloutFacts(client, workflowId)).model;
    assert.equal(open.state, 'paused');
    assert.equal(open.open, true);
    const pausedBar = open.lanes.find((x) => x.name === 'cluster-europe')!.bars.at(-1)!;
    assert.deepEqual([pausedBar.step, pausedBar.state], ['lb-ipam', 'paused']);
    assert.equal(open.pauses.length, 1);
    assert.equal(open.pauses[0]!.to, undefined, 'still paused');
    assert.match(open.pauses[0]!.reasons[0]!.reason, /cluster-europe-pool|out_of_ips|legacy-ingress/);
    assert.match(open.pauses[0]!.reasons[0]!.hint, /pool/);
    assert.notEqual(open.lanes.find((x) => x.name === 'cluster-usa')!.state, 'paused');

    // an operator re-checks (still no address), then amends the pool
    await actOnStep(client, workflowId, 'resume', { by: 'bob', via: 'test', reason: 'is it free now?' });
    await waitFor(client, workflowId, (v) => (v.clusters.find((c) => c.name === 'cluster-europe')?.steps.find((s) => s.name === 'lb-ipam')?.blocked?.rechecks ?? 0) >= 1);
    const fixed = await planFromFile(FIXED_POOL);
    await amendRollout(client, workflowId, { by: 'alice', via: 'test', reason: 'bigger pool', plan: fixed });
    const done = await waitFor(client, workflowId, isFinished, 180_000);
    assert.equal(done.state, 'completed');

    // the CLI writes the three files
    let stdout = '';
    let stderr = '';
    const io: CliIO = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), isTTY: false, color: false, env: { TEMPORAL_ADDRESS: suite.env.address, PATH: process.env.PATH } };
    const dir = path.join(out, 'lb-pending');
    assert.equal(await main(['report', workflowId, '--out', dir], io), 0, stderr);
    assert.match(stdout, /wrote timeline\.svg, report\.html, timeline\.json under/);
    const m = JSON.parse(readFileSync(path.join(dir, 'timeline.json'), 'utf8')) as TimelineModel;

    assert.equal(m.state, 'completed');
    assert.deepEqual(
      m.lanes.map((x) => x.name),
      ['mesh', 'cluster-usa', 'cluster-europe'],
      'one lane per cluster and one for the mesh',
    );
    for (const lane of m.lanes) {
      const steps = lane.kind === 'mesh' ? MESH_STEPS : CLUSTER_STEPS;
      assert.deepEqual(
        lane.bars.map((b) => [b.step, b.state]),
        steps.map((s) => [s.name, 'done']),
        lane.name,
      );
    }
    assertMatchesWorkflows(m, done);
    const pause = m.pauses.find((p) => p.lane === 'cluster-europe' && p.step === 'lb-ipam')!;
    assert.ok(pause.to !== undefined && pause.to > pause.from);
    assert.ok(pause.rechecks >= 2, `re-checked after the resume and after the amendment (${pause.rechecks})`);
    assert.match(pause.endedBy, /amend by alice via test: bigger pool/);
    assert.deepEqual(
      m.actions.map((a) => [a.lane, a.action, a.by, a.reason, a.revision]),
      [
        ['cluster-europe', 'resume', 'bob', 'is it free now?', undefined],
        ['mesh', 'amend', 'alice', 'bigger pool', fixed.revision],
      ],
    );
    assert.deepEqual(m.amendedTo, [fixed.revision]);
    assert.equal(m.critical.slowestCluster, 'cluster-europe');
    assert.ok(m.lanes.find((x) => x.name === 'cluster-europe')!.bars.every((b) => b.critical));
    assert.ok(m.lanes.find((x) => x.name === 'cluster-usa')!.bars.every((b) => !b.critical));
    const applyConfig = m.lanes.find((x) => x.name === 'cluster-usa')!.bars.find((b) => b.step === 'apply-config')!;
    assert.deepEqual(applyConfig.byActivity, { applyMachineConfig: 4, waitNodeRunning: 4 }, 'calls per step, per activity');
    assert.ok(m.lanes.find((x) => x.name === 'cluster-europe')!.bars.find((b) => b.step === 'lb-ipam')!.calls >= 3);

    // the picture: every lane, step and action, with hover text
    const svg = readFileSync(path.join(dir, 'timeline.svg'), 'utf8');
    for (const lane of m.lanes) {
      for (const b of lane.bars) assert.ok(svg.includes(`data-lane="${lane.name}" data-step="${b.step}" data-state="done"`), `${lane.name}/${b.step} is drawn`);
    }
    const titles = svgTitles(svg);
    assert.ok(
      titles.some((t) => /cluster-europe \/ lb-ipam paused for .*ended: a re-check passed after amend by alice/s.test(t) && /reason: .*pool/.test(t) && /hint: /.test(t)),
      'the pause says why on hover',
    );
    assert.ok(titles.some((t) => t === 'resume by bob via test: is it free now?'));
    assert.ok(titles.some((t) => t.startsWith('amend by alice via test: bigger pool (revision ')));
    assert.match(svgText(svg), /Rollout usa-europe: completed in/);
    assert.match(svgText(svg), /critical path .*cluster-europe \(slowest cluster\)/);

    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.ok(!/<script|<link|src="http|href="http/.test(html), 'self-contained: no script and nothing fetched');
    for (const text of ['bob', 'alice', 'bigger pool', 'is it free now?', 'applyMachineConfig ×4', pause.reasons[0]!.reason.slice(0, 40)])
      assert.ok(html.includes(text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')), `report.html shows ${text}`);
    for (const file of ['timeline.svg', 'report.html']) {
      const r = await assertRenders(browser, path.join(dir, file), `timeline-lb-pending-${file.replace('.', '-')}`);
      if (file === 'report.html') assert.match(r.text, /Audit: operator actions[\s\S]*alice/);
    }
  });

  test('etcd-slow with payload encryption: the histories are decoded through the codec; the overridden gate is marked with who and why', async () => {
    const converter = dataConverter(parseCodecKeys(`k1:${randomBytes(32).toString('base64')}`));
    const l = await suite.lab({ scenario: 'etcd-slow', dataConverter: converter });
    const client = new Client({ connection: suite.env.connection, namespace: 'default', dataConverter: converter });
    const { workflowId } = await start(client, l.plan, l.taskQueue);
    await waitFor(client, workflowId, isPaused);
    await actOnStep(client, workflowId, 'override', { by: 'alice', via: 'test', step: 'etcd-latency', reason: 'known slow link, accepted by SRE' });
    const done = await waitFor(client, workflowId, isFinished, 180_000);
    assert.equal(done.state, 'completed');

    const { model: m, files } = rolloutReport(await fetchRolloutFacts(client, workflowId));
    assertMatchesWorkflows(m, done);
    const gate = m.lanes.find((x) => x.name === 'cluster-usa')!.bars.find((b) => b.step === 'etcd-latency')!;
    assert.equal(gate.state, 'overridden');
    assert.match(gate.note ?? '', /overridden by alice via test: known slow link/);
    const pause = gate.pauses[0]!;
    assert.match(pause.reasons[0]!.reason, /usa-cp-2/, 'the encrypted failure was decoded');
    assert.match(pause.endedBy, /overridden by alice/);
    assert.ok(
      m.lanes.find((x) => x.name === 'cluster-usa')!.bars.some((b) => b.step === 'cilium-install' && b.state === 'done'),
      'the run went on after the override',
    );
    assert.deepEqual(
      m.actions.map((a) => [a.lane, a.action, a.step, a.by]),
      [['cluster-usa', 'override', 'etcd-latency', 'alice']],
    );
    assert.ok(files['timeline.svg'].includes('data-lane="cluster-usa" data-step="etcd-latency" data-state="overridden"'));
    // a reader without the keys is told what is missing
    await assert.rejects(fetchRolloutFacts(suite.env.client, workflowId), (e) => e instanceof EncryptedHistory && /set MESHPILOT_CODEC_KEYS/.test(e.message));
  });

  test('node-unreachable: a skipped step and an abort are marked; the aborted step ends the lane', async () => {
    const l = await suite.lab({ scenario: 'node-unreachable' });
    const client = suite.env.client;
    const { workflowId } = await start(client, l.plan, l.taskQueue);
    await waitFor(client, workflowId, isPaused);
    await actOnStep(client, workflowId, 'skip', { by: 'bob', via: 'test', step: 'boot', reason: 'nodes booted by hand from USB' });
    await waitFor(client, workflowId, (v) => isPaused(v) && v.blocked?.step === 'apply-config');
    await abortRollout(client, workflowId, { by: 'carol', via: 'test', reason: 'maintenance window over' });
    const done = await waitFor(client, workflowId, isFinished);
    assert.equal(done.state, 'aborted');

    const { model: m, files } = rolloutReport(await fetchRolloutFacts(client, workflowId));
    assert.equal(m.state, 'aborted');
    assertMatchesWorkflows(m, await getRolloutView(client, workflowId));
    const usa = m.lanes.find((x) => x.name === 'cluster-usa')!;
    assert.deepEqual(usa.bars.map((b) => [b.step, b.state]).slice(0, 4), [
      ['preflight', 'done'],
      ['boot', 'skipped'],
      ['talos-config', 'done'],
      ['apply-config', 'aborted'],
    ]);
    assert.match(usa.bars[1]!.note ?? '', /skipped by bob via test: nodes booted by hand/);
    assert.deepEqual(
      m.actions.map((a) => [a.lane, a.action, a.by]),
      [
        ['cluster-usa', 'skip', 'bob'],
        ['mesh', 'abort', 'carol'],
      ],
    );
    const dir = path.join(out, 'aborted');
    await writeOut(dir, files);
    assert.ok(svgTitles(files['timeline.svg']).includes('abort by carol via test: maintenance window over'));
    await assertRenders(browser, path.join(dir, 'timeline.svg'), 'timeline-aborted-svg');
    await assertRenders(browser, path.join(dir, 'report.html'), 'timeline-aborted-html');
  });
});
