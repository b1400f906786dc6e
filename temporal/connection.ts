import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { loadEnv, temporalSettings, type TemporalConnectionSettings } from '../config/env.ts';

function tlsOptions(s: TemporalConnectionSettings) {
  if (!s.tls) return undefined;
  return {
    serverNameOverride: s.tls.serverName,
    serverRootCACertificate: s.tls.caPath ? readFileSync(s.tls.caPath) : undefined,
    clientCertPair:
      s.tls.clientCertPath && s.tls.clientKeyPath
        ? { crt: readFileSync(s.tls.clientCertPath), key: readFileSync(s.tls.clientKeyPath) }
        : undefined,
  };
}

export function clientConnectionOptions(s: TemporalConnectionSettings): ConnectionOptions {
  return { address: s.address, tls: tlsOptions(s), apiKey: s.apiKey, connectTimeout: '10s' };
}

export function workerConnectionOptions(s: TemporalConnectionSettings): NativeConnectionOptions {
  return { address: s.address, tls: tlsOptions(s), apiKey: s.apiKey };
}

/** The only way the CLI and chat app reach Temporal. */
export async function connectClient(
  settings: TemporalConnectionSettings = temporalSettings(loadEnv()),
  dataConverter?: DataConverter,
): Promise<Client> {
  try {
    const connection = await Connection.connect(clientConnectionOptions(settings));
    return new Client({ connection, namespace: settings.namespace, dataConverter });
  } catch (err) {
    throw new Error(`cannot reach Temporal at TEMPORAL_ADDRESS=${settings.address}: ${(err as Error).message}`);
  }
}

export async function connectWorker(settings: TemporalConnectionSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(workerConnectionOptions(settings));
  } catch (err) {
    throw new Error(`cannot reach Temporal at TEMPORAL_ADDRESS=${settings.address}: ${(err as Error).message}`);
  }
}
