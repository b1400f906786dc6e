import path from 'node:path';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { CODEC_KEY_IDS_ENV, CODEC_KEYS_ENV, loadCodecKeyring } from '../../codec/config.ts';
import { DEFAULT_CODEC_PORT, startCodecServer } from '../../codec/server.ts';
import { loadEnv } from '../../config/env.ts';
import { EncryptedFileSecretStore, keyFromString } from '../../secrets/encrypted-file-store.ts';
import type { SecretStore } from '../../secrets/store.ts';
import { CliError, type CliIO } from '../io.ts';

const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

const flagsSchema = z.object({
  port: z.coerce.number().int().min(0, '--port: expected 0-65535').max(65535, '--port: expected 0-65535'),
  host: z.string().min(1, '--host: expected an address to bind, e.g. 127.0.0.1'),
  uiOrigin: z
    .array(
      z
        .string()
        .url('--ui-origin: expected an origin such as http://localhost:8233')
        .refine((u) => new URL(u).origin === u.replace(/\/$/, ''), '--ui-origin: expected scheme://host[:port] with no path'),
    )
    .optional(),
  authTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, '--auth-token-env: expected an environment variable NAME').optional(),
});

/** Resolves when the operator presses Ctrl-C or the container is stopped. */
function untilProcessSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function secretStore(env: NodeJS.ProcessEnv): SecretStore | undefined {
  if (!env.MESHPILOT_SECRET_KEY) return undefined;
  const settings = loadEnv(env);
  return new EncryptedFileSecretStore(path.join(settings.MESHPILOT_DATA_DIR, 'secrets'), keyFromString(env.MESHPILOT_SECRET_KEY));
}

export function register(program: Command, io: CliIO, stopSignal: () => Promise<void> = untilProcessSignal): void {
  program
    .command('codec-server')
    .description('serve /encode and /decode so the Web UI and `temporal --codec-endpoint` show decrypted payloads')
    .addOption(new Option('--port <port>', 'port to listen on (0 = any free port)').default(String(DEFAULT_CODEC_PORT)))
    .addOption(new Option('--host <address>', 'address to bind; anything but loopback exposes decryption').default('127.0.0.1'))
    .option('--ui-origin <origin...>', `Web UI origin(s) allowed by CORS (default ${DEFAULT_UI_ORIGINS.join(', ')})`)
    .option('--auth-token-env <NAME>', 'require `Authorization: Bearer <token>`, the token read from env var NAME')
    .action(async (raw: unknown) => {
      const parsed = flagsSchema.safeParse(raw);
      if (!parsed.success) throw new CliError(parsed.error.issues[0]!.message, 2);
      const flags = parsed.data;
      let authToken: string | undefined;
      if (flags.authTokenEnv) {
        authToken = io.env[flags.authTokenEnv];
        if (!authToken || authToken.length < 16) {
          throw new CliError(`--auth-token-env: ${flags.authTokenEnv} must hold a token of at least 16 characters`, 2, `export ${flags.authTokenEnv}=$(openssl rand -hex 24)`);
        }
      }
      const keys = await loadCodecKeyring(io.env, secretStore(io.env));
      if (!keys) {
        throw new CliError(
          `payload encryption is off: neither ${CODEC_KEYS_ENV} nor ${CODEC_KEY_IDS_ENV} is set`,
          2,
          `export ${CODEC_KEYS_ENV}=k1:$(openssl rand -base64 32)  # the same keys the worker uses`,
        );
      }
      const origins = (flags.uiOrigin ?? DEFAULT_UI_ORIGINS).map((o) => o.replace(/\/$/, ''));
      const server = await startCodecServer({
        keys,
        port: flags.port,
        host: flags.host,
        uiOrigins: origins,
        authToken,
        log: io.env.MESHPILOT_LOG_LEVEL === 'debug' ? (line) => io.err(`${line}\n`) : undefined,
      });
      io.out(
        `codec server ${server.url} (keys: ${[...keys.keys.keys()].join(', ')}; encrypting with ${keys.current}; ` +
          `UI origins: ${origins.join(', ')}; auth: ${authToken ? `bearer token from ${flags.authTokenEnv}` : 'none'})\n`,
      );
      await stopSignal();
      await server.close();
      io.out('codec server stopped\n');
    });
}
