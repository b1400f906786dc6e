import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { runTool } from '../tools/main.ts';
import { encodeFrame, FrameReader } from './frames.ts';

/** Where the shims find the server; unset (or a dead socket) → each call runs as its own node process. */
export const LAB_SOCKET_ENV = 'MESHPILOT_LAB_SOCKET';

const callSchema = z.object({
  tool: z.string().min(1),
  argv: z.array(z.string()),
  env: z.array(z.string()),
  cwd: z.string().min(1),
  pid: z.number().int().positive(),
});

export interface LabToolServer {
  socketPath: string;
  /** calls answered so far */
  served(): number;
  close(): Promise<void>;
}

/**
 * The socket lives in its own temp directory, not in the lab directory: `meshpilot rollout --lab` re-creates the
 * lab (rm -rf) under a running worker, and Unix socket paths are limited to ~107 bytes. mkdtemp makes the
 * directory 0700, so only the worker's own user can reach the socket (calls write files where the caller says).
 */
function socketPathFor(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'meshpilot-lab-')), 'tools.sock');
}

function envObject(pairs: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq > 0) env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

/**
 * Serves the simulated tools from one long-lived process (the lab worker's). A tool call is then a tiny shim
 * process (lab/shim/labcall.go) instead of a node process that loads the simulator and parses the fleet each
 * time: same code (runTool), same output, exit codes and call log, a fraction of the CPU per call. The lab a
 * call acts on comes from the caller's MESHPILOT_LAB_DIR, as for a tool process.
 */
export async function startLabToolServer(): Promise<LabToolServer> {
  const socketPath = socketPathFor();
  const sockets = new Set<net.Socket>();
  let served = 0;
  const server = net.createServer((socket) => {
    served += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serve(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    served: () => served,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(path.dirname(socketPath), { recursive: true, force: true });
    },
  };
}

function serve(socket: net.Socket): void {
  const reader = new FrameReader();
  let stdinWaiter: ((text: string) => void) | undefined;
  let started = false;
  const send = (type: 'o' | 'e' | 'i' | 'x', body: string = '') => {
    if (!socket.destroyed) socket.write(encodeFrame(type, body));
  };
  // A caller killed (its activity cancelled, its worker stopping) ends the call as the death of a tool process
  // would: a call still in its latency never takes effect, one waiting for stdin reads an empty stdin. So a
  // stopping worker is not held up by simulated calls nobody waits for.
  const gone = new AbortController();
  socket.on('close', () => {
    gone.abort();
    stdinWaiter?.('');
  });
  socket.on('data', (chunk) => {
    for (const frame of reader.push(chunk)) {
      if (frame.type === 'q' && !started) {
        started = true;
        let json: unknown;
        try {
          json = JSON.parse(frame.body.toString('utf8'));
        } catch {
          json = undefined;
        }
        const parsed = callSchema.safeParse(json);
        if (!parsed.success) {
          send('e', `meshpilot lab: a malformed call reached the lab tool server: ${parsed.error.issues[0]?.path.join('.') || 'call'}: ${parsed.error.issues[0]?.message}\n`);
          send('x', '70');
          socket.end();
          return;
        }
        const call = parsed.data;
        void runTool({
          tool: call.tool,
          argv: call.argv,
          env: envObject(call.env),
          cwd: call.cwd,
          pid: call.pid,
          stdin: () =>
            new Promise<string>((resolve) => {
              stdinWaiter = resolve;
              send('i');
            }),
          out: (t) => send('o', t),
          err: (t) => send('e', t),
          signal: gone.signal,
        }).then(
          (code) => {
            send('x', String(code));
            socket.end();
          },
          (err: unknown) => {
            send('e', `lab ${call.tool} crashed: ${(err as Error).stack ?? err}\n`);
            send('x', '70');
            socket.end();
          },
        );
      } else if (frame.type === 's' && stdinWaiter) {
        const w = stdinWaiter;
        stdinWaiter = undefined;
        w(frame.body.toString('utf8'));
      }
    }
  });
}
