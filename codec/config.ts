import { z } from 'zod';
import { ConfigError } from '../config/env.ts';
import type { SecretStore } from '../secrets/store.ts';

/** `id1:base64key,id2:base64key`: the first key encrypts, every listed key decrypts (rotation). */
export const CODEC_KEYS_ENV = 'MESHPILOT_CODEC_KEYS';
/** `id1,id2`: the same order rule, key material read from the secret store at `codecKeyRef(id)`. */
export const CODEC_KEY_IDS_ENV = 'MESHPILOT_CODEC_KEY_IDS';

/** Which keys a codec holds. `current` encrypts; `keys` (current included) decrypt. */
export interface CodecKeyring {
  current: string;
  keys: ReadonlyMap<string, Buffer>;
}

// Key ids travel in payload metadata and double as secret-store path segments, so one strict shape fits both.
const keyId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a key id is 1-63 characters of a-z, 0-9, ".", "_" or "-"');

const keyMaterial = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'key material must be standard base64')
  .transform((b64) => Buffer.from(b64, 'base64'))
  .refine((buf) => buf.length === 32, 'key material must decode to exactly 32 bytes (AES-256); make one with `openssl rand -base64 32`');

/** Where a codec key lives in the secret store. */
export function codecKeyRef(id: string): string {
  return `codec/keys/${id}`;
}

function fail(variable: string, message: string): never {
  throw new ConfigError(`invalid meshpilot configuration:\n  ${variable}: ${message}`);
}

function uniqueIds(variable: string, ids: string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) fail(variable, `key id "${id}" is listed twice`);
    seen.add(id);
  }
}

/** Parses `MESHPILOT_CODEC_KEYS`. Errors name the variable and the key id, never the key material. */
export function parseCodecKeys(value: string, variable = CODEC_KEYS_ENV): CodecKeyring {
  const entries = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) fail(variable, 'expected id:base64key[,id:base64key...]');
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon < 0) fail(variable, `entry ${index + 1} has no ":" (expected id:base64key)`);
    const id = keyId.safeParse(entry.slice(0, colon));
    if (!id.success) fail(variable, `entry ${index + 1}: ${id.error.issues[0]?.message}`);
    const key = keyMaterial.safeParse(entry.slice(colon + 1));
    if (!key.success) fail(variable, `key "${id.data}": ${key.error.issues[0]?.message}`);
    if (keys.has(id.data)) fail(variable, `key id "${id.data}" is listed twice`);
    keys.set(id.data, key.data);
  });
  return { current: [...keys.keys()][0]!, keys };
}

function parseKeyIds(value: string, variable = CODEC_KEY_IDS_ENV): string[] {
  const ids = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) fail(variable, 'expected id[,id...]');
  for (const id of ids) {
    const parsed = keyId.safeParse(id);
    if (!parsed.success) fail(variable, `"${id}": ${parsed.error.issues[0]?.message}`);
  }
  uniqueIds(variable, ids);
  return ids;
}

/** A stored key is either the 32 raw bytes or their base64 text (what `openssl rand -base64 32` prints). */
function storedKey(id: string, value: Buffer): Buffer {
  if (value.length === 32) return value;
  const parsed = keyMaterial.safeParse(value.toString('utf8').trim());
  if (!parsed.success) fail(CODEC_KEY_IDS_ENV, `secret ${codecKeyRef(id)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * The keyring from the environment, or undefined when payload encryption is off (neither variable set).
 * Keys by id come from the secret store, so a worker can keep them out of its environment entirely.
 */
export async function loadCodecKeyring(env: NodeJS.ProcessEnv, secrets?: SecretStore): Promise<CodecKeyring | undefined> {
  const inline = env[CODEC_KEYS_ENV]?.trim();
  const byId = env[CODEC_KEY_IDS_ENV]?.trim();
  if (inline && byId) fail(CODEC_KEYS_ENV, `set either ${CODEC_KEYS_ENV} or ${CODEC_KEY_IDS_ENV}, not both`);
  if (inline) return parseCodecKeys(inline);
  if (!byId) return undefined;
  const ids = parseKeyIds(byId);
  if (!secrets) fail(CODEC_KEY_IDS_ENV, 'keys by id need the secret store (set MESHPILOT_SECRET_KEY)');
  const keys = new Map<string, Buffer>();
  for (const id of ids) {
    const ref = codecKeyRef(id);
    if (!(await secrets.has(ref))) fail(CODEC_KEY_IDS_ENV, `key "${id}" is not in the secret store (expected at ${ref})`);
    keys.set(id, storedKey(id, await secrets.get(ref)));
  }
  return { current: ids[0]!, keys };
}
