import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { RolloutPlan } from '../../blueprint/plan.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { parseCodecKeys } from '../../codec/config.ts';
import { dataConverter } from '../../codec/data-converter.ts';
import { startCodecServer, type RunningCodecServer } from '../../codec/server.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import type { ScenarioName } from '../../lab/scenarios.ts';
import { resolveTemporalBinary } from '../../temporal/cli-binary.ts';
import { startDevServer, type RunningDevServer } from '../../temporal/dev-server.ts';
import { buildActivityDeps } from '../../workers/deps.ts';
import { createMeshpilotWorker } from '../../workers/worker.ts';
import { SEED_BLUEPRINT } from '../helpers/lab-worker.ts';

/** What the browser test drives: the real dev server + UI, a codec server, and an encrypting worker on a lab. */
export interface UiStack {
  uiUrl: string;
  codecUrl: string;
  namespace: string;
  taskQueue: string;
  labDir: string;
  plan: RolloutPlan;
  /** a client with the same codec as the worker (reads decrypted results) */
  client: Client;
  /** a client without the codec: sees only what the server stores */
  plainClient: Client;
  /** HTTP requests the codec server answered, e.g. `POST /decode 200` */
  codecRequests: string[];
  stop(): Promise<void>;
}

/** A port nothing listens on right now (the dev server needs numbers up front; 7233/8233 belong to `meshpilot dev`). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startUiStack(opts: { scenario: ScenarioName; log?: (line: string) => void }): Promise<UiStack> {
  const log = opts.log ?? (() => {});
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch((err) => log(`cleanup: ${(err as Error).message}`));
  };
  try {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-ui-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const namespace = 'default';
    const keys = parseCodecKeys(`ui1:${randomBytes(32).toString('base64')}`);

    const [port, uiPort] = [await freePort(), await freePort()];
    const uiOrigins = [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`];
    const codecRequests: string[] = [];
    const codec: RunningCodecServer = await startCodecServer({ keys, port: 0, uiOrigins, log: (l) => codecRequests.push(l) });
    cleanups.push(() => codec.close());

    const bin = await resolveTemporalBinary({ install: true, allowDownload: false, log });
    const server: RunningDevServer = await startDevServer({
      cliPath: bin.path!,
      port,
      uiPort,
      dataDir: path.join(dataDir, 'temporal'),
      namespace,
      codecEndpoint: codec.url,
      log,
    });
    cleanups.push(() => server.stop());

    const labDir = path.join(dataDir, 'lab');
    const plan = await planFromFile(SEED_BLUEPRINT);
    createLab(labDir, fleetFromPlan(plan), { scenario: opts.scenario, toolLatencyMs: 0 });
    const { deps, close } = await buildActivityDeps({ dataDir, secretKey: randomBytes(32).toString('hex'), labDir, pollBudgetMs: 3_000 });
    cleanups.push(close);

    const converter = dataConverter(keys);
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nativeConnection.close());
    const taskQueue = `ui-${randomUUID()}`;
    const worker: Worker = await createMeshpilotWorker({ connection: nativeConnection, namespace, taskQueue, deps, dataConverter: converter });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace, dataConverter: converter });

    const plainClient = new Client({ connection, namespace });
    return { uiUrl: uiOrigins[0]!, codecUrl: codec.url, namespace, taskQueue, labDir, plan, client, plainClient, codecRequests, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
