import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { withLabState } from '../../lab/state.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const VALUES = 'cluster: {name: cluster-usa, id: 1}\nkubeProxyReplacement: true\n';

async function lab(scenario: ScenarioName) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-helm-'));
  const labDir = path.join(dir, 'lab');
  const kc = (await bootstrappedLab(labDir, scenario))['cluster-usa']!;
  const values = path.join(dir, 'values.yaml');
  writeFileSync(values, VALUES);
  const helm = (args: string[], env: Record<string, string> = { KUBECONFIG: kc }) =>
    execa(path.join(BIN, 'helm'), args, { reject: false, env: { MESHPILOT_LAB_DIR: labDir, PATH: process.env.PATH, ...env }, extendEnv: false });
  const install = (extra: string[] = []) =>
    helm(['upgrade', '--install', 'cilium', 'cilium/cilium', '--version', '1.16.6', '-n', 'kube-system', '-f', values, ...extra]);
  return { dir, labDir, kc, values, helm, install, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

before(ensureLabBundle);

describe('lab helm v3.16', () => {
  let l: Awaited<ReturnType<typeof lab>>;
  before(async () => {
    l = await lab('happy');
  });
  after(() => l.cleanup());

  test('version --short and cobra errors', async () => {
    assert.equal((await l.helm(['version', '--short'])).stdout, 'v3.16.4+g7877b45');
    const bad = await l.helm(['status', 'cilium', '--bogus']);
    assert.equal(bad.exitCode, 1);
    assert.equal(bad.stderr, 'Error: unknown flag: --bogus');
    const cmd = await l.helm(['frob']);
    assert.match(cmd.stderr, /^Error: unknown command "frob" for "helm"/);
  });

  test('unreachable cluster: the Kubernetes cluster unreachable text, exit 1', async () => {
    const none = await l.helm(['list', '-n', 'kube-system'], {});
    assert.equal(none.exitCode, 1);
    assert.equal(none.stderr, 'Error: Kubernetes cluster unreachable: Get "http://localhost:8080/version": dial tcp 127.0.0.1:8080: connect: connection refused');
    await withLabState(l.labDir, (s) => {
      s.clusters['cluster-usa']!.bootstrappedAt = undefined;
    });
    const down = await l.install();
    assert.equal(down.exitCode, 1);
    assert.match(down.stderr, /^Error: Kubernetes cluster unreachable: Get "https:\/\/10\.10\.0\.10:6443\/version": dial tcp 10\.10\.0\.10:6443: connect: connection refused$/);
    await withLabState(l.labDir, (s) => {
      s.clusters['cluster-usa']!.bootstrappedAt = Date.now() - 60_000;
    });
  });

  test('status of a missing release; install; status/list/history JSON; get values', async () => {
    const missing = await l.helm(['status', 'cilium', '-n', 'kube-system', '-o', 'json']);
    assert.equal(missing.exitCode, 1);
    assert.equal(missing.stderr, 'Error: release: not found');
    const first = await l.install();
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(first.stdout, /^Release "cilium" does not exist\. Installing it now\.\nNAME: cilium\n/);
    assert.match(first.stdout, /STATUS: deployed\nREVISION: 1\n/);
    const st = JSON.parse((await l.helm(['status', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.equal(st.info.status, 'deployed');
    assert.equal(st.version, 1);
    assert.equal(st.namespace, 'kube-system');
    assert.deepEqual(st.config, { cluster: { name: 'cluster-usa', id: 1 }, kubeProxyReplacement: true });
    const list = JSON.parse((await l.helm(['list', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.deepEqual(
      list.map((r: any) => [r.name, r.revision, r.status, r.chart, r.app_version]),
      [['cilium', '1', 'deployed', 'cilium-1.16.6', '1.16.6']],
    );
    const again = await l.install(['--set', 'operator.replicas=1']);
    assert.match(again.stdout, /^Release "cilium" has been upgraded\. Happy Helming!\n/);
    const hist = JSON.parse((await l.helm(['history', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.deepEqual(hist.map((h: any) => [h.revision, h.status]), [[1, 'superseded'], [2, 'deployed']]);
    const vals = JSON.parse((await l.helm(['get', 'values', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.equal(vals.operator.replicas, 1);
  });

  test('--wait waits for the agents; a LoadBalancer with no pool times out as failed', async () => {
    const t0 = Date.now();
    const w = await l.install(['--wait']);
    assert.equal(w.exitCode, 0, w.stderr);
    // the agents are ready at once in the lab: far below helm's 5m0s default --timeout, also on a loaded machine
    assert.ok(Date.now() - t0 < 120_000, `--wait took ${Date.now() - t0} ms`);
    const lb = await l.install(['--set', 'clustermesh.useAPIServer=true', '--set', 'clustermesh.apiserver.service.type=LoadBalancer', '--wait', '--timeout', '1500ms']);
    assert.equal(lb.exitCode, 1);
    assert.equal(lb.stderr, 'Error: UPGRADE FAILED: context deadline exceeded');
    const st = JSON.parse((await l.helm(['status', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.equal(st.info.status, 'failed');
  });

  test('rollback to a revision and uninstall', async () => {
    const rb = await l.helm(['rollback', 'cilium', '1', '-n', 'kube-system']);
    assert.equal(rb.stdout, 'Rollback was a success! Happy Helming!');
    const hist = JSON.parse((await l.helm(['history', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.equal(hist.at(-1).status, 'deployed');
    assert.equal(hist.at(-1).description, 'Rollback to 1');
    assert.equal((await l.helm(['uninstall', 'cilium', '-n', 'kube-system'])).stdout, 'release "cilium" uninstalled');
    const gone = await l.helm(['uninstall', 'cilium', '-n', 'kube-system']);
    assert.equal(gone.stderr, 'Error: uninstall: Release not loaded: cilium: release: not found');
  });
});

describe('lab helm faults', () => {
  test('helm-stuck-pending: pending-install blocks upgrades with the real error until uninstalled', async () => {
    const l = await lab('helm-stuck-pending');
    try {
      const all = JSON.parse((await l.helm(['list', '-n', 'kube-system', '-a', '-o', 'json'])).stdout);
      assert.equal(all[0].status, 'pending-install');
      assert.deepEqual(JSON.parse((await l.helm(['list', '-n', 'kube-system', '-o', 'json'])).stdout), [], 'default list hides pending');
      const up = await l.install();
      assert.equal(up.exitCode, 1);
      assert.equal(up.stderr, 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress');
      assert.equal((await l.helm(['uninstall', 'cilium', '-n', 'kube-system'])).exitCode, 0);
      assert.equal((await l.install()).exitCode, 0);
    } finally {
      l.cleanup();
    }
  });

  test('flaky-tools: every 4th call fails with a transient cluster-unreachable text', async () => {
    const l = await lab('flaky-tools');
    try {
      const results = [];
      for (let i = 0; i < 8; i++) results.push(await l.helm(['list', '-n', 'kube-system', '-o', 'json']));
      assert.deepEqual(results.map((r) => r.exitCode), [0, 0, 0, 1, 0, 0, 0, 1]);
      assert.match(results[3]!.stderr, /^Error: Kubernetes cluster unreachable: Get "https:\/\/10\.10\.0\.10:6443\/version": net\/http: TLS handshake timeout$/);
      const calls = callsMatching(readCalls(l.labDir), 'helm', ['list']);
      assert.deepEqual(calls.map((c) => c.exitCode), [0, 0, 0, 1, 0, 0, 0, 1]);
    } finally {
      l.cleanup();
    }
  });
});
