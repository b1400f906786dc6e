import { readLabState, withLabState, type LabCluster, type LabState } from '../state.ts';
import { flakyCall } from './faults.ts';
import { apiServerUp, KubeconfigError, resolveTarget, type KubeTarget } from './kubeconfig.ts';
import { reconcileCluster } from './reconcile.ts';
import { KUBE_TIMING } from './timing.ts';

/**
 * One call's access to one cluster, under the state lock: the flaky-network fault, kubeconfig resolution, the
 * apiserver's reachability, then the controllers' reconcile. Failures come back typed so each tool prints
 * them in its own words.
 */
export type Refusal =
  | { kind: 'flaky'; target?: KubeTarget }
  | { kind: 'refused'; target: KubeTarget }
  | { kind: 'kubeconfig'; message: string; noContext: boolean; emptyConfig?: boolean };

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export interface ClusterOpts {
  tool: string;
  kubeconfig?: string;
  context?: string;
  env: NodeJS.ProcessEnv;
  /** count this call for the flaky-tools fault (polls inside one call count once) */
  countFlaky?: boolean;
}

export async function onCluster<T>(
  labDir: string,
  opts: ClusterOpts,
  fn: (state: LabState, c: LabCluster, now: number, target: KubeTarget) => T | Promise<T>,
): Promise<Outcome<T>> {
  return withLabState(labDir, async (state) => {
    const now = Date.now();
    let target: KubeTarget;
    try {
      target = resolveTarget(state, opts.env, opts.kubeconfig, opts.context);
    } catch (err) {
      if (err instanceof KubeconfigError) return { ok: false, refusal: { kind: 'kubeconfig', message: err.message, noContext: err.kind === 'no-context' || err.kind === 'no-context-empty', emptyConfig: err.kind === 'no-context-empty' } };
      throw err;
    }
    if (opts.countFlaky !== false && flakyCall(state, opts.tool)) return { ok: false, refusal: { kind: 'flaky', target } };
    if (!apiServerUp(target.cluster, now)) return { ok: false, refusal: { kind: 'refused', target } };
    const c = target.cluster;
    reconcileCluster(state, c, now);
    return { ok: true, value: await fn(state, c, now, target) };
  });
}

/** Read-only peek (no lock, no reconcile) for pure lookups such as a second context's cluster. */
export function peekState(labDir: string): LabState {
  return readLabState(labDir);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The poll loop of `helm --wait`, `kubectl wait`, `cilium ... --wait`: re-check every KUBE_TIMING.pollMs. */
export async function pollUntil<T>(deadline: number, check: (first: boolean) => Promise<T | undefined>): Promise<T | undefined> {
  let first = true;
  for (;;) {
    const v = await check(first);
    first = false;
    if (v !== undefined) return v;
    if (Date.now() >= deadline) return undefined;
    await sleep(Math.min(KUBE_TIMING.pollMs, Math.max(1, deadline - Date.now())));
  }
}
