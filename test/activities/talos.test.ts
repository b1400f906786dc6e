import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createLab, type FleetSpec } from '../../lab/fleet.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { TALOS_TIMING } from '../../lab/talos/timing.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';
import { EncryptedFileSecretStore } from '../../secrets/encrypted-file-store.ts';
import { secretRefs, type ActivityDeps } from '../../activities/deps.ts';
import { FailureType, blockedDetailsOf } from '../../contracts/failures.ts';
import {
  applyMachineConfig,
  bootstrapEtcd,
  ensureTalosSecrets,
  etcdMembers,
  fetchKubeconfig,
  genMachineConfigs,
  nodeStage,
  talosClientVersion,
  waitNodeRunning,
} from '../../activities/talos.ts';
import { unreachableFailure, UNREACHABLE_TRANSIENT_ATTEMPTS } from '../../activities/talos/problems.ts';
import { failureOf } from '../helpers/failures.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const CP = '10.20.0.11';
const WK = '10.20.0.21';
const MESH = 'usa-europe';
const fleet: FleetSpec = {
  clusters: [
    {
      name: 'cluster-usa',
      endpoint: 'https://10.20.0.10:6443',
      nodes: [
        { name: 'usa-cp-1', address: CP, site: 'usa', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-w-1', address: WK, site: 'usa', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
  ],
  siteRttMs: {},
};
const PATCHES = {
  all: 'cluster:\n  network:\n    cni: {name: none}\n    podSubnets: [10.1.0.0/16]\n    serviceSubnets: [10.96.0.0/16]\n  proxy: {disabled: true}\n',
  controlplane: 'machine:\n  nodeLabels:\n    node.kubernetes.io/exclude-from-external-load-balancers:\n      $patch: delete\n',
  worker: '',
};
const genInput = { mesh: MESH, cluster: 'cluster-usa', endpoint: '10.20.0.10', talosVersion: 'v1.9.6', kubernetesVersion: '1.31.4', installDisk: '/dev/sda', patches: PATCHES };

function makeEnv(scenario: ScenarioName = 'happy', pollBudgetMs = 4_000) {
  const work = mkdtempSync(path.join(os.tmpdir(), 'talos-adapters-'));
  const labDir = path.join(work, 'lab');
  createLab(labDir, fleet, { scenario });
  const deps: ActivityDeps = {
    tools: { env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work }, cwd: work },
    secrets: new EncryptedFileSecretStore(path.join(work, 'secrets'), randomBytes(32)),
    workDir: work,
    etcdMetricsUrl: (a, p) => `http://${a}:${p}/metrics`,
    pollBudgetMs,
  };
  return { work, labDir, deps, talosCalls: (...tokens: string[]) => callsMatching(readCalls(labDir), 'talosctl', tokens) };
}

/** Every secret-looking value the store holds for the cluster: none may appear in an error message. */
async function secretValues(deps: ActivityDeps): Promise<string[]> {
  const out: string[] = [];
  const walk = (v: unknown, k = '') => {
    if (typeof v === 'string' && /^(crt|key|ca|token|secret|bootstraptoken|secretbox\w*|client-key-data)$/.test(k) && v.length >= 8) out.push(v);
    else if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) walk(vv, Array.isArray(v) ? k : kk);
  };
  for (const ref of [secretRefs.talosSecrets(MESH, 'cluster-usa'), secretRefs.talosconfig(MESH, 'cluster-usa')]) {
    if (await deps.secrets.has(ref)) walk(parse((await deps.secrets.get(ref)).toString('utf8')));
  }
  return out;
}


describe('Talos adapters against the lab: a cluster from nothing to etcd', () => {
  let env: ReturnType<typeof makeEnv>;
  const errors: Error[] = [];
  before(() => (env = makeEnv()));
  after(() => rmSync(env.work, { recursive: true, force: true }));

  test('talosClientVersion reads the client tag', async () => {
    assert.deepEqual(await talosClientVersion(env.deps), { version: 'v1.9.5' });
  });

  test('ensureTalosSecrets generates once, ever', async () => {
    const first = await ensureTalosSecrets(env.deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
    const second = await ensureTalosSecrets(env.deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
    assert.deepEqual(first, { secretsRef: 'mesh/usa-europe/cluster-usa/talos-secrets', created: true });
    assert.deepEqual(second, { secretsRef: first.secretsRef, created: false });
    assert.equal(env.talosCalls('gen', 'secrets').length, 1);
  });

  test('genMachineConfigs renders and validates once per input; an amended patch regenerates', async () => {
    const refs = await genMachineConfigs(env.deps, genInput);
    assert.equal(env.talosCalls('gen', 'config').length, 1);
    assert.equal(env.talosCalls('validate').length, 2);
    await genMachineConfigs(env.deps, genInput);
    assert.equal(env.talosCalls('gen', 'config').length, 1, 'same inputs: nothing runs again');
    const cp = parse((await env.deps.secrets.get(refs.controlplaneRef)).toString('utf8'));
    assert.deepEqual(cp.cluster.network.podSubnets, ['10.1.0.0/16']);
    assert.equal(cp.cluster.controlPlane.endpoint, 'https://10.20.0.10:6443');
    assert.equal(cp.machine.nodeLabels, undefined);
    const gen = env.talosCalls('gen', 'config')[0]!;
    assert.ok(gen.argv.includes('--config-patch-control-plane') && !gen.argv.includes('--config-patch-worker'), 'empty patches are not passed');
    await genMachineConfigs(env.deps, { ...genInput, patches: { ...PATCHES, worker: 'machine:\n  sysctls:\n    vm.max_map_count: "262144"\n' } });
    assert.equal(env.talosCalls('gen', 'config').length, 2);
    await genMachineConfigs(env.deps, genInput);
  });

  test('nodeStage sees maintenance through the insecure API', async () => {
    assert.deepEqual(await nodeStage(env.deps, { address: CP }), { stage: 'maintenance' });
  });

  test('applyMachineConfig applies once; a second call finds the node configured and does nothing', async () => {
    const cpRef = secretRefs.machineConfig(MESH, 'cluster-usa', 'controlplane');
    const wkRef = secretRefs.machineConfig(MESH, 'cluster-usa', 'worker');
    const [a, b] = await Promise.all([
      applyMachineConfig(env.deps, { address: CP, nodeName: 'usa-cp-1', configRef: cpRef }),
      applyMachineConfig(env.deps, { address: WK, nodeName: 'usa-w-1', configRef: wkRef }),
    ]);
    assert.deepEqual(a, { applied: true, stageBefore: 'maintenance' });
    assert.deepEqual(b, { applied: true, stageBefore: 'maintenance' });
    const again = await applyMachineConfig(env.deps, { address: CP, nodeName: 'usa-cp-1', configRef: cpRef });
    assert.equal(again.applied, false);
    assert.equal(env.talosCalls('apply-config').length, 2);
    const labels = readLabState(env.labDir).nodes[CP]!.labels;
    assert.equal(labels['node.kubernetes.io/exclude-from-external-load-balancers'], undefined, 'the blueprint patch removed it');
  });

  test('waitNodeRunning polls through install and reboot', async () => {
    const talosconfigRef = secretRefs.talosconfig(MESH, 'cluster-usa');
    await Promise.all([
      waitNodeRunning(env.deps, { address: CP, nodeName: 'usa-cp-1', talosconfigRef }),
      waitNodeRunning(env.deps, { address: WK, nodeName: 'usa-w-1', talosconfigRef }),
    ]);
    assert.deepEqual(await nodeStage(env.deps, { address: CP, talosconfigRef }), { stage: 'running' });
  });

  test('bootstrapEtcd bootstraps once; the second call reports alreadyBootstrapped', async () => {
    const talosconfigRef = secretRefs.talosconfig(MESH, 'cluster-usa');
    const first = await bootstrapEtcd(env.deps, { cluster: 'cluster-usa', address: CP, talosconfigRef });
    const second = await bootstrapEtcd(env.deps, { cluster: 'cluster-usa', address: CP, talosconfigRef });
    assert.deepEqual(first, { bootstrapped: true, alreadyBootstrapped: false });
    assert.deepEqual(second, { bootstrapped: false, alreadyBootstrapped: true });
    assert.equal(readLabState(env.labDir).clusters['cluster-usa']!.bootstrapCount, 1);
  });

  test('fetchKubeconfig stores admin@<cluster> once', async () => {
    const talosconfigRef = secretRefs.talosconfig(MESH, 'cluster-usa');
    const input = { mesh: MESH, cluster: 'cluster-usa', address: CP, talosconfigRef };
    const { kubeconfigRef } = await fetchKubeconfig(env.deps, input);
    await fetchKubeconfig(env.deps, input);
    assert.equal(kubeconfigRef, 'mesh/usa-europe/cluster-usa/kubeconfig');
    assert.equal(env.talosCalls('kubeconfig').length, 1);
    const kc = parse((await env.deps.secrets.get(kubeconfigRef)).toString('utf8'));
    assert.equal(kc['current-context'], 'admin@cluster-usa');
  });

  test('etcdMembers returns unpadded ids matching the lab member', async () => {
    const talosconfigRef = secretRefs.talosconfig(MESH, 'cluster-usa');
    const members = await etcdMembers(env.deps, { address: CP, talosconfigRef });
    const id = readLabState(env.labDir).nodes[CP]!.etcdMemberId!;
    assert.deepEqual(members, [{ id: BigInt(`0x${id}`).toString(16), hostname: 'usa-cp-1', peerUrls: [`https://${CP}:2380`] }]);
    const worker = await failureOf(etcdMembers(env.deps, { address: WK, talosconfigRef }));
    errors.push(worker);
    assert.ok(worker.type === FailureType.transient || worker.type === FailureType.fatal);
  });

  test('bad input is fatal and names the field', async () => {
    const err = await failureOf(nodeStage(env.deps, { address: 'not an ip' }));
    errors.push(err);
    assert.equal(err.type, FailureType.fatal);
    assert.match(err.message, /nodeStage: input field "address" must be an IP address/);
  });

  test('no secret value appears in any error message', async () => {
    const values = await secretValues(env.deps);
    assert.ok(values.length > 5);
    for (const e of errors) for (const v of values) assert.ok(!e.message.includes(v), `secret leaked into: ${e.message}`);
  });
});

describe('Talos adapters: failures', () => {
  test('an unreachable node is transient at first, then blocked naming node and address', async () => {
    const env = makeEnv('node-unreachable');
    try {
      await ensureTalosSecrets(env.deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
      await genMachineConfigs(env.deps, genInput);
      const configRef = secretRefs.machineConfig(MESH, 'cluster-usa', 'worker');
      // a first attempt is transient (Temporal retries it); outside an activity nothing retries, so it pauses at once
      const first = new MockActivityEnvironment({ attempt: 1 });
      const err = await failureOf(first.run(applyMachineConfig, env.deps, { address: WK, nodeName: 'usa-w-1', configRef }));
      assert.equal(err.type, FailureType.transient);
      assert.equal((await failureOf(applyMachineConfig(env.deps, { address: WK, nodeName: 'usa-w-1', configRef }))).type, FailureType.blocked);
      assert.match(err.message, /usa-w-1 \(10\.20\.0\.21\).*connection refused/);
      assert.equal(env.talosCalls('apply-config').length, 0, 'nothing is sent to a node that does not answer');
      assert.deepEqual(await nodeStage(env.deps, { address: WK }), { stage: 'unreachable' });
      const probe = { command: 'talosctl get', exitCode: 1, stdout: '', stderr: 'dial tcp 10.20.0.21:50000: connect: connection refused', durationMs: 1, timedOut: false, cancelled: false };
      const later = unreachableFailure(UNREACHABLE_TRANSIENT_ATTEMPTS, 'usa-w-1', WK, probe);
      const details = blockedDetailsOf(later)!;
      assert.equal(later.type, FailureType.blocked);
      assert.match(details.reason, /usa-w-1 \(10\.20\.0\.21\)/);
      assert.match(details.hint, /powered on/);
    } finally {
      rmSync(env.work, { recursive: true, force: true });
    }
  });

  test('flaky tools: a failed probe is transient; waiting absorbs flakes', async () => {
    const env = makeEnv('flaky-tools');
    try {
      await ensureTalosSecrets(env.deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
      await genMachineConfigs(env.deps, genInput);
      const configRef = secretRefs.machineConfig(MESH, 'cluster-usa', 'controlplane');
      let applied = false;
      const seen: string[] = [];
      for (let attempt = 0; attempt < 4 && !applied; attempt++) {
        try {
          applied = (await applyMachineConfig(env.deps, { address: CP, nodeName: 'usa-cp-1', configRef })).applied;
        } catch (err) {
          seen.push((err as ApplicationFailure).type!);
        }
      }
      assert.ok(applied);
      assert.ok(seen.every((t) => t === FailureType.transient));
      // Every 4th networked call fails: four waits make at least four calls, so at least one of them met a flake
      // (however fast the node came up on this machine), and each wait still succeeded.
      for (let i = 0; i < 4; i++) {
        await waitNodeRunning(env.deps, { address: CP, nodeName: 'usa-cp-1', talosconfigRef: secretRefs.talosconfig(MESH, 'cluster-usa') });
      }
      assert.ok(readCalls(env.labDir).some((c) => c.tool === 'talosctl' && c.exitCode === 1), 'some calls did fail');
    } finally {
      rmSync(env.work, { recursive: true, force: true });
    }
  });

  test('a node stuck installing (wrong install disk) blocks waitNodeRunning with a disk hint', async () => {
    const env = makeEnv('happy', 1_500);
    try {
      await ensureTalosSecrets(env.deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
      await genMachineConfigs(env.deps, { ...genInput, installDisk: '/dev/nvme0n1' });
      await applyMachineConfig(env.deps, { address: CP, nodeName: 'usa-cp-1', configRef: secretRefs.machineConfig(MESH, 'cluster-usa', 'controlplane') });
      const err = await failureOf(waitNodeRunning(env.deps, { address: CP, nodeName: 'usa-cp-1', talosconfigRef: secretRefs.talosconfig(MESH, 'cluster-usa') }));
      const d = blockedDetailsOf(err)!;
      assert.equal(err.type, FailureType.blocked);
      assert.match(d.reason, /usa-cp-1 \(10\.20\.0\.11\) is still installing/);
      assert.match(d.hint, /installDisk.*talosctl get disks --insecure -n 10\.20\.0\.11/);
    } finally {
      rmSync(env.work, { recursive: true, force: true });
    }
  });

  test('a secrets bundle the tool rejects: the error quotes no secret', async () => {
    const env = makeEnv();
    try {
      const secret = 'sEcr3tVal';
      await env.deps.secrets.put(secretRefs.talosSecrets(MESH, 'cluster-usa'), secret);
      const err = await failureOf(genMachineConfigs(env.deps, genInput));
      assert.match(err.message, /failed to load secrets bundle/);
      assert.ok(!err.message.includes(secret), err.message);
      assert.match(err.message, /<redacted>/);
    } finally {
      rmSync(env.work, { recursive: true, force: true });
    }
  });

  test('the talosconfig of another cluster is refused as blocked (x509), not retried forever', async () => {
    const env = makeEnv();
    try {
      await ensureTalosSecrets(env.deps, { mesh: MESH, cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
      await genMachineConfigs(env.deps, genInput);
      await applyMachineConfig(env.deps, { address: CP, nodeName: 'usa-cp-1', configRef: secretRefs.machineConfig(MESH, 'cluster-usa', 'controlplane') });
      await withLabState(env.labDir, (s) => {
        s.nodes[CP]!.stageSince = Date.now() - TALOS_TIMING.installMs - TALOS_TIMING.rebootMs - 50;
      });
      // a second mesh's bundle and talosconfig for the same cluster name: a different CA
      await ensureTalosSecrets(env.deps, { mesh: 'other', cluster: 'cluster-usa', talosVersion: 'v1.9.6' });
      await genMachineConfigs(env.deps, { ...genInput, mesh: 'other' });
      const err = await failureOf(bootstrapEtcd(env.deps, { cluster: 'cluster-usa', address: CP, talosconfigRef: secretRefs.talosconfig('other', 'cluster-usa') }));
      assert.equal(err.type, FailureType.blocked);
      assert.match(blockedDetailsOf(err)!.reason, /x509/);
      const tc = parse((await env.deps.secrets.get(secretRefs.talosconfig('other', 'cluster-usa'))).toString('utf8'));
      assert.ok(!err.message.includes(tc.contexts['cluster-usa'].key));
      assert.ok(!JSON.stringify(blockedDetailsOf(err)).includes(tc.contexts['cluster-usa'].key));
    } finally {
      rmSync(env.work, { recursive: true, force: true });
    }
  });
});
