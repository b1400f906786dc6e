// Given the seed's mesh rolled out on the lab (ClusterMesh certificates are real X.509, issued by the lab's chart
// from the mesh CA): verify reports each cluster's certificates and the mesh's trust; a certificate aged into the
// warning window turns verify red with `meshpilot rotate certs` as the hint, and `rotate certs` renews it with the
// mesh connected throughout; `rotate ca` that meets a fault in the middle pauses with the mesh connected, abort
// leaves it connected, and a second run finishes the same CA change: every cluster on the new CA, the old one gone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { secretRefs } from '../../activities/deps.ts';
import { meshCaFacts } from '../../activities/rotate.ts';
import { readMeshTls } from '../../activities/kube/mesh-tls.ts';
import { withKubeconfig } from '../../activities/kube/kubeconfig.ts';
import { abortRollout } from '../../client/rollouts.ts';
import { rotateResult, startRotate } from '../../client/rotate.ts';
import { verifyNow } from '../../client/verify.ts';
import { verdictKey, type VerifyReport } from '../../contracts/verify/report.ts';
import { ageMeshCerts, agedMeshCerts } from '../../lab/drift.ts';
import { clearPendingRelease, leaveReleasePending } from '../../lab/drift.ts';
import { readLabState } from '../../lab/state.ts';
import { historyText } from '../helpers/history.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

const tester = { by: 'tester', via: 'test' };
const DAY = 86_400_000;

