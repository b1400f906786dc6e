import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { register } from '../../cli/commands/codec-server.ts';
import { CliError, type CliIO } from '../../cli/io.ts';
import { parseCodecKeys } from '../../codec/config.ts';
import { startCodecServer, type RunningCodecServer } from '../../codec/server.ts';

const UI = 'http://localhost:8233';
const TOKEN = 'codec-test-token-0123456789';
const keysText = `k1:${randomBytes(32).toString('base64')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const jsonPayload = (value: unknown) => ({
  metadata: { encoding: b64('json/plain') },
  data: b64(JSON.stringify(value)),
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as { payloads?: Array<{ metadata: Record<string, string>; data: string }>; error?: string } };
}

describe('codec server over HTTP', () => {
  let open: RunningCodecServer;
  let authed: RunningCodecServer;
  before(async () => {
    const keys = parseCodecKeys(keysText);
    open = await startCodecServer({ keys, port: 0, uiOrigins: [UI] });
    authed = await startCodecServer({ keys, port: 0, uiOrigins: [UI], authToken: TOKEN });
  });
  after(async () => {
    await open?.close();
    await authed?.close();
  });

  test('binds to loopback by default', () => {
    assert.match(open.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('encode then decode returns the original payload; encoded form hides it', async () => {
    const original = jsonPayload({ bmcPassword: 'hunter2-very-secret' });
    const enc = await post(`${open.url}/encode`, { payloads: [original] });
    assert.equal(enc.res.status, 200);
    const encoded = enc.json.payloads![0]!;
    assert.equal(Buffer.from(encoded.metadata.encoding!, 'base64').toString(), 'binary/encrypted');
    assert.ok(!Buffer.from(encoded.data, 'base64').toString('latin1').includes('hunter2'));
    const dec = await post(`${open.url}/default/decode`, { payloads: [encoded] });
    assert.equal(dec.res.status, 200);
    assert.deepEqual(dec.json.payloads![0], original);
  });

  test('CORS preflight answers the allowed UI origin, and refuses another', async () => {
    const pre = (origin: string) =>
      fetch(`${open.url}/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
    const ok = await pre(UI);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), UI);
    const allowedHeaders = ok.headers.get('access-control-allow-headers') ?? '';
    for (const h of ['x-namespace', 'content-type', 'authorization']) assert.ok(allowedHeaders.includes(h), h);
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await pre('http://evil.example:8233');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const posted = await post(`${open.url}/decode`, { payloads: [] }, { origin: 'http://evil.example:8233' });
    assert.equal(posted.res.headers.get('access-control-allow-origin'), null);
    const fromUi = await post(`${open.url}/decode`, { payloads: [] }, { origin: UI });
    assert.equal(fromUi.res.headers.get('access-control-allow-origin'), UI);
  });

  test('bearer auth is required when configured (preflight stays open)', async () => {
    const body = { payloads: [jsonPayload(1)] };
    assert.equal((await post(`${authed.url}/encode`, body)).res.status, 401);
    const wrong = await post(`${authed.url}/encode`, body, { authorization: 'Bearer nope' });
    assert.equal(wrong.res.status, 401);
    assert.equal(wrong.res.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await post(`${authed.url}/encode`, body, { authorization: `Bearer ${TOKEN}` })).res.status, 200);
    const pre = await fetch(`${authed.url}/decode`, { method: 'OPTIONS', headers: { origin: UI } });
    assert.equal(pre.status, 204);
  });

  test('a bad body is a 400 that says what is wrong', async () => {
    const notJson = await post(`${open.url}/decode`, '{nope');
    assert.equal(notJson.res.status, 400);
    assert.match(notJson.json.error!, /not JSON/);
    const noPayloads = await post(`${open.url}/decode`, { items: [] });
    assert.equal(noPayloads.res.status, 400);
    assert.match(noPayloads.json.error!, /payloads/);
    const badData = await post(`${open.url}/decode`, { payloads: [{ data: 'not base64!' }] });
    assert.equal(badData.res.status, 400);
    assert.match(badData.json.error!, /payloads\.0\.data: must be base64/);
  });

  test('a payload under an unknown key id is a 422 naming the id; unknown routes are 404', async () => {
    const stranger = { metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('retired') }, data: b64('x'.repeat(40)) };
    const res = await post(`${open.url}/decode`, { payloads: [stranger] });
    assert.equal(res.res.status, 422);
    assert.match(res.json.error!, /key id "retired"/);
    assert.equal((await fetch(`${open.url}/nothing`)).status, 404);
    assert.equal((await fetch(`${open.url}/healthz`)).status, 200);
  });
});

describe('meshpilot codec-server command', () => {
  function io(env: NodeJS.ProcessEnv): CliIO & { text: () => string } {
    let out = '';
    return { out: (t) => (out += t), err: () => {}, isTTY: false, color: false, env, text: () => out };
  }

  async function run(argv: string[], cliIO: CliIO, stop: Promise<void> = Promise.resolve()) {
    const program = new Command().exitOverride();
    register(program, cliIO, () => stop);
    await program.parseAsync(['codec-server', ...argv], { from: 'user' });
  }

  test('serves until stopped, then closes', async () => {
    const cli = io({ MESHPILOT_CODEC_KEYS: keysText });
    let stop!: () => void;
    const running = run(['--port', '0', '--ui-origin', 'http://ui.test:8080'], cli, new Promise((r) => (stop = r)));
    for (let i = 0; i < 100 && !cli.text().includes('codec server http'); i++) await new Promise((r) => setTimeout(r, 20));
    const url = cli.text().match(/codec server (http:\/\/\S+)/)?.[1];
    assert.ok(url, cli.text());
    assert.match(cli.text(), /UI origins: http:\/\/ui\.test:8080; auth: none/);
    const pre = await fetch(`${url}/decode`, { method: 'OPTIONS', headers: { origin: 'http://ui.test:8080' } });
    assert.equal(pre.status, 204);
    stop();
    await running;
    assert.match(cli.text(), /codec server stopped/);
    await assert.rejects(fetch(`${url}/healthz`));
  });

  test('refuses to start without keys, with a short token, or a bad origin', async () => {
    await assert.rejects(run(['--port', '0'], io({})), (e: Error) => e instanceof CliError && /encryption is off/.test(e.message));
    await assert.rejects(
      run(['--port', '0', '--auth-token-env', 'CODEC_TOKEN'], io({ MESHPILOT_CODEC_KEYS: keysText, CODEC_TOKEN: 'short' })),
      /--auth-token-env: CODEC_TOKEN must hold a token/,
    );
    await assert.rejects(
      run(['--port', '0', '--ui-origin', 'http://ui.test/path'], io({ MESHPILOT_CODEC_KEYS: keysText })),
      /--ui-origin: expected scheme:\/\/host\[:port\]/,
    );
    await assert.rejects(run(['--port', '70000'], io({ MESHPILOT_CODEC_KEYS: keysText })), /--port: expected 0-65535/);
  });
});
