import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { fatal } from '../../contracts/failures.ts';
import type { ActivityDeps } from '../deps.ts';

/**
 * Kubeconfigs live in the secret store; a tool gets one as a 0600 temp file through KUBECONFIG for the
 * duration of the call, never as an argument value or in history.
 */
export interface KubeAccess {
  /** env for runTool: KUBECONFIG=<temp file>[:<temp file>] */
  env: NodeJS.ProcessEnv;
  /** the current-context of each materialised kubeconfig, in order */
  contexts: string[];
}

async function currentContext(file: string, ref: string): Promise<string> {
  const doc = parse(await readFile(file, 'utf8')) as { 'current-context'?: string } | null;
  const ctx = doc?.['current-context'];
  if (!ctx) throw fatal(`kubeconfig ${ref} has no current-context`, 'regenerate it with `talosctl kubeconfig --force`');
  return ctx;
}

export async function withKubeconfigs<T>(deps: ActivityDeps, refs: string[], fn: (access: KubeAccess) => Promise<T>): Promise<T> {
  const files: { path: string; cleanup: () => Promise<void> }[] = [];
  try {
    for (const ref of refs) {
      if (!(await deps.secrets.has(ref))) {
        throw fatal(`kubeconfig ${ref} is not in the secret store`, 'the cluster must be bootstrapped first (talosctl kubeconfig stores it)');
      }
      files.push(await deps.secrets.materialize(ref));
    }
    const contexts: string[] = [];
    for (const [i, f] of files.entries()) contexts.push(await currentContext(f.path, refs[i]!));
    return await fn({ env: { KUBECONFIG: files.map((f) => f.path).join(':') }, contexts });
  } finally {
    await Promise.all(files.map((f) => f.cleanup()));
  }
}

export const withKubeconfig = <T>(deps: ActivityDeps, ref: string, fn: (access: KubeAccess) => Promise<T>) => withKubeconfigs(deps, [ref], fn);
