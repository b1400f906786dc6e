// The lab's day-two talosctl commands against the contracts of talosctl v1.9 (cmd/talosctl/cmd/talos/upgrade.go,
// upgrade-k8s.go, etcd.go): the flags meshpilot passes are accepted and others refused like cobra, `upgrade
// --wait=false` acknowledges and the node reboots into the installer's version, the Upgrade API's etcd and image
// validation, upgrade-k8s's supported paths, and `etcd status`'s table.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { createLab, type FleetSpec } from '../../lab/fleet.ts';
import { readLabState, withLabState } from '../../lab/state.ts';
import { TALOS_TIMING } from '../../lab/talos/timing.ts';
import { nodeVersions } from '../../lab/talos/versions.ts';
import { parseEtcdStatus } from '../../activities/upgrade/talos.ts';
import { serverTag } from '../../activities/upgrade/reads.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');
const CP = '10.30.0.11';
const WK = '10.30.0.21';
const fleet: FleetSpec = {
  clusters: [
    {
      name: 'up',
      endpoint: 'https://10.30.0.10:6443',
      nodes: [
        { name: 'up-cp-1', address: CP, site: 'usa', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'up-w-1', address: WK, site: 'usa', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
  ],
  siteRttMs: {},
};
const INSTALLER = 'ghcr.io/siderolabs/installer';

describe('lab talosctl: upgrade, upgrade-k8s, etcd status', () => {
  let work: string;
  let labDir: string;
  const run = (...args: string[]) =>
    execa('talosctl', args, { cwd: work, reject: false, env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work }, extendEnv: false });
  const secure = (ip: string) => ['-n', ip, '-e', ip, '--talosconfig', path.join(work, 'out', 'talosconfig')];
  /** stages derive from stageSince: travel in time instead of sleeping */
  const age = (address: string, ms: number) => withLabState(labDir, (s) => void (s.nodes[address]!.stageSince = Date.now() - ms));

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'lab-talosctl-upgrade-'));
    labDir = path.join(work, 'lab');
    createLab(labDir, fleet, { scenario: 'happy' });
    await run('gen', 'secrets', '-o', 'secrets.yaml');
    const gen = await run('gen', 'config', 'up', 'https://10.30.0.10:6443', '--with-secrets', 'secrets.yaml', '-o', 'out', '--kubernetes-version', '1.31.7', '--install-image', `${INSTALLER}:v1.9.4`);
    assert.equal(gen.exitCode, 0, gen.stderr);
    for (const [ip, file] of [[CP, 'controlplane'], [WK, 'worker']] as const) {
      const r = await run('apply-config', '--insecure', '-n', ip, '-f', `out/${file}.yaml`);
      assert.equal(r.exitCode, 0, r.stderr);
      await age(ip, TALOS_TIMING.installMs + TALOS_TIMING.rebootMs + 50);
    }
    const b = await run('bootstrap', ...secure(CP));
    assert.equal(b.exitCode, 0, b.stderr);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('the applied config decides the versions: Talos from the installer tag, Kubernetes from the images', async () => {
    const v = await run('version', ...secure(CP));
    assert.equal(v.exitCode, 0, v.stderr);
    assert.equal(serverTag(v.stdout), 'v1.9.4');
    assert.equal(nodeVersions(readLabState(labDir), CP).kubelet, '1.31.7');
  });

  test('flags: upgrade and upgrade-k8s accept what meshpilot passes and refuse unknown ones like cobra', async () => {
    const [bogus, k8sBogus] = await Promise.all([run('upgrade', '--bogus', ...secure(CP)), run('upgrade-k8s', '--frm', '1.31.7', ...secure(CP))]);
    assert.equal(bogus.exitCode, 1);
    assert.match(bogus.stderr, /^unknown flag: --bogus\n\nUsage:\n {2}talosctl upgrade \[flags\]/);
    assert.match(k8sBogus.stderr, /^unknown flag: --frm/);
  });

  test('etcd status: the tabwriter table of every member; a worker is refused', async () => {
    const st = await run('etcd', 'status', ...secure(CP));
    assert.equal(st.exitCode, 0, st.stderr);
    const rows = parseEtcdStatus(st.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.node, CP);
    assert.equal(rows[0]!.member, readLabState(labDir).nodes[CP]!.etcdMemberId!.padStart(16, '0'));
    assert.equal(rows[0]!.leader, rows[0]!.member, 'a single member leads');
    assert.equal(rows[0]!.learner, false);
    const wk = await run('etcd', 'status', '-n', WK, '-e', CP, '--talosconfig', path.join(work, 'out', 'talosconfig'));
    assert.equal(wk.exitCode, 1);
    assert.match(wk.stderr, /etcd status is only available on control plane nodes/);
  });

  test('upgrade --wait=false: acknowledged, the node installs, reboots (unreachable for a while) and runs the installer version', async () => {
    const bad = await run('upgrade', ...secure(WK), '--image', `${INSTALLER}@sha256:abc`, '--wait=false');
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /error validating installer image/);

    const r = await run('upgrade', ...secure(WK), '--image', `${INSTALLER}:v1.9.5`, '--wait=false');
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/ {3,}/).map((s) => s.trim()).filter(Boolean), ['NODE', 'ACK', 'STARTED']);
    assert.match(lines[1]!, new RegExp(`^${WK.replace(/\./g, '\\.')} +Upgrade request received +\\d{4}-\\d\\d-\\d\\d `));
    // the server is older than the client: talosctl warns on stderr and goes on
    assert.match(r.stderr, /server version 1\.9\.4 is older than client version/);
    assert.equal(readLabState(labDir).nodes[WK]!.stage, 'upgrading');

    // the upgrade-node-stuck fault holds it in the reboot, where nothing answers (no timing window to race)
    await withLabState(labDir, (st) => void (st.faults.upgradeNeverReturns = [WK]));
    await age(WK, TALOS_TIMING.upgradeMs + TALOS_TIMING.rebootMs + 50);
    const down = await run('version', ...secure(WK));
    assert.equal(down.exitCode, 1);
    assert.match(down.stderr, /error getting version/);
    assert.equal(nodeVersions(readLabState(labDir), WK).pendingTalos, 'v1.9.5');
    await withLabState(labDir, (st) => void (st.faults.upgradeNeverReturns = []));
    const back = await run('version', ...secure(WK));
    assert.equal(back.exitCode, 0, back.stderr);
    assert.equal(serverTag(back.stdout), 'v1.9.5');
    const v = nodeVersions(readLabState(labDir), WK);
    assert.deepEqual([v.talos, v.image, v.upgrades, v.pendingTalos], ['v1.9.5', `${INSTALLER}:v1.9.5`, 1, undefined]);
  });

  test('upgrade-k8s: one minor at a time up to what talosctl v1.9 knows; every kubelet and the API server move', async () => {
    const skip = await run('upgrade-k8s', ...secure(CP), '--from', '1.30.2', '--to', '1.32.3');
    assert.equal(skip.exitCode, 1);
    assert.match(skip.stderr, /unsupported upgrade path 1\.30->1\.32 \(from "1\.30\.2" to "1\.32\.3"\)/);
    const r = await run('upgrade-k8s', ...secure(CP), '--from', '1.31.7', '--to', '1.32.3', '--with-docs=false', '--with-examples=false');
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`discovered controlplane nodes \\["${CP}"\\]`));
    assert.match(r.stdout, /updating "kube-apiserver" to version "1\.32\.3"/);
    const s = readLabState(labDir);
    assert.equal(nodeVersions(s, CP).kubelet, '1.32.3');
    assert.equal(nodeVersions(s, WK).kubelet, '1.32.3');
  });
});
