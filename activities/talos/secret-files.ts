import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SecretStore } from '../../secrets/store.ts';

/** Keys whose values are key material or tokens in secrets.yaml, machine configs, talosconfigs and kubeconfigs. */
const SECRET_KEY = /^(crt|key|ca|token|secret|id|bootstraptoken|secretbox\w*|aescbc\w*|client-key-data|client-certificate-data|certificate-authority-data)$/i;

/** Every secret-looking leaf value of a YAML secret, for runTool's redaction list. */
export function secretValuesOf(text: string): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') {
      if (SECRET_KEY.test(key) && v.length >= 8) out.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  try {
    for (const d of parseAllDocuments(text)) walk(d.toJS(), '');
  } catch {
    // not YAML: the whole value is the secret
  }
  if (!out.size && text.trim().length >= 4) out.add(text.trim());
  return [...out];
}

/** A private scratch directory for files talosctl writes (secrets.yaml, configs), removed afterwards. */
export async function withScratchDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meshpilot-talos-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Materializes a secret for a tool that wants a path, with its redaction list; cleans up after fn. */
export async function withSecretFile<T>(store: SecretStore, ref: string, fn: (file: string, secrets: string[]) => Promise<T>): Promise<T> {
  const value = (await store.get(ref)).toString('utf8');
  const m = await store.materialize(ref);
  try {
    return await fn(m.path, secretValuesOf(value));
  } finally {
    await m.cleanup();
  }
}
