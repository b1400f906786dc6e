import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { runTool, runToolOk, ToolError, isToolError } from '../../../activities/exec/run-tool.ts';
import { redact } from '../../../secrets/redact.ts';

const tool = path.resolve('test/fixtures/bin/slow-tool');
const tools = (extra: NodeJS.ProcessEnv = {}) => ({ env: { PATH: process.env.PATH, ...extra } });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runTool', () => {
  test('one result shape: command, exit code, output, duration', async () => {
    const r = await runTool(tools({ EXIT: '3' }), tool, ['hello', 'x']);
    assert.equal(r.exitCode, 3);
    assert.match(r.stdout, /out: hello/);
    assert.match(r.stderr, /err: token=x/);
    assert.equal(r.timedOut, false);
    assert.ok(r.durationMs >= 0);
    assert.ok(r.command.endsWith('slow-tool hello x'));
  });

  test('secret values are redacted from the command line, stdout and stderr', async () => {
    const secret = 'hunter2-very-secret';
    const r = await runTool(tools(), tool, [secret, secret], { secrets: [secret] });
    assert.ok(!r.command.includes(secret));
    assert.ok(!r.stdout.includes(secret));
    assert.ok(!r.stderr.includes(secret));
    assert.match(r.stdout, /<redacted>/);
  });

  test('runToolOk throws a typed, redacted ToolError on failure', async () => {
    await assert.rejects(runToolOk(tools({ EXIT: '1' }), tool, ['a', 'pw-123456'], { secrets: ['pw-123456'] }), (err) => {
      assert.ok(isToolError(err));
      assert.ok(err instanceof ToolError);
      assert.match(err.message, /exited 1/);
      assert.ok(!err.message.includes('pw-123456'));
      return true;
    });
  });

  test('a timeout kills the process and says so', async () => {
    const r = await runTool(tools({ SLEEP: '5' }), tool, ['a', 'b'], { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(r.durationMs < 4_000);
  });

  test('a missing executable is exit 127 with a clear message', async () => {
    const r = await runTool(tools(), 'no-such-tool-meshpilot', []);
    assert.equal(r.exitCode, 127);
    assert.match(r.stderr, /command not found/);
  });

  test('activity cancellation kills the running tool process and surfaces CancelledFailure', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-'));
    const pidfile = path.join(dir, 'pid');
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 1_000 });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const running = env.run(() => runTool(tools({ SLEEP: '30', PIDFILE: pidfile }), tool, ['a', 'b'], { heartbeatMs: 100 }));
    while (!existsSync(pidfile) || readFileSync(pidfile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 20));
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    assert.ok(alive(pid));
    await new Promise((r) => setTimeout(r, 300));
    env.cancel();
    await assert.rejects(running, (err) => err instanceof CancelledFailure);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(alive(pid), false, 'the tool process must be gone after cancellation');
    assert.ok(heartbeats.length >= 1, 'long tool calls heartbeat');
  });
});

describe('redact', () => {
  test('PEM blocks, kubeconfig key data and bearer tokens', () => {
    const text = [
      '-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----',
      'client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg==',
      'Authorization: Bearer abcdefghijklmnop',
    ].join('\n');
    const out = redact(text);
    assert.ok(!out.includes('MIIabc'));
    assert.ok(!out.includes('LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCg=='));
    assert.ok(!out.includes('abcdefghijklmnop'));
    assert.match(out, /client-key-data: <redacted>/);
  });

  test('keepCertificates: a public CA bundle stays readable, private keys and given secrets do not', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIcert\n-----END CERTIFICATE-----';
    const text = `${cert}\n-----BEGIN PRIVATE KEY-----\nMIIkey\n-----END PRIVATE KEY-----\nhunter2hunter2`;
    assert.ok(!redact(text).includes('MIIcert'), 'certificates are redacted by default');
    const kept = redact(text, ['hunter2hunter2'], { keepCertificates: true });
    assert.ok(kept.includes(cert));
    assert.ok(!kept.includes('MIIkey'));
    assert.ok(!kept.includes('hunter2hunter2'));
  });
});
