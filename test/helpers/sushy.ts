import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

/**
 * A real Redfish BMC for tests: sushy-tools' `sushy-emulator` (fake driver) on 127.0.0.1, with a fresh state
 * dir (its SQLite state otherwise survives restarts), HTTP Basic auth from a bcrypt htpasswd, and TLS with a
 * self-signed certificate made for this run. Missing sushy fails loudly: run scripts/setup.d/tests/20-sushy.sh.
 */
const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SUSHY_VENV = path.join(ROOT, '.tools/sushy-venv');

export interface FakeSystem {
  uuid: string;
  name: string;
  power_state?: 'On' | 'Off';
}

export interface Sushy {
  /** https://127.0.0.1:PORT */
  url: string;
  /** PEM of the self-signed certificate the emulator serves (use it as the CA) */
  caPem: string;
  /** the emulator's access log lines so far, one per request: `{ method, path, status }` */
  requests(): Array<{ method: string; path: string; status: number }>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A self-signed certificate for 127.0.0.1 (its own CA). */
export async function selfSignedCert(dir: string, name: string): Promise<{ cert: string; key: string; pem: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ]);
  const { readFile } = await import('node:fs/promises');
  return { cert, key, pem: await readFile(cert, 'utf8') };
}

async function bcryptHtpasswd(users: Record<string, string>): Promise<string> {
  const python = path.join(SUSHY_VENV, 'bin/python');
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    // Cost 4: sushy checks the hash on every request, and the default cost 12 makes each one slow.
    const hash = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        python,
        ['-c', 'import bcrypt,sys; print(bcrypt.hashpw(sys.stdin.read().encode(), bcrypt.gensalt(4)).decode())'],
        (err, stdout) => (err ? reject(err) : resolve(stdout.trim())),
      );
      child.stdin?.end(password);
    });
    lines.push(`${user}:${hash}`);
  }
  return lines.join('\n') + '\n';
}

const py = (v: unknown): string => JSON.stringify(v).replace(/\btrue\b/g, 'True').replace(/\bfalse\b/g, 'False').replace(/\bnull\b/g, 'None');

export async function startSushy(opts: { systems: FakeSystem[]; users?: Record<string, string> }): Promise<Sushy> {
  const bin = path.join(SUSHY_VENV, 'bin/sushy-emulator');
  if (!existsSync(bin)) throw new Error(`sushy-emulator not found at ${bin}: run scripts/setup.d/tests/20-sushy.sh`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshpilot-sushy-'));
  const tls = await selfSignedCert(dir, 'sushy-bmc');
  await writeFile(path.join(dir, 'htpasswd'), await bcryptHtpasswd(opts.users ?? { admin: 'password' }));
  const port = await freePort();
  const systems = opts.systems.map((s) => ({ uuid: s.uuid, name: s.name, power_state: s.power_state ?? 'Off', external_notifier: false, nics: [] }));
  await writeFile(
    path.join(dir, 'emulator.conf'),
    [
      `SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'`,
      `SUSHY_EMULATOR_LISTEN_PORT = ${port}`,
      `SUSHY_EMULATOR_FAKE_DRIVER = True`,
      `SUSHY_EMULATOR_STATE_DIR = ${py(path.join(dir, 'state'))}`,
      `SUSHY_EMULATOR_AUTH_FILE = ${py(path.join(dir, 'htpasswd'))}`,
      `SUSHY_EMULATOR_SSL_CERT = ${py(tls.cert)}`,
      `SUSHY_EMULATOR_SSL_KEY = ${py(tls.key)}`,
      `SUSHY_EMULATOR_FEATURE_SET = 'full'`,
      `SUSHY_EMULATOR_FAKE_SYSTEMS = ${py(systems)}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['--config', path.join(dir, 'emulator.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));

  const url = `https://127.0.0.1:${port}`;
  const agent = new Agent({ connect: { ca: tls.pem } });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited !== null) throw new Error(`sushy-emulator exited ${exited} before serving:\n${log.slice(-2000)}`);
    try {
      const res = await request(`${url}/redfish/v1/`, { dispatcher: agent });
      await res.body.text();
      if (res.statusCode === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sushy-emulator did not answer on ${url} within 20 s:\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await agent.close();

  return {
    url,
    caPem: tls.pem,
    requests() {
      const out: Array<{ method: string; path: string; status: number }> = [];
      // Werkzeug's access log: `127.0.0.1 - - [date] "GET /path HTTP/1.1" 200 -` (colour codes around it).
      const plain = log.replace(/\x1b\[[0-9;]*m/g, '');
      for (const m of plain.matchAll(/"([A-Z]+) (\S+) HTTP\/[0-9.]+" (\d{3})/g)) {
        out.push({ method: m[1]!, path: m[2]!, status: Number(m[3]) });
      }
      return out;
    },
    async close() {
      if (exited === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await gone;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback HTTP server holding a tiny fake installer ISO (sushy downloads the image on every insert). */
export async function startIsoServer(): Promise<{ url: (name?: string) => string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    if (req.url?.endsWith('.iso')) {
      hits++;
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(4096, 0x42));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: (name = 'talos-amd64.iso') => `http://127.0.0.1:${port}/${name}`,
    hits: () => hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
