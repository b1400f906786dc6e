// scripts/real-stack.sh as a user runs it: `up` prints only the kubeconfig path (0600, the token never printed),
// `status` says what runs, `down` leaves nothing running and deletes the credentials; a missing binary fails
// naming the set-up script that builds it. The LB-IPAM behaviour of the stack is test/conformance/lb-ipam.test.ts.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { execa } from 'execa';
import { projectRoot } from '../../config/env.ts';
import { TOOLS_BIN } from '../helpers/real-stack.ts';

const SCRIPT = path.join(projectRoot, 'scripts/real-stack.sh');
const work = mkdtempSync(path.join(os.tmpdir(), 'real-stack-script-'));
after(() => rmSync(work, { recursive: true, force: true }));

const stack = (args: string[], script = SCRIPT) => execa('bash', [script, ...args], { reject: false, timeout: 10 * 60_000 });

/** Processes whose command line names DIR (what the script itself counts as its own). */
function processesNaming(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir) && !cmd.includes('real-stack.sh')) found.push(`${pid}: ${cmd.slice(0, 120)}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

describe('scripts/real-stack.sh', () => {
  test('up, status, down: the kubeconfig path only, 0600; nothing left running; credentials deleted', async () => {
    for (const bin of ['kube-apiserver', 'kubectl', 'cilium-operator-generic']) {
      assert.ok(existsSync(path.join(TOOLS_BIN, bin)), `${bin} is missing: run bash scripts/setup.sh --all`);
    }
    const dir = path.join(work, 'stack');
    try {
      const up = await stack(['up', '--dir', dir]);
      assert.equal(up.exitCode, 0, up.stderr);
      const kubeconfig = path.join(dir, 'kubeconfig');
      assert.equal(up.stdout, kubeconfig);
      assert.equal(statSync(kubeconfig).mode & 0o777, 0o600);
      const token = /token: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1];
      assert.ok(token && token.length >= 32, 'the kubeconfig carries a token');
      assert.ok(!up.stderr.includes(token), 'up printed the token');
      assert.match(up.stderr, /kube-apiserver v1\.32\.3 https:\/\/127\.0\.0\.1:\d+, cilium-operator-generic 1\.16\.19/);

      const version = await execa(path.join(TOOLS_BIN, 'kubectl'), ['--kubeconfig', kubeconfig, 'version', '-o', 'json'], { reject: false });
      assert.equal(version.exitCode, 0, version.stderr);
      assert.equal(JSON.parse(version.stdout).serverVersion.gitVersion, 'v1.32.3');

      const running = await stack(['status', '--dir', dir]);
      assert.equal(running.exitCode, 0, running.stdout);
      assert.match(running.stdout, /^etcd: running \(pid \d+\)\nkube-apiserver: running \(pid \d+\)\ncilium-operator: running \(pid \d+\)\nkubeconfig: /);
      assert.ok(!running.stdout.includes(token), 'status printed the token');

      const again = await stack(['up', '--dir', dir]);
      assert.deepEqual({ code: again.exitCode, out: again.stdout }, { code: 0, out: kubeconfig }, 'up on a running stack reuses it');
      assert.match(again.stderr, /already running/);

      const down = await stack(['down', '--dir', dir]);
      assert.equal(down.exitCode, 0, down.stderr);
      assert.deepEqual(processesNaming(dir), []);
      for (const f of ['kubeconfig', 'tokens.csv', 'pki']) assert.ok(!existsSync(path.join(dir, f)), `${f} left after down`);
      assert.ok(existsSync(path.join(dir, 'logs', 'kube-apiserver.log')), 'logs stay for a look afterwards');

      const stopped = await stack(['status', '--dir', dir]);
      assert.deepEqual({ code: stopped.exitCode, out: stopped.stdout }, { code: 3, out: 'etcd: stopped\nkube-apiserver: stopped\ncilium-operator: stopped' });
    } finally {
      await stack(['down', '--dir', dir]);
    }
  });

  test('a missing binary fails up, naming the set-up script; nothing starts', async () => {
    // a clone whose set-up never ran: the scripts without .tools/
    const clone = path.join(work, 'clone');
    cpSync(path.join(projectRoot, 'scripts'), path.join(clone, 'scripts'), { recursive: true });
    const dir = path.join(work, 'never');
    const r = await stack(['up', '--dir', dir], path.join(clone, 'scripts/real-stack.sh'));
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /kube-apiserver is missing: run bash scripts\/setup\.d\/tests\/70-kubernetes\.sh/);
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(path.join(dir, 'kubeconfig')));
    assert.deepEqual(processesNaming(dir), []);
  });

  test('bad input exits 2 naming the argument', async () => {
    const unknown = await stack(['restart']);
    assert.equal(unknown.exitCode, 2);
    assert.match(unknown.stderr, /unknown command 'restart' \(up, down, status\)/);
    const flag = await stack(['status', '--port', '1']);
    assert.equal(flag.exitCode, 2);
    assert.match(flag.stderr, /unknown argument '--port'/);
    const owner = await stack(['up', '--owner-pid', 'me']);
    assert.equal(owner.exitCode, 2);
    assert.match(owner.stderr, /--owner-pid needs a process id/);
  });
});
