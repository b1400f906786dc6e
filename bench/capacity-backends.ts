// The two Temporal servers a capacity run compares: the production stack (scripts/prod-stack.sh: the server built
// from go.temporal.io/server on PostgreSQL, without its meshpilot workers — the bench brings its own) and the
// `temporal` CLI dev server (SQLite) that `meshpilot dev` runs.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveTemporalBinary } from '../temporal/cli-binary.ts';
import { startDevServer } from '../temporal/dev-server.ts';
import { freePort } from '../test/helpers/sushy.ts';
import { prodStack } from '../test/prod/stack.ts';

export type BackendName = 'prod' | 'dev';

export interface CapacityBackend {
  name: BackendName;
  /** what the table calls it */
  label: string;
  address: string;
  /** the server's processes: their descendants (PostgreSQL backends) are counted with them */
  serverPids(): number[];
  stop(): Promise<void>;
}

export async function startBackend(name: BackendName, log: (m: string) => void): Promise<CapacityBackend> {
  if (name === 'prod') {
    const stack = await prodStack();
    log(`production stack in ${stack.dir}…`);
    try {
      await stack.run('up', '--no-workers');
    } catch (err) {
      await stack.destroy();
      throw err;
    }
    return {
      name,
      label: 'server 1.32 + PostgreSQL 15',
      address: `127.0.0.1:${stack.ports.FRONTEND_GRPC_PORT}`,
      serverPids: () => [stack.pid('temporal'), stack.pid('postgresql')].filter((p): p is number => p !== undefined),
      stop: () => stack.destroy(),
    };
  }
  const bin = await resolveTemporalBinary({ install: true, allowDownload: false });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-capacity-dev-'));
  const server = await startDevServer({ cliPath: bin.path!, port: await freePort(), uiPort: await freePort(), dataDir, namespace: 'default', headless: true });
  return {
    name,
    label: 'dev server (SQLite)',
    address: server.address,
    serverPids: () => (server.process.pid ? [server.process.pid] : []),
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
