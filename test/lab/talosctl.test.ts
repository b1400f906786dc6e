import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { createLab, type FleetSpec } from '../../lab/fleet.ts';
import { readCalls } from '../../lab/call-log.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { TALOS_TIMING } from '../../lab/talos/timing.ts';
import { nodeRecord } from '../../lab/talos/node-record.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const CP = '10.10.0.11';
const WK = '10.10.0.21';
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';
const fleet: FleetSpec = {
  clusters: [
    {
      name: 'usa',
      endpoint: 'https://10.10.0.10:6443',
      nodes: [
        { name: 'usa-cp-1', address: CP, site: 'usa', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-w-1', address: WK, site: 'usa', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
  ],
  siteRttMs: {},
};

function makeLab(scenario: ScenarioName = 'happy') {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lab-talosctl-'));
  const labDir = path.join(work, 'lab');
  createLab(labDir, fleet, { scenario });
  const run = (...args: string[]) =>
    execa('talosctl', args, {
      cwd: work,
      reject: false,
      env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work },
      extendEnv: false,
    });
  return { work, labDir, run };
}

const secureArgs = (ip: string, work: string) => ['-n', ip, '-e', ip, '--talosconfig', path.join(work, 'out', 'talosconfig')];
const settleMs = TALOS_TIMING.installMs + TALOS_TIMING.rebootMs + 50;

/** Moves a node's stage clock: stages are derived from stageSince, so tests travel in time instead of sleeping. */
const setStageAge = (labDir: string, address: string, ageMs: number) =>
  withLabState(labDir, (s) => {
    s.nodes[address]!.stageSince = Date.now() - ageMs;
  });

/** Streams of 4-space JSON objects: split where one object ends and the next begins. */
const jsonStream = (text: string) => text.trim().split(/\n(?=\{)/).map((s) => JSON.parse(s) as Record<string, any>);

describe('lab talosctl: command line', () => {
  let lab: ReturnType<typeof makeLab>;
  before(() => (lab = makeLab()));
  after(() => rmSync(lab.work, { recursive: true, force: true }));

  test('version --client prints the v1.9.5 client block, --short the tag', async () => {
    const [long, short] = await Promise.all([lab.run('version', '--client'), lab.run('version', '--client', '--short')]);
    assert.equal(long.exitCode, 0);
    assert.match(long.stdout, /^Client:\n\tTag:         v1\.9\.5\n\tSHA:/);
    assert.equal(short.stdout, 'Client:\nTalos v1.9.5');
  });

  test('unknown flags and commands fail like cobra: bare message, usage, exit 1; every call is logged', async () => {
    const [flag, cmd, args] = await Promise.all([lab.run('get', '--bogus'), lab.run('frobnicate'), lab.run('gen', 'config', 'only-one')]);
    assert.equal(flag.exitCode, 1);
    assert.match(flag.stderr, /^unknown flag: --bogus\n\nUsage:\n  talosctl get <type> \[<id>\] \[flags\]/);
    assert.equal(cmd.exitCode, 1);
    assert.match(cmd.stderr, /^unknown command "frobnicate" for "talosctl"/);
    assert.match(args.stderr, /^accepts 2 arg\(s\), received 1/);
    const calls = readCalls(lab.labDir);
    assert.ok(calls.some((c) => c.argv.includes('--bogus') && c.exitCode === 1 && c.tool === 'talosctl'));
    assert.ok(calls.some((c) => c.argv[0] === 'frobnicate' && c.exitCode === 1));
  });

  test('gen secrets refuses to overwrite without --force and writes 0600', async () => {
    assert.equal((await lab.run('gen', 'secrets', '-o', 'secrets.yaml')).exitCode, 0);
    assert.equal(statSync(path.join(lab.work, 'secrets.yaml')).mode & 0o777, 0o600);
    const again = await lab.run('gen', 'secrets', '-o', 'secrets.yaml');
    assert.equal(again.exitCode, 1);
    assert.equal(again.stderr, 'file "secrets.yaml" already exists, use --force to overwrite');
    const bundle = parse(readFileSync(path.join(lab.work, 'secrets.yaml'), 'utf8'));
    assert.ok(bundle.cluster.id && bundle.secrets.bootstraptoken && bundle.certs.os.key && bundle.trustdinfo.token);
  });

  test('gen config merges patches (replace lists, $patch: delete) and writes a talosconfig without endpoints', async () => {
    writeFileSync(path.join(lab.work, 'all.yaml'), 'cluster:\n  network:\n    cni: {name: none}\n    podSubnets: [10.1.0.0/16]\n  proxy: {disabled: true}\n');
    writeFileSync(path.join(lab.work, 'cp.yaml'), `machine:\n  nodeLabels:\n    ${EXCLUDE}:\n      $patch: delete\n`);
    const r = await lab.run('gen', 'config', 'usa', 'https://10.10.0.10:6443', '--with-secrets', 'secrets.yaml', '--config-patch', '@all.yaml',
      '--config-patch-control-plane', '@cp.yaml', '--install-disk', '/dev/sda', '--kubernetes-version', '1.31.4', '--talos-version', 'v1.9', '-o', 'out', '--force');
    assert.equal(r.exitCode, 0, r.stderr);
    // bundle.go prints the first line even with --with-secrets
    assert.equal(r.stderr, 'generating PKI and tokens\nCreated out/controlplane.yaml\nCreated out/worker.yaml\nCreated out/talosconfig');
    const cp = parse(readFileSync(path.join(lab.work, 'out/controlplane.yaml'), 'utf8'));
    const wk = parse(readFileSync(path.join(lab.work, 'out/worker.yaml'), 'utf8'));
    const secrets = parse(readFileSync(path.join(lab.work, 'secrets.yaml'), 'utf8'));
    assert.deepEqual(cp.cluster.network.podSubnets, ['10.1.0.0/16']);
    assert.equal(cp.cluster.network.cni.name, 'none');
    assert.equal(cp.machine.nodeLabels, undefined);
    assert.equal(cp.machine.install.disk, '/dev/sda');
    assert.equal(cp.machine.kubelet.image, 'ghcr.io/siderolabs/kubelet:v1.31.4');
    assert.equal(cp.cluster.secret, secrets.cluster.secret);
    assert.equal(wk.machine.type, 'worker');
    assert.equal(wk.machine.ca.key, '', 'a worker carries the CA certificate with an empty key, as talosctl writes it');
    const tc = parse(readFileSync(path.join(lab.work, 'out/talosconfig'), 'utf8'));
    assert.equal(tc.context, 'usa');
    assert.deepEqual(tc.contexts.usa.endpoints, []);
    assert.equal(tc.contexts.usa.ca, secrets.certs.os.crt);
    const v = await lab.run('validate', '-c', 'out/controlplane.yaml', '-m', 'metal');
    assert.equal(v.stdout, 'out/controlplane.yaml is valid for metal mode');
    const bad = await lab.run('gen', 'config', 'usa', '10.10.0.10', '-o', 'x');
    assert.equal(bad.stderr, 'no scheme and port specified for the cluster endpoint URL\ntry: "https://10.10.0.10:6443"');
  });
});

describe('lab talosctl: a node from maintenance to a bootstrapped cluster', () => {
  let lab: ReturnType<typeof makeLab>;
  before(async () => {
    lab = makeLab();
    await lab.run('gen', 'secrets', '-o', 'secrets.yaml');
    await lab.run('gen', 'config', 'usa', 'https://10.10.0.10:6443', '--with-secrets', 'secrets.yaml', '-o', 'out');
  });
  after(() => rmSync(lab.work, { recursive: true, force: true }));

  test('maintenance: insecure get answers a JSON stream, the secure client fails x509, no -e fails endpoints', async () => {
    const [insecure, secure, noEndpoint] = await Promise.all([
      lab.run('get', 'machinestatus', '-o', 'json', '--insecure', '-n', CP),
      lab.run('get', 'machinestatus', '-o', 'json', ...secureArgs(CP, lab.work)),
      lab.run('get', 'machinestatus', '-o', 'json', '-n', CP, '--talosconfig', 'out/talosconfig'),
    ]);
    assert.equal(insecure.exitCode, 0);
    assert.match(insecure.stdout, /^\{\n {4}"metadata": \{\n {8}"created"/);
    const [doc] = jsonStream(insecure.stdout);
    assert.equal(doc!.node, '');
    assert.equal(doc!.metadata.type, 'MachineStatuses.runtime.talos.dev');
    assert.equal(doc!.spec.stage, 'maintenance');
    assert.equal(secure.exitCode, 1);
    assert.match(secure.stderr, /x509: certificate signed by unknown authority/);
    assert.equal(noEndpoint.stderr, 'error constructing client: failed to determine endpoints');
  });

  test('apply-config installs and reboots; labels follow the config; bootstrap once; etcd members; kubeconfig; health', async () => {
    const [a1, a2] = await Promise.all([
      lab.run('apply-config', '--insecure', '-n', CP, '-f', 'out/controlplane.yaml'),
      lab.run('apply-config', '--insecure', '-n', WK, '-f', 'out/worker.yaml'),
    ]);
    assert.equal(a1.exitCode, 0, a1.stderr);
    assert.equal(a2.exitCode, 0, a2.stderr);
    let state = readLabState(lab.labDir);
    // the install started; on a busy machine the other node's call may already have moved it on (the
    // stage is derived from its age on every call, and tool start-up can outlast TALOS_TIMING.installMs)
    assert.ok(['installing', 'rebooting', 'running'].includes(state.nodes[CP]!.stage), state.nodes[CP]!.stage);
    assert.equal(state.nodes[CP]!.labels[EXCLUDE], '', 'Talos >= 1.8 labels control planes');
    assert.equal(state.nodes[WK]!.labels[EXCLUDE], undefined);

    // hold the node in installing
    await withLabState(lab.labDir, (s) => {
      s.nodes[CP]!.stage = 'installing';
      s.nodes[CP]!.stageSince = Date.now() + 60_000;
    });
    const [early, reapply] = await Promise.all([
      lab.run('bootstrap', ...secureArgs(CP, lab.work)),
      lab.run('apply-config', '--insecure', '-n', CP, '-f', 'out/controlplane.yaml'),
    ]);
    assert.equal(early.stderr, 'error executing bootstrap: rpc error: code = FailedPrecondition desc = bootstrap is not available yet');
    assert.match(reapply.stderr, /^error applying new configuration: rpc error: code = Unavailable desc = .*tls: certificate required/);

    await setStageAge(lab.labDir, CP, settleMs);
    await setStageAge(lab.labDir, WK, settleMs);
    const ms = await lab.run('get', 'machinestatus', '-o', 'json', ...secureArgs(CP, lab.work));
    assert.equal(jsonStream(ms.stdout)[0]!.spec.stage, 'running');
    assert.equal(jsonStream(ms.stdout)[0]!.node, CP);

    const b1 = await lab.run('bootstrap', ...secureArgs(CP, lab.work));
    assert.equal(b1.exitCode, 0, b1.stderr);
    const b2 = await lab.run('bootstrap', ...secureArgs(CP, lab.work));
    assert.equal(b2.exitCode, 1);
    assert.equal(b2.stderr, 'error executing bootstrap: rpc error: code = AlreadyExists desc = etcd data directory is not empty');
    state = readLabState(lab.labDir);
    assert.equal(state.clusters.usa!.bootstrapCount, 1);
    const id = state.nodes[CP]!.etcdMemberId!;
    assert.match(id, /^[0-9a-f]{1,16}$/);
    assert.equal(state.nodes[WK]!.etcdMemberId, undefined);

    const members = await lab.run('etcd', 'members', ...secureArgs(CP, lab.work));
    const lines = members.stdout.split('\n');
    assert.deepEqual(lines[0]!.split(/ {3,}/), ['NODE', 'ID', 'HOSTNAME', 'PEER URLS', 'CLIENT URLS', 'LEARNER']);
    assert.equal(lines[0]!.indexOf('ID'), lines[1]!.indexOf(id.padStart(16, '0')), 'tabwriter columns line up');
    assert.deepEqual(lines[1]!.split(/\s+/), [CP, id.padStart(16, '0'), 'usa-cp-1', `https://${CP}:2380`, `https://${CP}:2379`, 'false']);

    const kc = await lab.run('kubeconfig', 'kc', '--merge=false', '--force', ...secureArgs(CP, lab.work));
    assert.equal(kc.exitCode, 0, kc.stderr);
    const kube = parse(readFileSync(path.join(lab.work, 'kc'), 'utf8'));
    assert.equal(kube['current-context'], 'admin@usa');
    assert.equal(kube.clusters[0].cluster.server, 'https://10.10.0.10:6443');
    assert.equal(statSync(path.join(lab.work, 'kc')).mode & 0o777, 0o600);

    const noCni = await lab.run('health', '--wait-timeout', '300ms', ...secureArgs(CP, lab.work));
    assert.equal(noCni.exitCode, 1);
    assert.match(noCni.stderr, /^discovered nodes: \["10\.10\.0\.11" "10\.10\.0\.21"\]\nwaiting for etcd to be healthy: \.\.\.\nwaiting for etcd to be healthy: OK\n/);
    assert.match(noCni.stderr, /waiting for all k8s nodes to report ready: some nodes are not ready: \[usa-cp-1 usa-w-1\]\nrpc error: code = DeadlineExceeded/);
    await withLabState(lab.labDir, (s) => {
      // a deployed release as lab helm records it (lab/kube/releases.ts)
      const at = new Date().toISOString();
      s.clusters.usa!.helm['kube-system/cilium'] = {
        name: 'cilium',
        namespace: 'kube-system',
        revisions: [{ revision: 1, status: 'deployed', chartName: 'cilium', chartVersion: '1.16.19', appVersion: '1.16.19', config: {}, firstDeployed: at, updated: at, description: 'Install complete', objects: [] }],
      };
    });
    const healthy = await lab.run('health', ...secureArgs(CP, lab.work));
    assert.equal(healthy.exitCode, 0, healthy.stderr);
    assert.match(healthy.stderr, /waiting for kube-proxy to report ready: SKIP\n[\s\S]*waiting for all k8s nodes to report schedulable: OK$/);
  });
});

describe('lab talosctl: scenario faults', () => {
  test('node-unreachable: connection refused on :50000, for every client', async () => {
    const lab = makeLab('node-unreachable');
    try {
      const victim = readLabState(lab.labDir).faults.unreachableNodes[0] as string;
      assert.equal(victim, WK);
      const r = await lab.run('get', 'machinestatus', '-o', 'json', '--insecure', '-n', victim);
      assert.equal(r.exitCode, 1);
      assert.equal(r.stderr, `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp ${WK}:50000: connect: connection refused"`);
    } finally {
      rmSync(lab.work, { recursive: true, force: true });
    }
  });

  test('flaky-tools: every 4th networked call fails Unavailable; local commands are not networked', async () => {
    const lab = makeLab('flaky-tools');
    try {
      await lab.run('version', '--client');
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) codes.push((await lab.run('get', 'machinestatus', '-o', 'json', '--insecure', '-n', CP)).exitCode!);
      assert.deepEqual(codes, [0, 0, 0, 1, 0, 0, 0, 1]);
      const failed = readCalls(lab.labDir).filter((c) => c.exitCode === 1);
      assert.equal(failed.length, 2);
      assert.equal(readLabState(lab.labDir).counters.talosctl, 8);
    } finally {
      rmSync(lab.work, { recursive: true, force: true });
    }
  });

  test('cp-only-excluded: control planes keep the exclude label even when the config deletes it', async () => {
    const lab = makeLab('cp-only-excluded');
    try {
      writeFileSync(path.join(lab.work, 'cp.yaml'), `machine:\n  nodeLabels:\n    ${EXCLUDE}:\n      $patch: delete\n`);
      await lab.run('gen', 'config', 'usa', 'https://10.10.0.10:6443', '--config-patch-control-plane', '@cp.yaml', '-o', 'out');
      const r = await lab.run('apply-config', '--insecure', '-n', CP, '-f', 'out/controlplane.yaml');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(readLabState(lab.labDir).nodes[CP]!.labels[EXCLUDE], '');
    } finally {
      rmSync(lab.work, { recursive: true, force: true });
    }
  });
});

describe('lab talosctl: apply-config --config-patch (a node whose disk differs from its role config)', () => {
  const mixed: FleetSpec = {
    clusters: [
      {
        name: 'mixed',
        endpoint: 'https://10.30.0.10:6443',
        nodes: [
          { name: 'mixed-cp-1', address: '10.30.0.11', site: 'usa', role: 'controlplane', installDisk: '/dev/nvme0n1' },
          { name: 'mixed-w-1', address: '10.30.0.21', site: 'usa', role: 'worker', installDisk: '/dev/sda' },
          { name: 'mixed-w-2', address: '10.30.0.22', site: 'usa', role: 'worker', installDisk: '/dev/sda' },
        ],
      },
    ],
    siteRttMs: {},
  };
  let work: string;
  let labDir: string;
  const run = (...args: string[]) =>
    execa('talosctl', args, { cwd: work, reject: false, extendEnv: false, env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work } });
  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'lab-talosctl-patch-'));
    labDir = path.join(work, 'lab');
    createLab(labDir, mixed, { scenario: 'happy' });
    assert.equal((await run('gen', 'secrets', '-o', 'secrets.yaml')).exitCode, 0);
    const g = await run('gen', 'config', 'mixed', 'https://10.30.0.10:6443', '--with-secrets', 'secrets.yaml', '--install-disk', '/dev/nvme0n1', '-o', 'out', '--force');
    assert.equal(g.exitCode, 0, g.stderr);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('without the patch the installer cannot find the disk; with it the node installs; a bad patch fails like talosctl', async () => {
    const [plain, patched, bad] = await Promise.all([
      run('apply-config', '--insecure', '-n', '10.30.0.21', '-f', 'out/worker.yaml'),
      run('apply-config', '--insecure', '-n', '10.30.0.22', '-f', 'out/worker.yaml', '--config-patch', '{"machine":{"install":{"disk":"/dev/sda"}}}'),
      run('apply-config', '--insecure', '-n', '10.30.0.11', '-f', 'out/controlplane.yaml', '--config-patch', '@missing.yaml'),
    ]);
    assert.equal(plain.exitCode, 0, plain.stderr);
    assert.equal(patched.exitCode, 0, patched.stderr);
    assert.equal(bad.exitCode, 1);
    // apply-config returns LoadPatches' error as it is (gen config is the one that prefixes it)
    assert.equal(bad.stderr, 'open missing.yaml: no such file or directory');
    const state = readLabState(labDir);
    assert.equal(nodeRecord(state, '10.30.0.21')?.installError, 'specified install disk does not exist: "/dev/nvme0n1"', 'the role config names a disk this node lacks');
    assert.equal(nodeRecord(state, '10.30.0.22')?.installDisk, '/dev/sda');
    assert.equal(nodeRecord(state, '10.30.0.22')?.installError, undefined);
    // left maintenance mode (installing, or already past it on a slow machine)
    assert.notEqual(state.nodes['10.30.0.22']!.stage, 'maintenance');
    assert.equal(state.nodes['10.30.0.11']!.stage, 'maintenance', 'a failed patch sends nothing');
  });
});
