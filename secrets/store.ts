/**
 * Secrets (Talos secrets bundle, talosconfig, kubeconfigs, BMC passwords) live here and only here.
 * Workflows, history, logs, search attributes and chat carry the reference (a name such as
 * `mesh/usa-europe/cluster-usa/talosconfig`), never the value; activities resolve it when they run and hand it to
 * tools through stdin or, where a tool wants a path, a RAM-backed file for the length of the call
 * (activities/exec/secret-scratch.ts).
 */
export interface SecretStore {
  has(ref: string): Promise<boolean>;
  get(ref: string): Promise<Buffer>;
  /** Stores a value; `ifAbsent` keeps an existing one (returns false then) so "generate once, ever" is atomic. */
  put(ref: string, value: Buffer | string, opts?: { ifAbsent?: boolean }): Promise<boolean>;
  delete(ref: string): Promise<void>;
  /** Every stored reference under a prefix (`backup/usa-europe/`), sorted: names only, nothing is decrypted. */
  list(prefix: string): Promise<string[]>;
}

export class SecretNotFoundError extends Error {
  override name = 'SecretNotFoundError';
  constructor(readonly ref: string) {
    super(`secret ${JSON.stringify(ref)} not found in the secret store`);
  }
}

const REF = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;

export function assertSecretRef(ref: string): void {
  if (!REF.test(ref) || ref.length > 240) {
    throw new Error(`invalid secret reference ${JSON.stringify(ref)}: use lower-case path segments like "bmc/usa-cp-1"`);
  }
}
