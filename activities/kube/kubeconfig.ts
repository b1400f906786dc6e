import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { fatal } from '../../contracts/failures.ts';
import type { ActivityDeps } from '../deps.ts';
import { withSecretDir } from '../exec/secret-scratch.ts';

/**
 * Kubeconfigs live in the secret store; a tool gets one as a 0600 file in the worker's RAM-backed secret scratch
 * (exec/secret-scratch.ts) through KUBECONFIG for the duration of the call, never as an argument value or in history.
 */
export interface KubeAccess {
  /** env for runTool: KUBECONFIG=<temp file>[:<temp file>] */
  env: NodeJS.ProcessEnv;
  /** the current-context of each materialised kubeconfig, in order */
  contexts: string[];
  /** a context other than the current one, passed to kubectl as --context (`meshpilot diagnose lb --context`) */
  context?: string;
}

async function currentContext(file: string, ref: string): Promise<string> {
  const doc = parse(await readFile(file, 'utf8')) as { 'current-context'?: string } | null;
  const ctx = doc?.['current-context'];
  if (!ctx) throw fatal(`kubeconfig ${ref} has no current-context`, 'regenerate it with `talosctl kubeconfig --force`');
  return ctx;
}

export async function withKubeconfigs<T>(deps: ActivityDeps, refs: string[], fn: (access: KubeAccess) => Promise<T>): Promise<T> {
  for (const ref of refs) {
    if (!(await deps.secrets.has(ref))) {
      throw fatal(`kubeconfig ${ref} is not in the secret store`, 'the cluster must be bootstrapped first (talosctl kubeconfig stores it)');
    }
  }
  return withSecretDir(async (dir) => {
    const files: string[] = [];
    for (const [i, ref] of refs.entries()) {
      const file = path.join(dir, `kubeconfig-${i}`);
      await writeFile(file, await deps.secrets.get(ref), { mode: 0o600 });
      files.push(file);
    }
    const contexts: string[] = [];
    for (const [i, f] of files.entries()) contexts.push(await currentContext(f, refs[i]!));
    return fn({ env: { KUBECONFIG: files.join(':') }, contexts });
  });
}

export const withKubeconfig = <T>(deps: ActivityDeps, ref: string, fn: (access: KubeAccess) => Promise<T>) => withKubeconfigs(deps, [ref], fn);
