import { appendCall } from '../call-log.ts';
import { labDirFromEnv, readLabState } from '../state.ts';
import type { SimulatedTool, ToolIO } from './io.ts';

const TOOLS: Record<string, () => Promise<SimulatedTool>> = {
  talosctl: async () => (await import('./talosctl.ts')).talosctl,
  helm: async () => (await import('./helm.ts')).helm,
  cilium: async () => (await import('./cilium.ts')).cilium,
  kubectl: async () => (await import('./kubectl.ts')).kubectl,
};

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Entry point of every lab shim: `lab/bin/<tool>` → `main(<tool>, argv)`. */
export async function main(tool: string, argv: string[]): Promise<number> {
  const startedAt = Date.now();
  const load = TOOLS[tool];
  if (!load) {
    process.stderr.write(`meshpilot lab: no simulated tool named ${tool}\n`);
    return 127;
  }
  const labDir = labDirFromEnv();
  const latency = readLabState(labDir).toolLatencyMs;
  if (latency > 0) await new Promise((r) => setTimeout(r, latency));
  const io: ToolIO = {
    argv,
    env: process.env,
    labDir,
    stdin: readStdin,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  };
  let code: number;
  try {
    code = await (await load())(io);
  } catch (err) {
    process.stderr.write(`lab ${tool} crashed: ${(err as Error).stack ?? err}\n`);
    code = 70;
  }
  appendCall(labDir, { tool, argv, startedAt, durationMs: Date.now() - startedAt, exitCode: code, pid: process.pid });
  return code;
}
