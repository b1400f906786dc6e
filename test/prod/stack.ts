// The production stack (scripts/prod-stack.sh) for a test: its own state directory and free ports, so it never
// meets a developer's stack on the default ports or another test's. Nothing here starts a service itself: every
// process is the script's, started and stopped the way an operator would.
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { projectRoot } from '../../config/env.ts';

export const PROD_STACK_SCRIPT = path.join(projectRoot, 'scripts', 'prod-stack.sh');

/** The port variables scripts/prod-stack.sh reads (the compose defaults otherwise). */
export const PORT_VARS = [
  'DB_PORT',
  'FRONTEND_GRPC_PORT',
  'FRONTEND_HTTP_PORT',
  'HISTORY_GRPC_PORT',
  'MATCHING_GRPC_PORT',
  'WORKER_GRPC_PORT',
  'FRONTEND_MEMBERSHIP_PORT',
  'HISTORY_MEMBERSHIP_PORT',
  'MATCHING_MEMBERSHIP_PORT',
  'WORKER_MEMBERSHIP_PORT',
  'TEMPORAL_UI_PORT',
  'MESHPILOT_CODEC_PORT',
  'MESHPILOT_CHAT_PORT',
] as const;
export type PortVar = (typeof PORT_VARS)[number];

export const SERVICES = ['postgresql', 'temporal', 'codec-server', 'temporal-ui', 'worker', 'worker-usa', 'worker-europe', 'chat'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ScriptResult {
  exitCode: number;
  stdout: string;
  /** stdout and stderr interleaved */
  all: string;
}

export interface ProdStack {
  dir: string;
  ports: Record<PortVar, number>;
  /** scripts/prod-stack.sh ARGS with this stack's settings; rejects with its output on a non-zero exit */
  run(...args: string[]): Promise<ScriptResult>;
  /** `prod-stack.sh status`, whatever its exit code (3: something is not running) */
  status(): Promise<ScriptResult>;
  /** the settings `prod-stack.sh env` prints: what the CLI needs to reach this stack */
  clientEnv(): Record<string, string>;
  /** the secrets the script generated for this stack (secrets.env) */
  secrets(): Record<string, string>;
  /** the pid the script recorded for a service, if it has one */
  pid(service: ServiceName): number | undefined;
  labDir: string;
  /** `down --purge`, tolerating a stack that never came up */
  destroy(): Promise<void>;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Free ports below the kernel's ephemeral range (32768+ on Linux), where the OS hands out no client ports: Temporal
 * keeps membership ports in a SMALLINT column (at most 32767), and an ephemeral port picked now could be a
 * client's by the time the server binds it.
 */
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) {
    const port = 20_000 + randomInt(12_000);
    if (!ports.has(port) && (await canListen(port))) ports.add(port);
  }
  return [...ports];
}

function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** A stack definition (state directory + ports + extra settings); `run('up', '--lab')` starts it. */
export async function prodStack(extraEnv: Record<string, string> = {}): Promise<ProdStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-prod-'));
  // PostgreSQL runs as the `postgres` user when the tests run as root: it must be able to enter the directory.
  chmodSync(dir, 0o755);
  const free = await distinctFreePorts(PORT_VARS.length);
  const ports = Object.fromEntries(PORT_VARS.map((v, i) => [v, free[i]!])) as Record<PortVar, number>;
  // Only what the script needs: no TEMPORAL_* or MESHPILOT_* from the developer's shell leaks into the stack.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    MESHPILOT_PROD_DIR: dir,
    MESHPILOT_CACHE_DIR: process.env.MESHPILOT_CACHE_DIR,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ...extraEnv,
  };
  const script = async (args: string[]): Promise<ScriptResult> => {
    const r = await execa('bash', [PROD_STACK_SCRIPT, ...args], { env, extendEnv: false, all: true, reject: false, timeout: 600_000 });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, all: r.all };
  };
  const stack: ProdStack = {
    dir,
    ports,
    labDir: path.join(dir, 'meshpilot', 'lab'),
    async run(...args) {
      const r = await script(args);
      if (r.exitCode !== 0) throw new Error(`prod-stack.sh ${args.join(' ')} exited ${r.exitCode}:\n${r.all}`);
      return r;
    },
    status: () => script(['status']),
    clientEnv: () => readEnvFile(path.join(dir, 'client.env')),
    secrets: () => readEnvFile(path.join(dir, 'secrets.env')),
    pid(service) {
      const file = path.join(dir, 'run', `${service}.pid`);
      return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
    },
    async destroy() {
      await execa('bash', [PROD_STACK_SCRIPT, 'down', '--purge'], { env, extendEnv: false, reject: false, timeout: 300_000 });
    },
  };
  return stack;
}

/** A process that exists and is not a zombie (a killed process lingers as one until its new parent reaps it). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
