import { appendCall } from '../call-log.ts';
import { labCrashPoints, labDirFromEnv, labToolLatencyMs, withLabState } from '../state.ts';
import { inCallCwd } from './call-context.ts';
import type { SimulatedTool, ToolIO } from './io.ts';

const TOOLS: Record<string, () => Promise<SimulatedTool>> = {
  talosctl: async () => (await import('./talosctl.ts')).talosctl,
  helm: async () => (await import('./helm.ts')).helm,
  cilium: async () => (await import('./cilium.ts')).cilium,
  kubectl: async () => (await import('./kubectl.ts')).kubectl,
};

/** One simulated call as its caller made it: argv, environment, working directory and streams. */
export interface ToolCall {
  tool: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** the caller's process id, for the call log */
  pid: number;
  stdin: () => Promise<string>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** the caller is gone (the lab tool server lost its shim): a call still in its latency never takes effect */
  signal?: AbortSignal;
}

/**
 * The lab's crash fault (`faults.crashWorker`, see docs/crash.md): SIGKILL the worker that makes the nth call
 * matching `tool` and every token in `args`, either as the call starts (`before`: the call never takes effect and
 * the worker's other running tools are orphaned at that instant) or right after the call took effect and was
 * logged (`after`: the worker never sees the answer). Each point fires once; `firedAt` records when.
 */
export interface CrashPoint {
  tool: string;
  args: string[];
  nth: number;
  when: 'before' | 'after';
  firedAt?: number;
}

const matches = (p: CrashPoint, call: ToolCall) => p.tool === call.tool && p.args.every((a) => call.argv.includes(a));

async function crashPointHit(labDir: string, call: ToolCall, when: CrashPoint['when']): Promise<boolean> {
  const armed = labCrashPoints(labDir) as CrashPoint[];
  if (!armed.some((p) => p.when === when && p.firedAt === undefined && matches(p, call))) return false;
  return withLabState(labDir, (s) => {
    let hit = false;
    for (const [i, p] of ((s.faults.crashWorker ?? []) as CrashPoint[]).entries()) {
      if (p.when !== when || p.firedAt !== undefined || !matches(p, call)) continue;
      const key = `crashWorker:${i}`;
      s.counters[key] = (s.counters[key] ?? 0) + 1;
      if (s.counters[key] === p.nth) {
        p.firedAt = Date.now();
        hit = true;
      }
    }
    return hit;
  });
}

/**
 * The worker that made the call: a tool process's parent, or — when the lab tool server answers inside the
 * worker — this very process.
 */
function killCallingWorker(call: ToolCall): void {
  process.kill(call.pid === process.pid ? process.ppid : process.pid, 'SIGKILL');
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}

/**
 * Runs one simulated call and logs it; returns the exit code the real tool would. Shared by the tool process
 * (`lab/bin/<tool>` → entry.mjs → main) and the lab tool server (lab/server), so both answer identically.
 */
export async function runTool(call: ToolCall): Promise<number> {
  const startedAt = Date.now();
  const load = TOOLS[call.tool];
  if (!load) {
    call.err(`meshpilot lab: no simulated tool named ${call.tool}\n`);
    return 127;
  }
  const labDir = labDirFromEnv(call.env);
  if (await crashPointHit(labDir, call, 'before')) {
    killCallingWorker(call);
    // the kernel ends this process with the worker (parent-death signal); the call must not take effect meanwhile
    await sleep(30_000, call.signal);
    return 137;
  }
  const latency = labToolLatencyMs(labDir);
  // 143: what a real tool killed with SIGTERM reports; nobody is listening for it any more
  if (latency > 0 && !(await sleep(latency, call.signal))) return 143;
  if (call.signal?.aborted) return 143;
  const io: ToolIO = { argv: call.argv, env: call.env, labDir, stdin: call.stdin, out: call.out, err: call.err };
  let code: number;
  try {
    code = await inCallCwd(call.cwd, async () => (await load())(io));
  } catch (err) {
    call.err(`lab ${call.tool} crashed: ${(err as Error).stack ?? err}\n`);
    code = 70;
  }
  appendCall(labDir, { tool: call.tool, argv: call.argv, startedAt, durationMs: Date.now() - startedAt, exitCode: code, pid: call.pid });
  if (await crashPointHit(labDir, call, 'after')) killCallingWorker(call);
  return code;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Entry point of a lab tool process: `lab/bin/<tool>` → `main(<tool>, argv)`. */
export async function main(tool: string, argv: string[]): Promise<number> {
  return runTool({
    tool,
    argv,
    env: process.env,
    cwd: process.cwd(),
    pid: process.pid,
    stdin: readStdin,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
}
