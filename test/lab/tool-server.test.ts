import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { readCalls } from '../../lab/call-log.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { LAB_SOCKET_ENV, startLabToolServer, type LabToolServer } from '../../lab/server/tool-server.ts';
import { encodeFrame, FrameReader } from '../../lab/server/frames.ts';
import { readLabState } from '../../lab/state.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'lab/bin');
const SHIM = path.join(ROOT, '.tools/bin/meshpilot-lab-call');

/** Two identical labs: one answered by per-call node processes, one by the lab tool server through the Go shim. */
interface Side {
  work: string;
  labDir: string;
  kubeconfigs: Record<string, string>;
  run: (tool: string, args: string[], opts?: { input?: string; cwd?: string }) => ReturnType<typeof execa>;
}

async function side(socket?: () => string): Promise<Side> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'lab-srv-'));
  const labDir = path.join(work, 'lab');
  const kubeconfigs = await bootstrappedLab(labDir, 'happy');
  const run: Side['run'] = (tool, args, opts = {}) =>
    execa(tool, args, {
      cwd: opts.cwd ?? work,
      reject: false,
      input: opts.input,
      extendEnv: false,
      env: {
        PATH: `${BIN}:${process.env.PATH}`,
        MESHPILOT_LAB_DIR: labDir,
        HOME: work,
        KUBECONFIG: kubeconfigs['cluster-usa'],
        ...(socket ? { [LAB_SOCKET_ENV]: socket() } : {}),
      },
    });
  return { work, labDir, kubeconfigs, run };
}

const configMap = (name: string) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: name } });

