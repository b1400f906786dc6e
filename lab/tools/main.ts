import { appendCall } from '../call-log.ts';
import { labDirFromEnv, labToolLatencyMs } from '../state.ts';
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
  const latency = labToolLatencyMs(labDir);
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  const io: ToolIO = { argv: call.argv, env: call.env, labDir, stdin: call.stdin, out: call.out, err: call.err };
  let code: number;
  try {
    code = await inCallCwd(call.cwd, async () => (await load())(io));
  } catch (err) {
    call.err(`lab ${call.tool} crashed: ${(err as Error).stack ?? err}\n`);
    code = 70;
  }
  appendCall(labDir, { tool: call.tool, argv: call.argv, startedAt, durationMs: Date.now() - startedAt, exitCode: code, pid: call.pid });
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
