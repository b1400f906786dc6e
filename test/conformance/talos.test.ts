// The lab's talosctl held to the real talosctl v1.9.5 (built from the Go module by
// scripts/setup.d/tests/72-talosctl.sh, linked as .tools/bin/talosctl-real): every offline command the activities
// run — gen secrets, gen config with the project's patches and flags, validate -m metal [--strict], machineconfig
// patch, apply-config's --config-patch handling — with the same inputs through both, and a corpus of bad patches.
// Same exit code, same stderr, same generated configs. When they disagree, the real one is right.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse, parseAllDocuments } from 'yaml';
import { blueprintSchema } from '../../blueprint/schema.ts';
import { planRollout, type ClusterPlan } from '../../blueprint/plan.ts';
import { clusterEndpointUrl } from '../../activities/talos/inputs.ts';
import { createLab } from '../../lab/fleet.ts';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { nodeArgv } from '../../activities/talos/argv.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REAL = path.join(ROOT, '.tools/bin/talosctl-real');
const LAB = path.join(ROOT, 'lab/bin/talosctl');
// usa-europe-pool-fixed differs from usa-europe only in its LB pool: the same Talos patches
const EXAMPLES = ['usa-europe', 'three-regions'] as const;

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}
interface Pair {
  real: Run;
  lab: Run;
}

let work: string;
let labDir: string;
const dirs = { real: '', lab: '' };