describe('lab tool server: the same answers as a tool process, from one long-lived process', () => {
  let server: LabToolServer;
  let proc: Side;
  let srv: Side;

  before(async () => {
    assert.ok(existsSync(SHIM), `the lab shim is not built at ${SHIM}: run scripts/setup.d/base/20-lab-shim.sh`);
    proc = await side();
    srv = await side(() => server.socketPath);
    server = await startLabToolServer();
  });
  after(async () => {
    await server?.close();
    for (const s of [proc, srv]) if (s) rmSync(s.work, { recursive: true, force: true });
  });

  test('stdout, stderr and exit codes are identical for the same calls', async () => {
    const calls: [string, string[]][] = [
      ['talosctl', ['version', '--client']],
      ['talosctl', ['get', '--bogus']],
      ['talosctl', ['frobnicate']],
      ['kubectl', ['get', 'nodes', '-o', 'json']],
      ['kubectl', ['get', 'configmap', 'missing']],
      ['helm', ['list', '-A', '-o', 'json']],
      ['helm', ['upgrade']],
      ['cilium', ['version', '--client']],
    ];
    for (const [tool, args] of calls) {
      const [a, b] = await Promise.all([proc.run(tool, args), srv.run(tool, args)]);
      const what = `${tool} ${args.join(' ')}`;
      assert.equal(b.exitCode, a.exitCode, `${what}: exit code`);
      assert.equal(b.stdout, a.stdout, `${what}: stdout`);
      assert.equal(b.stderr, a.stderr, `${what}: stderr`);
    }
    assert.equal(server.served(), calls.length, 'every call went through the server');
    assert.equal(readCalls(srv.labDir).length, calls.length, 'every served call is in the call log');
  });

  test('stdin is read when the tool asks for it (kubectl apply -f -)', async () => {
    const r = await srv.run('kubectl', ['apply', '-f', '-'], { input: configMap('from-stdin') });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.stdout, 'configmap/from-stdin created');
    const got = await srv.run('kubectl', ['get', 'configmap', 'from-stdin', '-o', 'json']);
    assert.equal(JSON.parse(String(got.stdout)).data.k, 'from-stdin');
  });

  test("relative paths resolve against the caller's directory, not the server's", async () => {
    const dir = mkdtempSync(path.join(srv.work, 'cwd-'));
    const a = await srv.run('talosctl', ['gen', 'secrets', '-o', 'secrets.yaml'], { cwd: dir });
    assert.equal(a.exitCode, 0, String(a.stderr));
    assert.ok(existsSync(path.join(dir, 'secrets.yaml')), 'written where the caller stood');
    assert.ok(!existsSync(path.join(process.cwd(), 'secrets.yaml')), 'not where the server runs');
    writeFileSync(path.join(dir, 'cm.yaml'), configMap('from-file'));
    const applied = await srv.run('kubectl', ['apply', '-f', 'cm.yaml'], { cwd: dir });
    assert.equal(applied.stdout, 'configmap/from-file created', String(applied.stderr));
  });

  test("the call log keeps the caller's pid (the shim execs, so it is the process the activity started)", async () => {
    const child = srv.run('talosctl', ['version', '--client', '--short']);
    await child;
    const last = readCalls(srv.labDir).at(-1)!;
    assert.deepEqual(last.argv, ['version', '--client', '--short']);
    assert.equal(last.pid, child.pid);
  });

  test('concurrent calls that change the fleet lose no update', async () => {
    const names = Array.from({ length: 16 }, (_, i) => `cm-${i}`);
    const results = await Promise.all(names.map((n) => srv.run('kubectl', ['apply', '-f', '-'], { input: configMap(n) })));
    assert.deepEqual(results.map((r) => r.exitCode), names.map(() => 0));
    const kube = readLabState(srv.labDir).clusters['cluster-usa']!.kube;
    for (const n of names) assert.ok(kube[`v1|ConfigMap|default|${n}`], `${n} is in the fleet`);
  });

  test('re-creating the lab under a running server (meshpilot rollout --lab) keeps calls on the server', async () => {
    const before = server.served();
    await bootstrappedLab(srv.labDir, 'happy');
    const r = await srv.run('talosctl', ['version', '--client', '--short']);
    assert.equal(r.stdout, 'Client:\nTalos v1.9.5');
    assert.equal(server.served(), before + 1);
    assert.equal(readCalls(srv.labDir).length, 1, 'the new lab has a new call log');
  });

  test('a malformed call gets an error naming the field and exit code 70', async () => {
    const conn = net.connect(server.socketPath);
    const reader = new FrameReader();
    const frames: { type: string; body: string }[] = [];
    const closed = new Promise<void>((resolve) => {
      conn.on('data', (c) => frames.push(...reader.push(c).map((f) => ({ type: f.type, body: f.body.toString('utf8') }))));
      conn.on('close', () => resolve());
    });
    conn.write(encodeFrame('q', JSON.stringify({ tool: 'talosctl', argv: ['version'], env: [], cwd: '/', pid: 'x' })));
    await closed;
    assert.equal(frames[0]?.type, 'e');
    assert.match(frames[0]!.body, /malformed call .*pid: /);
    assert.deepEqual(frames[1], { type: 'x', body: '70' });
  });

  test('a killed caller does not harm the server; a stale socket falls back to a tool process', async () => {
    const slow = srv.run('talosctl', ['version', '--client']);
    slow.kill('SIGKILL');
    await slow;
    const next = await srv.run('talosctl', ['version', '--client', '--short']);
    assert.equal(next.stdout, 'Client:\nTalos v1.9.5');

    const dead = path.join(srv.work, 'dead.sock');
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(dead, r));
    await new Promise<void>((r) => holder.close(() => r()));
    writeFileSync(dead, ''); // a leftover file where a socket was: nothing listens
    const viaFallback = await execa('talosctl', ['version', '--client', '--short'], {
      reject: false,
      extendEnv: false,
      env: { PATH: `${BIN}:${process.env.PATH}`, MESHPILOT_LAB_DIR: srv.labDir, HOME: srv.work, [LAB_SOCKET_ENV]: dead },
    });
    assert.equal(viaFallback.exitCode, 0, String(viaFallback.stderr));
    assert.equal(viaFallback.stdout, 'Client:\nTalos v1.9.5');
  });
});
