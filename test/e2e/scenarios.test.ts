// The remaining lab scenarios, end to end on the real server and worker: flaky tools are absorbed by retries,
// a helm release left pending is recovered, and a control-plane-only cluster whose nodes keep Talos'
// exclude-from-external-load-balancers label pauses naming that label.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseDocument } from 'yaml';
import { actOnStep } from '../../client/rollouts.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { readLabState } from '../../lab/state.ts';
import { healLab, SEED_BLUEPRINT, useLabSuite } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';

/** The seed's mesh with every worker node removed: control-plane-only clusters. */
function controlPlaneOnlyBlueprint(): string {
  const doc = parseDocument(readFileSync(SEED_BLUEPRINT, 'utf8'));
  const clusters = doc.get('clusters') as { items: Array<{ get(k: string): { items: Array<{ get(k: string): string }> } }> };
  for (const c of clusters.items) {
    const nodes = c.get('nodes');
    nodes.items = nodes.items.filter((n) => n.get('role') !== 'worker');
  }
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cp-only-')), 'cp-only.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

describe('lab scenarios', () => {
  const suite = useLabSuite();

  test('flaky-tools: transient tool failures are retried and the rollout completes with nothing done twice', async () => {
    const l = await suite.lab({ scenario: 'flaky-tools' });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const done = await waitFor(suite.env.client, workflowId, isFinished, 240_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const calls = readCalls(l.labDir);
    assert.ok(calls.filter((c) => c.exitCode !== 0).length >= 5, 'the tools really failed along the way');
    const state = readLabState(l.labDir);
    assert.equal(state.clusters['cluster-usa']!.bootstrapCount, 1);
    assert.equal(state.clusters['cluster-europe']!.bootstrapCount, 1);
    assert.equal(callsMatching(calls, 'talosctl', ['gen', 'secrets']).filter((c) => c.exitCode === 0).length, 2);
  });

  test('helm-stuck-pending: a release left pending-install is recovered, not retried into "another operation is in progress"', async () => {
    const l = await suite.lab({ scenario: 'helm-stuck-pending' });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const done = await waitFor(suite.env.client, workflowId, isFinished, 240_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
    const calls = readCalls(l.labDir);
    const recovery = calls.filter((c) => c.tool === 'helm' && (c.argv.includes('rollback') || c.argv.includes('uninstall')));
    assert.ok(recovery.length >= 1, 'the stuck release was rolled back or uninstalled');
    const release = readLabState(l.labDir).clusters['cluster-usa']!.helm['kube-system/cilium'] as { revisions: Array<{ status: string }> };
    assert.equal(release.revisions.at(-1)?.status, 'deployed');
  });

  test('cp-only-excluded: nothing announces the LB IPs and nothing errors; the pause names the label; fixing the nodes completes', async () => {
    const l = await suite.lab({ scenario: 'cp-only-excluded', blueprint: controlPlaneOnlyBlueprint() });
    const { workflowId } = await start(suite.env.client, l.plan, l.taskQueue);
    const paused = await waitFor(suite.env.client, workflowId, isPaused);
    assert.equal(paused.blocked?.step, 'lb-ipam');
    assert.match(paused.blocked!.reason + paused.blocked!.hint, /node\.kubernetes\.io\/exclude-from-external-load-balancers/);
    await healLab(l.labDir, 'cp-only-excluded');
    await actOnStep(suite.env.client, workflowId, 'resume', { by: 'alice', via: 'test' });
    const done = await waitFor(suite.env.client, workflowId, isFinished, 240_000);
    assert.equal(done.state, 'completed', JSON.stringify(done.blocked ?? done.error));
  });
});