describe('ClusterMesh certificate and CA rotation on a rolled-out mesh', () => {
  let env: TestWorkflowEnvironment;
  let lab: LabWorker;
  const verify = (certWarnDays?: number) =>
    verifyNow(env.client, lab.plan, tester, { taskQueue: lab.taskQueue, source: 'examples/usa-europe.yaml', ...(certWarnDays ? { certWarnDays } : {}) });
  const failing = (r: VerifyReport) => r.verdicts.filter((v) => v.status === 'fail').map(verdictKey).sort();
  const tlsOf = (cluster: string) => withKubeconfig(lab.deps, secretRefs.kubeconfig(lab.plan.mesh, cluster), (access) => readMeshTls(lab.deps, access));
  const clusters = () => lab.plan.clusters.map((c) => c.name);

  before(async () => {
    env = await startTemporal();
    lab = await startLabWorker(env, { scenario: 'happy' });
    const started = await start(env.client, lab.plan, lab.taskQueue);
    const view = await waitFor(env.client, started.workflowId, isFinished, 300_000);
    assert.equal(view.state, 'completed', 'the happy rollout completes first');
  });
  after(async () => {
    await lab?.stop();
    await env?.teardown();
  });

  test('after a rollout: every cluster has certificates from the mesh CA, valid about 1095 days, and verify is green', async () => {
    const ca = await meshCaFacts(lab.deps, { mesh: lab.plan.mesh });
    for (const cluster of clusters()) {
      const tls = await tlsOf(cluster);
      assert.deepEqual(tls.leaves.map((l) => l.role).sort(), ['admin', 'local', 'remote', 'server'], cluster);
      for (const l of tls.leaves) {
        assert.equal(l.issuerFingerprint, ca.current.fingerprint, `${cluster} ${l.role}: issued by the mesh CA`);
        const days = (Date.parse(l.notAfter) - Date.parse(l.notBefore)) / DAY;
        assert.ok(Math.abs(days - 1095) < 1, `${cluster} ${l.role}: ${days} days`);
      }
      assert.equal(tls.ca?.fingerprint, ca.current.fingerprint, `${cluster}: cilium-ca is the mesh CA`);
      assert.deepEqual(tls.trust, [ca.current.fingerprint]);
    }
    const report = await verify();
    assert.deepEqual(failing(report), []);
    const certs = report.verdicts.filter((v) => v.check === 'clustermesh-certs');
    assert.equal(certs.length, 2);
    assert.ok(certs.every((v) => v.status === 'ok' && /4 ClusterMesh certificates valid/.test(v.summary)), JSON.stringify(certs));
    assert.equal(report.verdicts.find((v) => v.check === 'clustermesh-trust')?.status, 'ok');
  });

  test('a certificate inside the warning window turns verify red with rotate certs as the hint; rotate certs renews it, the mesh connected after each cluster', async () => {
    await ageMeshCerts(lab.labDir, 'cluster-europe', 10);
    const red = await verify();
    assert.deepEqual(failing(red), ['clustermesh-certs@cluster-europe']);
    const v = red.verdicts.find((x) => verdictKey(x) === 'clustermesh-certs@cluster-europe')!;
    assert.match(v.summary, /server certificate expires \d{4}-\d\d-\d\d \(in (9|10) days\)/);
    assert.match(v.hint, /meshpilot rotate certs examples\/usa-europe\.yaml/);
    assert.equal(v.remediation?.command, 'meshpilot rotate certs examples/usa-europe.yaml');
    // the window is configurable: 10 days left is fine under a 5-day window
    assert.deepEqual(failing(await verify(5)), []);

    const before = await tlsOf('cluster-usa');
    const { workflowId, started } = await startRotate(env.client, { plan: lab.plan, kind: 'certs', by: tester, taskQueue: lab.taskQueue });
    assert.equal(started, true);
    const view = await waitFor(env.client, workflowId, isFinished, 300_000);
    const result = await rotateResult(env.client, workflowId);
    assert.equal(view.state, 'completed', JSON.stringify({ steps: view.meshSteps, result }));
    assert.ok(Date.parse(result.earliestExpiry!) > Date.now() + 1000 * DAY, `renewed: ${result.earliestExpiry}`);
    assert.deepEqual(agedMeshCerts(await readLabState(lab.labDir)), [], 'the aged certificates are gone');
    const after = await tlsOf('cluster-usa');
    assert.notEqual(after.leaves.find((l) => l.role === 'server')!.fingerprint, before.leaves.find((l) => l.role === 'server')!.fingerprint, 'every cluster was renewed, not only the aged one');
    // every change was followed by the link check on every cluster, in cluster order
    const history = historyText(await env.client.workflow.getHandle(workflowId).fetchHistory());
    for (const c of clusters()) assert.match(history, new RegExp(`peer links kept after renew-certs on ${c}`));
    assert.deepEqual(failing(await verify()), []);
  });

  test('an expired certificate breaks the mesh (the peers refuse it); rotate certs brings it back', async () => {
    await ageMeshCerts(lab.labDir, 'cluster-europe', 0);
    const red = await verify();
    assert.ok(failing(red).includes('clustermesh-certs@cluster-europe'), failing(red).join(', '));
    assert.ok(failing(red).includes('clustermesh-status@cluster-usa'), 'cluster-usa cannot reach the expired apiserver');
    const status = red.verdicts.find((v) => verdictKey(v) === 'clustermesh-status@cluster-usa')!;
    assert.match(status.summary, /cluster-europe/);
    const { workflowId } = await startRotate(env.client, { plan: lab.plan, kind: 'certs', by: tester, taskQueue: lab.taskQueue });
    const view = await waitFor(env.client, workflowId, isFinished, 300_000);
    assert.equal(view.state, 'completed', JSON.stringify(view.meshSteps));
    assert.deepEqual(failing(await verify()), []);
  });

  test('rotate ca: a fault in the middle pauses with the mesh connected; abort leaves it connected; a second run finishes the same CA change', async () => {
    const original = await meshCaFacts(lab.deps, { mesh: lab.plan.mesh });
    // cluster-europe's release is left pending: its first change (trust-both) cannot run
    await leaveReleasePending(lab.labDir, 'cluster-europe');
    const first = await startRotate(env.client, { plan: lab.plan, kind: 'ca', by: tester, taskQueue: lab.taskQueue });
    const paused = await waitFor(env.client, first.workflowId, isPaused, 300_000);
    assert.equal(paused.blocked?.step, 'trust-both', JSON.stringify(paused.blocked));
    assert.match(paused.blocked!.reason, /cluster-europe: the cilium release is pending-upgrade/);
    const mid = await meshCaFacts(lab.deps, { mesh: lab.plan.mesh });
    assert.ok(mid.next, 'the next CA exists');
    const usa = await tlsOf('cluster-usa');
    assert.equal(usa.bundle, true);
    assert.deepEqual([...usa.trust].sort(), [original.current.fingerprint, mid.next!.fingerprint].sort(), 'cluster-usa trusts old + new');
    // the pending release is the injected fault (cilium-version says so); the mesh is connected and trust is whole
    assert.deepEqual(failing(await verify()), ['cilium-version'], 'mid-rotation, only the injected fault is red');

    await abortRollout(env.client, first.workflowId, { ...tester, reason: 'test: abort halfway' });
    const aborted = await waitFor(env.client, first.workflowId, isFinished, 120_000);
    assert.equal(aborted.state, 'aborted');
    assert.deepEqual(failing(await verify()), ['cilium-version'], 'after the abort, the mesh is connected (only the injected fault is red)');

    await clearPendingRelease(lab.labDir, 'cluster-europe');
    const second = await startRotate(env.client, { plan: lab.plan, kind: 'ca', by: tester, taskQueue: lab.taskQueue });
    assert.equal(second.started, true);
    const done = await waitFor(env.client, second.workflowId, isFinished, 600_000);
    const result = await rotateResult(env.client, second.workflowId);
    assert.equal(done.state, 'completed', JSON.stringify({ steps: done.meshSteps, result }));
    assert.equal(result.ca?.to?.fingerprint, mid.next!.fingerprint, 'the second run finished the CA the first one started');
    const now = await meshCaFacts(lab.deps, { mesh: lab.plan.mesh });
    assert.equal(now.current.fingerprint, mid.next!.fingerprint, 'the new CA is the mesh CA');
    assert.equal(now.next, undefined);
    assert.ok(await lab.deps.secrets.has(secretRefs.meshCaPrevious(lab.plan.mesh)));
    for (const cluster of clusters()) {
      const tls = await tlsOf(cluster);
      assert.equal(tls.bundle, false, `${cluster}: the bundle is off again`);
      assert.deepEqual(tls.trust, [now.current.fingerprint], `${cluster}: trusts only the new CA`);
      assert.equal(tls.ca?.fingerprint, now.current.fingerprint);
      assert.ok(tls.leaves.every((l) => l.issuerFingerprint === now.current.fingerprint), `${cluster}: every certificate from the new CA`);
    }
    const history = historyText(await env.client.workflow.getHandle(second.workflowId).fetchHistory());
    for (const phase of ['trust-both', 'reissue', 'drop-old-ca']) for (const c of clusters()) assert.match(history, new RegExp(`peer links kept after ${phase} on ${c}`));
    assert.doesNotMatch(history, /BEGIN (EC )?PRIVATE KEY|LS0tLS1CRUdJTi/, 'no CA material in the history');
    assert.deepEqual(failing(await verify()), []);
  });
});
