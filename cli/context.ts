import path from 'node:path';
import type { Client } from '@temporalio/client';
import { dataConverterFromEnv } from '../codec/data-converter.ts';
import { loadEnv, temporalSettings, type MeshpilotEnv } from '../config/env.ts';
import { connectClient } from '../temporal/connection.ts';
import type { CliIO } from './io.ts';

export interface CliContext {
  env: MeshpilotEnv;
  client: Client;
  uiUrl?: string;
  labDir: string;
  close(): Promise<void>;
}

/** The lab a `meshpilot dev --lab` worker serves: one per data dir. */
export function labDirFor(env: MeshpilotEnv): string {
  return path.join(env.MESHPILOT_DATA_DIR, 'lab');
}

export async function cliContext(io: CliIO): Promise<CliContext> {
  const env = loadEnv(io.env);
  const client = await connectClient(temporalSettings(env), await dataConverterFromEnv(io.env));
  const uiUrl = env.MESHPILOT_UI_URL ?? (env.TEMPORAL_ADDRESS.match(/^(localhost|127\.0\.0\.1):/) ? `http://localhost:${env.MESHPILOT_UI_PORT}` : undefined);
  return { env, client, uiUrl, labDir: labDirFor(env), close: () => client.connection.close() };
}
