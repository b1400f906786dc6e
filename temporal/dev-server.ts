import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { execa, type ResultPromise } from 'execa';
import { parentDeathPrefix } from '../activities/exec/parent-death.ts';
import { signalGroup } from '../activities/exec/proc.ts';
import { ALL_SEARCH_ATTRIBUTES } from '../contracts/names.ts';

export interface DevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number;
  dataDir: string;
  namespace: string;
  codecEndpoint?: string;
  headless?: boolean;
  log?: (line: string) => void;
  /** How long the server may take to listen (frontend and UI) and answer; generous, because a loaded machine is slow to start it. */
  startTimeoutMs?: number;
}

export interface RunningDevServer {
  address: string;
  uiUrl?: string;
  process: ResultPromise;
  stop(): Promise<void>;
}

/** `temporal server start-dev` args: SQLite file (a restart keeps running workflows) and our search attributes. */
export function devServerArgs(opts: DevServerOptions): string[] {
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(opts.port),
    '--namespace', opts.namespace,
    '--db-filename', path.join(opts.dataDir, 'temporal.sqlite'),
    '--log-level', 'warn',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
  ];
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  if (opts.headless) args.push('--headless');
  else {
    args.push('--ui-port', String(opts.uiPort), '--ui-disable-news-fetch' );
    if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  }
  return args;
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ host, port }, () => {
        sock.destroy();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Until the frontend answers GetSystemInfo: it listens a moment before it is healthy, and a client that connects
 * in between gets "Frontend is not healthy yet".
 */
export async function waitForFrontend(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Connection.connect({ address, connectTimeout: '5s' });
      await c.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} is not healthy after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Starts `temporal server start-dev` as a child that cannot outlive this process, however it ends: a
 * parent-death signal (SIGKILL of `meshpilot dev` included, see activities/exec/parent-death.ts), a kill on
 * Node's exit, and its own process group, so a terminal's Ctrl-C reaches meshpilot first and meshpilot stops the
 * worker before the server.
 */
export async function startDevServer(opts: DevServerOptions): Promise<RunningDevServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const { prefix } = parentDeathPrefix();
  const [bin, ...preArgs] = [...prefix, opts.cliPath];
  const child = execa(bin!, [...preArgs, ...devServerArgs(opts)], { stdio: ['ignore', 'pipe', 'pipe'], reject: false, detached: true, cleanup: false });
  child.stderr?.on('data', (d: Buffer) => opts.log?.(d.toString().trimEnd()));
  const exited = child.then((r) => {
    throw new Error(`temporal dev server exited early (code ${r.exitCode}): ${String(r.stderr ?? '').slice(-500)}`);
  });
  const pgid = child.pid;
  // Whatever ends this process through Node (an exception, a second Ctrl-C), the server goes with it.
  const killOnExit = () => {
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
  };
  process.once('exit', killOnExit);
  exited.catch(() => {});
  try {
    // the UI too: `meshpilot dev` prints its address as soon as this returns, and a user (or a test) opens it
    const ports = opts.headless ? [opts.port] : [opts.port, opts.uiPort];
    const timeoutMs = opts.startTimeoutMs ?? 120_000;
    const ready = async () => {
      await Promise.all(ports.map((p) => waitForPort('127.0.0.1', p, timeoutMs)));
      await waitForFrontend(`127.0.0.1:${opts.port}`, timeoutMs);
    };
    await Promise.race([ready(), exited]);
  } catch (err) {
    killOnExit();
    process.off('exit', killOnExit);
    throw err;
  }
  return {
    address: `127.0.0.1:${opts.port}`,
    uiUrl: opts.headless ? undefined : `http://localhost:${opts.uiPort}`,
    process: child,
    async stop() {
      if (pgid !== undefined) signalGroup(pgid, 'SIGTERM');
      const timer = setTimeout(killOnExit, 10_000);
      await child.catch(() => {});
      clearTimeout(timer);
      killOnExit();
      process.off('exit', killOnExit);
    },
  };
}
