import { parseAllDocuments } from 'yaml';
import type { SecretStore } from '../../secrets/store.ts';
import { withSecretDir, withSecretFile as withScratchFile } from '../exec/secret-scratch.ts';

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

/**
 * A private scratch directory for the files talosctl reads and writes (secrets.yaml, machine configs, the
 * talosconfig): RAM-backed, removed when fn settles, swept at worker start after a crash (exec/secret-scratch.ts).
 */
export const withScratchDir = withSecretDir;

/** Materializes a stored secret for a tool that wants a path, with its redaction list, for the length of fn. */
export async function withSecretFile<T>(store: SecretStore, ref: string, fn: (file: string, secrets: string[]) => Promise<T>): Promise<T> {
  const value = await store.get(ref);
  return withScratchFile(ref, value, (file) => fn(file, secretValuesOf(value.toString('utf8'))));
}
