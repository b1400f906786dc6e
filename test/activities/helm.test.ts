import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ApplicationFailure } from '@temporalio/common';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { bootstrappedLab, labActivityDeps } from '../../lab/kube/test-fixture.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';
import { withLabState } from '../../lab/state.ts';
import { FailureType } from '../../contracts/failures.ts';
import { secretRefs } from '../../activities/deps.ts';
import { ensureCilium, ensureMeshCa, helmRelease } from '../../activities/helm.ts';
import { failureOf } from '../helpers/failures.ts';

const VALUES = { cluster: { name: 'cluster-usa', id: 1 }, kubeProxyReplacement: true, ipam: { mode: 'kubernetes' } };

async function env(scenario: ScenarioName) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'helm-adapters-'));
  const labDir = path.join(work, 'lab');
  const kcs = await bootstrappedLab(labDir, scenario);
  const { deps, refs } = await labActivityDeps(work, labDir, kcs);
  const helmCalls = (...tokens: string[]) => callsMatching(readCalls(labDir), 'helm', tokens);
  return { work, labDir, deps, ref: refs['cluster-usa']!, helmCalls, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}


before(ensureLabBundle);

describe('helm adapters against the lab', () => {
  let e: Awaited<ReturnType<typeof env>>;
  let caRef: string;
  before(async () => {
    e = await env('happy');
  });
  after(() => e.cleanup());

  test('ensureMeshCa generates the CA once, as helm values tls.ca (base64 PEM)', async () => {
    caRef = (await ensureMeshCa(e.deps, { mesh: 'usa-europe' })).caRef;
    assert.equal(caRef, secretRefs.meshCa('usa-europe'));
    const first = (await e.deps.secrets.get(caRef)).toString('utf8');
    const doc = parse(first);
    assert.match(Buffer.from(doc.tls.ca.cert, 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
    assert.match(Buffer.from(doc.tls.ca.key, 'base64').toString(), /PRIVATE KEY-----/);
    await ensureMeshCa(e.deps, { mesh: 'usa-europe' });
    assert.equal((await e.deps.secrets.get(caRef)).toString('utf8'), first, 'never regenerated');
  });

  test('helmRelease: absent, then what history says', async () => {
    assert.deepEqual(await helmRelease(e.deps, { kubeconfigRef: e.ref, release: 'cilium', namespace: 'kube-system' }), { status: 'absent', revision: 0 });
  });

  test('ensureCilium installs, then is a no-op for the same values (no second helm upgrade), then upgrades on change', async () => {
    const a = await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: VALUES, secretValuesRefs: [caRef] });
    assert.deepEqual(a, { action: 'installed', revision: 1 });
    const b = await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: VALUES, secretValuesRefs: [caRef] });
    assert.deepEqual(b, { action: 'unchanged', revision: 1 });
    assert.equal(e.helmCalls('upgrade').length, 1);
    const c = await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: { ...VALUES, operator: { replicas: 1 } }, secretValuesRefs: [caRef] });
    assert.deepEqual(c, { action: 'upgraded', revision: 2 });
    assert.deepEqual(await helmRelease(e.deps, { kubeconfigRef: e.ref, release: 'cilium', namespace: 'kube-system' }), { status: 'deployed', revision: 2, chartVersion: '1.16.6' });
    const upgrade = e.helmCalls('upgrade')[0]!;
    assert.ok(upgrade.argv.includes('--repo') && !upgrade.argv.includes('--wait'));
    const ca = parse((await e.deps.secrets.get(caRef)).toString('utf8')).tls.ca.key as string;
    assert.ok(readCalls(e.labDir).every((call) => !call.argv.join(' ').includes(ca)), 'the CA key never appears in argv');
  });

  test('a stuck pending-upgrade is rolled back to the last good revision, then upgraded', async () => {
    await withLabState(e.labDir, (s) => {
      const rel = s.clusters['cluster-usa']!.helm['kube-system/cilium'];
      const last = rel.revisions.at(-1);
      rel.revisions.push({ ...last, revision: last.revision + 1, status: 'pending-upgrade', description: 'Preparing upgrade' });
    });
    const r = await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: { ...VALUES, operator: { replicas: 3 } }, secretValuesRefs: [caRef] });
    assert.equal(r.action, 'recovered');
    assert.equal(e.helmCalls('rollback', '2').length, 1);
    assert.deepEqual((await helmRelease(e.deps, { kubeconfigRef: e.ref, release: 'cilium', namespace: 'kube-system' })).status, 'deployed');
  });

  test('bad input and an unreachable cluster are classified', async () => {
    const bad = await failureOf(ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: 'latest', values: VALUES }));
    assert.equal(bad.type, FailureType.fatal);
    assert.match(bad.message, /chartVersion "latest"/);
    await withLabState(e.labDir, (s) => {
      s.clusters['cluster-usa']!.bootstrappedAt = undefined;
    });
    const down = await failureOf(helmRelease(e.deps, { kubeconfigRef: e.ref, release: 'cilium', namespace: 'kube-system' }));
    assert.equal(down.type, FailureType.transient);
    assert.match(down.message, /Kubernetes cluster unreachable/);
    const missing = await failureOf(helmRelease(e.deps, { kubeconfigRef: 'mesh/lab/nope/kubeconfig', release: 'cilium', namespace: 'kube-system' }));
    assert.equal(missing.type, FailureType.fatal);
    await withLabState(e.labDir, (s) => {
      s.clusters['cluster-usa']!.bootstrappedAt = Date.now() - 60_000;
    });
  });
});

describe('helm adapters: faults', () => {
  test('helm-stuck-pending: the orphaned pending-install is uninstalled once, then installed once', async () => {
    const e = await env('helm-stuck-pending');
    try {
      assert.equal((await helmRelease(e.deps, { kubeconfigRef: e.ref, release: 'cilium', namespace: 'kube-system' })).status, 'pending-install');
      const r = await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: VALUES });
      assert.deepEqual(r, { action: 'recovered', revision: 1 });
      assert.equal(e.helmCalls('uninstall').length, 1);
      assert.equal(e.helmCalls('upgrade').length, 1);
      assert.equal((await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: VALUES })).action, 'unchanged');
    } finally {
      e.cleanup();
    }
  });

  test('flaky-tools: transient failures are retried (in place for reads, by the caller for the upgrade); one install only', async () => {
    const e = await env('flaky-tools');
    try {
      let result;
      const failures: ApplicationFailure[] = [];
      for (let attempt = 0; attempt < 5 && !result; attempt++) {
        try {
          result = await ensureCilium(e.deps, { kubeconfigRef: e.ref, chartVersion: '1.16.6', values: VALUES });
        } catch (err) {
          failures.push(err as ApplicationFailure);
        }
      }
      assert.ok(result, 'converges within a few activity attempts');
      assert.ok(failures.every((f) => f.type === FailureType.transient), failures.map((f) => f.message).join('; '));
      assert.equal(e.helmCalls('upgrade').filter((c) => c.exitCode === 0).length, 1);
      assert.ok(readCalls(e.labDir).some((c) => c.exitCode === 1), 'the fault did fire');
    } finally {
      e.cleanup();
    }
  });
});