before(ensureLabBundle);
before(async () => {
  assert.ok(existsSync(REAL), `the real talosctl is missing at ${REAL}: run bash scripts/setup.d/tests/72-talosctl.sh (or scripts/setup.sh --all)`);
  work = mkdtempSync(path.join(os.tmpdir(), 'conformance-talos-'));
  labDir = path.join(work, 'lab-state');
  createLab(labDir, { clusters: [], siteRttMs: {} }, { scenario: 'happy' });
  for (const side of ['real', 'lab'] as const) mkdirSync((dirs[side] = path.join(work, side)));
  // one secrets bundle for both: the real one (the lab's PEM blocks are not real keys, the real tool would refuse them)
  const r = await execa(REAL, ['gen', 'secrets', '-o', 'secrets.yaml'], { cwd: dirs.real, reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  copyFileSync(path.join(dirs.real, 'secrets.yaml'), path.join(dirs.lab, 'secrets.yaml'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Writes the same file into both working directories. */
function put(name: string, text: string): string {
  for (const side of ['real', 'lab'] as const) {
    mkdirSync(path.dirname(path.join(dirs[side], name)), { recursive: true });
    writeFileSync(path.join(dirs[side], name), text);
  }
  return name;
}

/** The same argv through both tools, each in its own directory holding the same files; paths shown as <dir>. */
async function both(args: string[], labState = labDir): Promise<Pair> {
  const run = async (side: 'real' | 'lab'): Promise<Run> => {
    const r = await execa(side === 'real' ? REAL : LAB, args, {
      cwd: dirs[side],
      reject: false,
      timeout: 120_000,
      env: { MESHPILOT_LAB_DIR: labState, HOME: work, PATH: process.env.PATH },
      extendEnv: false,
      stripFinalNewline: false,
    });
    const norm = (s: string) => s.split(dirs[side]).join('<dir>');
    return { exitCode: r.exitCode ?? -1, stdout: norm(String(r.stdout)), stderr: norm(String(r.stderr)) };
  };
  const [real, lab] = await Promise.all([run('real'), run('lab')]);
  return { real, lab };
}

function assertSame(p: Pair, what: string, opts: { stdout?: boolean } = {}) {
  assert.equal(p.lab.exitCode, p.real.exitCode, `${what}: exit code (real stderr: ${p.real.stderr})`);
  assert.equal(p.lab.stderr, p.real.stderr, `${what}: stderr`);
  if (opts.stdout !== false) assert.equal(p.lab.stdout, p.real.stdout, `${what}: stdout`);
}

const read = (side: 'real' | 'lab', file: string) => readFileSync(path.join(dirs[side], file), 'utf8');
const docsOf = (text: string) => parseAllDocuments(text).map((d) => d.toJS());
/** key structure of a YAML tree: values replaced by their type, so random key material compares equal */
const shapeOf = (v: unknown): unknown => (Array.isArray(v) ? v.map(shapeOf) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shapeOf(x)])) : typeof v);

/** The args activities/talos.ts genMachineConfigs passes, for one cluster of a plan. */
function genConfigArgs(c: ClusterPlan, out: string): string[] {
  const slug = `${c.name}`;
  const args = ['gen', 'config', c.name, clusterEndpointUrl(c.endpoint), '--with-secrets', 'secrets.yaml'];
  for (const [flag, text, file] of [
    ['--config-patch', c.talos.patches.all, `${slug}/all.yaml`],
    ['--config-patch-control-plane', c.talos.patches.controlplane, `${slug}/controlplane-patch.yaml`],
    ['--config-patch-worker', c.talos.patches.worker, `${slug}/worker-patch.yaml`],
  ] as const) {
    if (!text.trim()) continue;
    args.push(flag, `@${put(file, text)}`);
  }
  const disk = c.nodes.find((n) => n.role === 'controlplane')!.installDisk;
  args.push('--install-disk', disk, '--kubernetes-version', c.talos.kubernetesVersion, '--talos-version', c.talos.version);
  if (c.talos.installImage) args.push('--install-image', c.talos.installImage);
  args.push('--with-docs=false', '--with-examples=false', '-o', out, '--force');
  return args;
}

describe('talosctl: the lab against the real v1.9.5', () => {
  test('version --client: the pinned tag', async () => {
    const short = await both(['version', '--client', '--short']);
    assertSame(short, 'version --client --short');
    assert.equal(short.real.stdout, 'Client:\nTalos v1.9.5\n');
    const long = await both(['version', '--client']);
    const fields = (s: string) => s.split('\n').map((l) => l.split(':')[0]);
    assert.deepEqual(fields(long.lab.stdout), fields(long.real.stdout));
    const tag = (s: string) => /Tag:\s+(\S+)/.exec(s)?.[1];
    assert.equal(tag(long.lab.stdout), tag(long.real.stdout));
  });

  test('command-line mistakes: the same error and usage', async () => {
    for (const args of [
      ['gen', 'config'],
      ['gen', 'config', 'c1', '10.9.0.1'],
      ['gen', 'secrets', 'extra'],
      ['machineconfig', 'patch'],
      ['apply-config', 'config', 'x'],
      ['validate', '--bogus'],
      // day two
      ['upgrade', '--wiat=false'],
      ['upgrade-k8s', '--too', '1.32.3'],
      ['bootstrap', 'extra'],
      ['etcd', 'status', 'extra'],
      ['etcd', 'members', 'extra'],
      ['etcd', 'snapshot'],
      ['etcd', 'snapshot', 'a.db', 'b.db'],
      ['bootstrap', '--recover-from'],
      ['bootstrap', '--recover-skip-hash-check=maybe'],
    ]) {
      assertSame(await both(args), args.join(' '));
    }
  });

  test('etcd snapshot and bootstrap --recover-from: the local checks before anything is dialled', async () => {
    const g = await execa(REAL, ['gen', 'config', 'c1', 'https://10.9.0.1:6443', '--with-secrets', 'secrets.yaml', '-o', 'snap-out', '--force'], { cwd: dirs.real, reject: false });
    assert.equal(g.exitCode, 0, g.stderr);
    put('snap-out/talosconfig', read('real', 'snap-out/talosconfig'));
    put('garbage.db', 'not an etcd database');
    const at = ['-n', '10.9.0.5', '-e', '10.9.0.5', '--talosconfig', 'snap-out/talosconfig'];
    assertSame(await both(['bootstrap', '--recover-from=no-such.db', ...at]), 'recover from a file that does not exist');
    assertSame(await both(['bootstrap', '--recover-from', 'garbage.db', ...at]), 'recover from a file that is no snapshot');
    assertSame(await both(['etcd', 'snapshot', 'no-such-dir/x.db', ...at]), 'snapshot into a directory that does not exist');
  });

  test('gen secrets: the same bundle shape, the same refusal to overwrite', async () => {
    const fresh = await both(['gen', 'secrets', '-o', 'fresh-secrets.yaml']);
    assertSame(fresh, 'gen secrets');
    assert.deepEqual(shapeOf(parse(read('lab', 'fresh-secrets.yaml'))), shapeOf(parse(read('real', 'fresh-secrets.yaml'))));
    assertSame(await both(['gen', 'secrets', '-o', 'fresh-secrets.yaml']), 'gen secrets over an existing file');
    // as generateSecrets calls it: with the blueprint's Talos version, and a version talosctl cannot parse
    const pinned = await both(['gen', 'secrets', '-o', 'pinned-secrets.yaml', '--talos-version', 'v1.9.5']);
    assertSame(pinned, 'gen secrets --talos-version v1.9.5');
    assert.equal(pinned.real.exitCode, 0, pinned.real.stderr);
    assert.deepEqual(shapeOf(parse(read('lab', 'pinned-secrets.yaml'))), shapeOf(parse(read('real', 'pinned-secrets.yaml'))));
    for (const v of ['one.nine', '1.9x', 'v2']) {
      assertSame(await both(['gen', 'secrets', '-o', 'bad-version-secrets.yaml', '--talos-version', v]), `gen secrets --talos-version ${v}`);
    }
  });

  for (const name of EXAMPLES) {
    test(`gen config + validate with the project's rendered patches: ${name}`, async () => {
      const plan = planRollout(blueprintSchema.parse(parse(readFileSync(path.join(ROOT, 'examples', `${name}.yaml`), 'utf8'))));
      for (const c of plan.clusters) {
        const out = `${name}/${c.name}`;
        const gen = await both(genConfigArgs(c, out));
        assertSame(gen, `${c.name}: gen config`);
        assert.equal(gen.real.exitCode, 0, gen.real.stderr);
        assert.match(gen.real.stderr, /^generating PKI and tokens\n/);
        for (const role of ['controlplane', 'worker'] as const) {
          const file = `${out}/${role}.yaml`;
          // the same secrets and inputs give the same config, key for key
          assert.deepEqual(docsOf(read('lab', file)), docsOf(read('real', file)), `${c.name}: ${role}.yaml`);
          // the lab's config (equal to the real one) through both validators, warnings counted as errors
          // (what passes --strict passes without)
          copyFileSync(path.join(dirs.lab, file), path.join(dirs.real, `${file}.lab`));
          copyFileSync(path.join(dirs.lab, file), path.join(dirs.lab, `${file}.lab`));
          const v = await both(['validate', '-c', `${file}.lab`, '-m', 'metal', '--strict']);
          assertSame(v, `${c.name}: validate --strict ${role}.yaml`);
          assert.equal(v.real.exitCode, 0, v.real.stderr);
        }
        // the worker config carries the CA certificates and empty keys
        const worker = parse(read('real', `${out}/worker.yaml`));
        assert.equal(worker.machine.ca.key, '');
        assert.deepEqual(shapeOf(parse(read('lab', `${out}/talosconfig`))), shapeOf(parse(read('real', `${out}/talosconfig`))));
      }
    });
  }

  const BAD_PATCHES: Record<string, string> = {
    'unknown key machine.instal.disk': 'machine:\n  instal:\n    disk: /dev/sda\n',
    'unknown keys in two sections': 'machine:\n  kubelet:\n    extraArg: {}\n  install: {dsk: /dev/sda}\n',
    'unknown top-level key next to machine': 'machine:\n  install:\n    disk: /dev/sda\nclustr:\n  network: {}\n',
    'a bool that is not one': 'machine:\n  install:\n    wipe: maybe\n',
    'a port that is not a number': 'machine:\n  features:\n    kubePrism:\n      port: seven\n',
    'a list given as a string': 'cluster:\n  network:\n    podSubnets: 10.1.0.0/16\n',
    'a string given as a list': 'machine:\n  install:\n    disk: [/dev/sda]\n',
    'a struct given as a string': 'cluster:\n  proxy: disabled\n',
    'node labels given as a list': 'machine:\n  nodeLabels:\n    - topology.kubernetes.io/region=us\n',
    'two type errors at once': 'machine:\n  install:\n    wipe: maybe\ncluster:\n  proxy:\n    disabled: nope\n',
    'a document that is not a machine config': 'foo: bar\n',
  };

  // machineconfig patch and apply-config load patches as gen config does: a few of the corpus each
  const SOME_BAD_PATCHES = Object.fromEntries(['unknown keys in two sections', 'two type errors at once', 'a document that is not a machine config'].map((k) => [k, BAD_PATCHES[k]!]));

  test('bad patches: gen config fails the same way, naming the same keys and lines', async () => {
    for (const [what, text] of Object.entries(BAD_PATCHES)) {
      const file = put(`bad/${what.replace(/\W+/g, '-')}.yaml`, text);
      // every case through --config-patch; the role-specific flags load patches the same way (one case each)
      const flags = what === 'unknown key machine.instal.disk' ? ['--config-patch', '--config-patch-control-plane', '--config-patch-worker'] : ['--config-patch'];
      for (const flag of flags) {
        const p = await both(['gen', 'config', 'c1', 'https://10.9.0.1:6443', '--with-secrets', 'secrets.yaml', flag, `@${file}`, '-o', 'bad-out', '--force']);
        assertSame(p, `${what} (${flag})`);
        assert.equal(p.real.exitCode, 1, `${what}: the real talosctl refuses it`);
        assert.match(p.real.stderr, /^error parsing config JSON patch: /);
      }
    }
    assertSame(await both(['gen', 'config', 'c1', 'https://10.9.0.1:6443', '--with-secrets', 'secrets.yaml', '--config-patch', '@no-such-patch.yaml']), 'a patch file that does not exist');
  });

  const VALIDATE_CASES: Record<string, { role: 'controlplane' | 'worker'; patch: string }> = {
    'an invalid node-label key': { role: 'worker', patch: 'machine:\n  nodeLabels:\n    "bad key!": x\n' },
    'label keys and values that break every rule': {
      role: 'worker',
      patch: 'machine:\n  nodeLabels:\n    a/b/c: x\n    ok: "bad value!"\n    "-x": y\n    Example.COM/x: z\n    /empty-prefix: v\n',
    },
    'invalid annotations and taints': { role: 'worker', patch: 'machine:\n  nodeTaints:\n    k: v:Bogus\n    dedicated: NoSchedule\n  nodeAnnotations:\n    "x y": z\n' },
    'cni.name cilium on a control plane': { role: 'controlplane', patch: 'cluster:\n  network:\n    cni:\n      name: cilium\n' },
    'cni none with urls': { role: 'controlplane', patch: 'cluster:\n  network:\n    cni:\n      name: none\n      urls: ["https://example.com/cni.yaml"]\n' },
    'cni custom without urls (a warning; an error with --strict)': { role: 'controlplane', patch: 'cluster:\n  network:\n    cni:\n      name: custom\n' },
    'a bad DNS domain': { role: 'worker', patch: 'cluster:\n  network:\n    dnsDomain: "bad domain"\n' },
    'persist off': { role: 'worker', patch: 'persist: false\n' },
    'an unknown machine type': { role: 'worker', patch: 'machine:\n  type: bogus\n' },
    'the legacy machine type join (a warning; an error with --strict)': { role: 'worker', patch: 'machine:\n  type: join\n' },
  };

  test('configs gen config accepts but validate refuses: the same errors, in the same order', async () => {
    for (const [what, c] of Object.entries(VALIDATE_CASES)) {
      const slug = what.replace(/\W+/g, '-');
      const patch = put(`invalid/${slug}.yaml`, c.patch);
      const gen = await execa(
        REAL,
        [
          'gen',
          'config',
          'c1',
          'https://10.9.0.1:6443',
          '--with-secrets',
          'secrets.yaml',
          '--config-patch',
          `@${patch}`,
          '-o',
          `invalid/${slug}`,
          '--force',
          '--with-docs=false',
          '--with-examples=false',
        ],
        { cwd: dirs.real, reject: false },
      );
      assert.equal(gen.exitCode, 0, `${what}: gen config accepts it (${gen.stderr})`);
      const file = put(`invalid/${slug}/${c.role}.yaml`, read('real', `invalid/${slug}/${c.role}.yaml`));
      let refused = false;
      for (const mode of [
        ['-m', 'metal'],
        ['-m', 'metal', '--strict'],
      ]) {
        const v = await both(['validate', '-c', file, ...mode]);
        assertSame(v, `${what}: validate ${mode.join(' ')}`);
        refused ||= v.real.exitCode !== 0;
      }
      assert.ok(refused, `${what}: the real validate refuses it in some mode`);
    }
    // the other modes: cloud needs no install section, container needs the HostDNS features
    const noInstall = put('invalid/no-install.yaml', read('real', 'usa-europe/cluster-usa/worker.yaml').replace(/\n {4}install:\n(?: {8}.*\n)+/, '\n'));
    for (const mode of ['metal', 'cloud', 'container']) assertSame(await both(['validate', '-c', noInstall, '-m', mode]), `no install section, ${mode} mode`);
    const noHostDns = put('invalid/no-hostdns.yaml', read('real', 'usa-europe/cluster-usa/worker.yaml').replace(/\n {8}hostDNS:\n(?: {12}.*\n)+/, '\n'));
    assertSame(await both(['validate', '-c', noHostDns, '-m', 'container']), 'no HostDNS, container mode');
    for (const args of [
      ['validate', '-c', 'no-such.yaml', '-m', 'metal'],
      ['validate', '-c', 'secrets.yaml', '-m', 'bogus'],
      ['validate', '-c', 'secrets.yaml'],
    ]) {
      assertSame(await both(args), args.join(' '));
    }
  });

  test('validate reads the file as strictly as gen config reads a patch', async () => {
    const file = put('unknown-key-config.yaml', `${read('real', 'usa-europe/cluster-usa/worker.yaml')}`.replace('    install:\n', '    install:\n        dsk: /dev/sdb\n'));
    const v = await both(['validate', '-c', file, '-m', 'metal']);
    assertSame(v, 'a config with an unknown key');
    assert.match(v.real.stderr, /^unknown keys found during decoding:\nmachine:\n {4}install:\n {8}dsk: \/dev\/sdb\n/);
  });

  test('machineconfig patch: the same patched config, the same errors', async () => {
    const base = put('mc/worker.yaml', read('real', 'usa-europe/cluster-usa/worker.yaml'));
    const patches = {
      // what applyMachineConfig passes for a node whose disk differs from its role's config: inline JSON
      'per-node install disk': JSON.stringify({ machine: { install: { disk: '/dev/nvme0n1' } } }),
      'labels and a new section': 'machine:\n  nodeLabels:\n    rack: r1\n    "on": "y"\ncluster:\n  network:\n    cni:\n      name: none\n',
      'delete a label': 'machine:\n  nodeLabels:\n    topology.kubernetes.io/zone:\n      $patch: delete\n',
      'zero values change nothing, false does':
        'machine:\n  install:\n    disk: ""\n    wipe: true\n  features:\n    rbac: false\n    kubePrism: {port: 0}\ncluster:\n  network:\n    podSubnets: []\n',
      ...SOME_BAD_PATCHES,
    };
    for (const [what, text] of Object.entries(patches)) {
      const file = put(`mc/${what.replace(/\W+/g, '-')}.yaml`, text);
      const p = await both(['machineconfig', 'patch', base, '--patch', `@${file}`]);
      assert.equal(p.lab.exitCode, p.real.exitCode, `${what}: exit code (${p.real.stderr})`);
      assert.equal(p.lab.stderr, p.real.stderr, `${what}: stderr`);
      if (p.real.exitCode === 0) assert.deepEqual(docsOf(p.lab.stdout), docsOf(p.real.stdout), `${what}: the patched config`);
    }
    assertSame(await both(['machineconfig', 'patch', 'mc/no-such.yaml', '--patch', '@mc/per-node-install-disk.yaml']), 'a config that does not exist');
  });

  test('apply-config --config-patch: a bad patch is refused before any node is dialled, the same way', async () => {
    const config = put('apply/worker.yaml', read('real', 'usa-europe/cluster-usa/worker.yaml'));
    for (const [what, text] of Object.entries(SOME_BAD_PATCHES)) {
      const file = put(`apply/${what.replace(/\W+/g, '-')}.yaml`, text);
      const p = await both(['apply-config', '--insecure', '-n', '127.0.0.1', '-f', config, '--config-patch', `@${file}`]);
      assertSame(p, `apply-config with ${what}`);
      assert.doesNotMatch(p.real.stderr, /error applying new configuration/);
    }
    // a good patch gets through the local part: both then fail to reach the (absent) node
    const good = await both(['apply-config', '--insecure', '-n', '127.0.0.1', '-f', config, '--config-patch', JSON.stringify({ machine: { install: { disk: '/dev/nvme0n1' } } })]);
    for (const side of ['real', 'lab'] as const) {
      assert.equal(good[side].exitCode, 1);
      assert.match(good[side].stderr, /^error applying new configuration: rpc error: code = Unavailable desc = .*dial tcp 127\.0\.0\.1:50000/, side);
    }
  });
  test('every command the activities send to a node: the same answer from nodes that do not listen', async () => {
    // both tools with their own talosconfig from the same secrets; two control planes on loopback addresses where
    // nothing listens on apid's port (the real talosctl dials them; the lab has them powered off)
    const off = path.join(work, 'lab-off');
    createLab(off, { clusters: [{ name: 'c-off', endpoint: 'https://127.0.0.1:6443', nodes: [
      { name: 'cp-1', address: '127.0.0.1', site: 'here', role: 'controlplane', installDisk: '/dev/sda' },
      { name: 'cp-2', address: '127.0.0.2', site: 'here', role: 'controlplane', installDisk: '/dev/sda' },
    ] }], siteRttMs: {} }, { scenario: 'happy', initialStage: 'off' });
    assertSame(await both(['gen', 'config', 'c-off', 'https://127.0.0.1:6443', '--with-secrets', 'secrets.yaml', '-o', 'off', '--with-docs=false', '--with-examples=false']), 'gen config', { stdout: false });
    const tc = 'off/talosconfig';
    const cases: Array<[string, string[]]> = [
      ['get machinestatus', nodeArgv.machineStatus('127.0.0.1', tc)],
      ['bootstrap', nodeArgv.bootstrap('127.0.0.1', tc)],
      ['kubeconfig', nodeArgv.kubeconfig('127.0.0.1', tc, 'off/kubeconfig')],
      ['etcd members', nodeArgv.etcdMembers('127.0.0.1', tc)],
      ['etcd status', nodeArgv.etcdStatus(['127.0.0.1', '127.0.0.2'], '127.0.0.1', tc)],
      ['upgrade', nodeArgv.upgrade('127.0.0.1', tc, 'factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.9.5')],
      ['upgrade-k8s', nodeArgv.upgradeK8s('127.0.0.1', tc, '1.31.7', '1.32.3')],
      ['version', nodeArgv.version('127.0.0.1', tc)],
    ];
    for (const [what, args] of cases) {
      const p = await both(args, off);
      // the flags and arguments parse: both reach the dial, and fail there the same way
      assert.match(p.real.stderr, /dial tcp 127\.0\.0\.1:50000: connect: connection refused/, `${what}: the real talosctl reached the node (${p.real.stderr})`);
      // `version` prints the client block first, whose Go version is the build's own
      assertSame(p, what, { stdout: what !== 'version' });
    }
  });
});
