import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './sushy.ts';

/**
 * A real three-member etcd on 127.0.0.1 (Debian etcd-server, scripts/setup.d/tests/30-etcd.sh) whose peer traffic goes
 * through toxiproxy (scripts/setup.d/tests/40-toxiproxy.sh): every member advertises a proxy as its peer URL, so
 * latency added on member X's proxy slows every connection the others open to X (request and response).
 *
 * Timing facts this relies on (etcd rafthttp probing_status.go + xiang90/probing): each member probes each peer
 * every 4 s; the smoothed RTT (α = 1/8, starting at 0) is first observed 5 s after start, then every 30 s while
 * healthy. So a fresh cluster has peer-RTT samples ~5-6 s after start, and latency present from the start shows
 * up in the first sample as at least 1/8 of the real RTT.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TOXIPROXY_BIN = path.join(ROOT, '.tools/bin/toxiproxy-server');

export interface EtcdMember {
  name: string;
  /** an address as a blueprint would hold it; `metricsUrlFor` maps it to this member's loopback listener */
  address: string;
  clientUrl: string;
  metricsUrl: string;
  /** unpadded lower-case hex, read from the member list */
  memberId: string;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** for ActivityDeps.etcdMetricsUrl: the blueprint address → this member's real metrics URL */
  metricsUrlFor: (address: string, port: number) => string;
  /** the last lines each member logged (for assertion messages) */
  logs: () => Record<string, string>;
  close: () => Promise<void>;
}

export interface ToxiProxy {
  api: string;
  createProxy(name: string, listen: string, upstream: string): Promise<void>;
  /** a latency toxic on both directions of the proxy: +2×ms per request/response round trip */
  addLatency(proxy: string, ms: number): Promise<void>;
  close(): Promise<void>;
}

async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs: number, diag: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms\n${diag()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

export async function startToxiproxy(): Promise<ToxiProxy> {
  if (!existsSync(TOXIPROXY_BIN)) throw new Error(`toxiproxy-server not found at ${TOXIPROXY_BIN}: run scripts/setup.d/tests/40-toxiproxy.sh`);
  const port = await freePort();
  const child = spawn(TOXIPROXY_BIN, ['-host', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d) => (log = (log + d).slice(-4000)));
  child.stderr?.on('data', (d) => (log = (log + d).slice(-4000)));
  child.on('error', (e) => (log += `\nspawn error: ${e.message}`));
  const api = `http://127.0.0.1:${port}`;
  await waitFor('toxiproxy', async () => (await fetch(`${api}/version`)).ok, 10_000, () => log);
  const call = async (method: string, p: string, body: unknown) => {
    const res = await fetch(`${api}${p}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`toxiproxy ${method} ${p}: HTTP ${res.status} ${await res.text()}`);
  };
  return {
    api,
    createProxy: (name, listen, upstream) => call('POST', '/proxies', { name, listen, upstream, enabled: true }),
    async addLatency(proxy, ms) {
      for (const stream of ['upstream', 'downstream']) {
        await call('POST', `/proxies/${proxy}/toxics`, { name: `latency-${stream}`, type: 'latency', stream, toxicity: 1, attributes: { latency: ms, jitter: 0 } });
      }
    },
    close: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  // A child that never spawned (ENOENT) emits no 'exit'.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await gone;
  clearTimeout(timer);
}

/**
 * Starts `size` members. `slowMember` (an index) gets `latencyMs` on its proxy before etcd starts, so the very
 * first RTT observation already carries it.
 */
export async function startEtcdCluster(opts: { toxiproxy: ToxiProxy; tag: string; size?: number; slowMember?: number; latencyMs?: number }): Promise<EtcdCluster> {
  const size = opts.size ?? 3;
  const dir = await mkdtemp(path.join(os.tmpdir(), `meshpilot-etcd-${opts.tag}-`));
  const specs = [];
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `${opts.tag}-cp-${i + 1}`,
      address: `10.77.0.${i + 11}`,
      client: await freePort(),
      peer: await freePort(),
      proxy: await freePort(),
      metrics: await freePort(),
    });
  }
  for (const [i, s] of specs.entries()) {
    await opts.toxiproxy.createProxy(s.name, `127.0.0.1:${s.proxy}`, `127.0.0.1:${s.peer}`);
    if (i === opts.slowMember) await opts.toxiproxy.addLatency(s.name, opts.latencyMs ?? 40);
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.proxy}`).join(',');
  const children: ChildProcess[] = [];
  const logs: Record<string, string> = {};
  for (const s of specs) {
    const child = spawn(
      'etcd',
      [
        '--name', s.name,
        '--data-dir', path.join(dir, s.name),
        '--listen-client-urls', `http://127.0.0.1:${s.client}`,
        '--advertise-client-urls', `http://127.0.0.1:${s.client}`,
        '--listen-peer-urls', `http://127.0.0.1:${s.peer}`,
        '--initial-advertise-peer-urls', `http://127.0.0.1:${s.proxy}`,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `${opts.tag}-${path.basename(dir)}`,
        '--listen-metrics-urls', `http://127.0.0.1:${s.metrics}`,
        // The test machine's disk is shared; fsync stalls must not cost a leader election mid-test.
        '--election-timeout', '2500',
        '--heartbeat-interval', '250',
        '--logger', 'zap',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCD_UNSUPPORTED_ARCH: process.env.ETCD_UNSUPPORTED_ARCH ?? '' } },
    );
    logs[s.name] = '';
    const keep = (d: Buffer) => (logs[s.name] = (logs[s.name] + d.toString()).slice(-3000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (e) => (logs[s.name] += `\nspawn error: ${e.message} (run scripts/setup.d/tests/30-etcd.sh)`));
    children.push(child);
  }
  const close = async () => {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  const diag = () => Object.entries(logs).map(([n, l]) => `--- ${n}\n${l.split('\n').slice(-6).join('\n')}`).join('\n');
  try {
    await Promise.all(
      specs.map((s) =>
        waitFor(`etcd ${s.name}`, async () => {
          const res = await fetch(`http://127.0.0.1:${s.metrics}/health`);
          return res.ok && ((await res.json()) as { health?: string }).health === 'true';
        }, 45_000, diag),
      ),
    );
    const list = await fetch(`http://127.0.0.1:${specs[0]!.client}/v3/cluster/member/list`, { method: 'POST', body: '{}' });
    const body = (await list.json()) as { members: Array<{ ID: string; name: string }> };
    const members = specs.map((s) => {
      const m = body.members.find((x) => x.name === s.name);
      if (!m) throw new Error(`member ${s.name} missing from the member list`);
      return {
        name: s.name,
        address: s.address,
        clientUrl: `http://127.0.0.1:${s.client}`,
        metricsUrl: `http://127.0.0.1:${s.metrics}/metrics`,
        // The JSON gateway prints uint64 ids as decimal strings: BigInt keeps every bit.
        memberId: BigInt(m.ID).toString(16),
      };
    });
    const byAddress = new Map(members.map((m) => [m.address, m.metricsUrl]));
    // Unknown addresses get a port nobody listens on: connection refused, like a node without the listener.
    const refused = await freePort();
    return {
      members,
      metricsUrlFor: (address) => byAddress.get(address) ?? `http://127.0.0.1:${refused}/metrics`,
      logs: () => ({ ...logs }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
