// Building verdicts, and the kubectl reads every check shares (one call, JSON validated at the boundary).
import type { z } from 'zod';
import { secretRefs, type ActivityDeps } from '../deps.ts';
import { withKubeconfig, type KubeAccess } from '../kube/kubeconfig.ts';
import { callTool, classify, parseJson } from '../kube/tool-call.ts';
import type { CheckName, Remediation, Verdict, VerdictStatus } from '../../contracts/verify/report.ts';

/** Every per-cluster check names its cluster by the blueprint; the kubeconfig reference is derived, never passed. */
export interface ClusterCheckInput {
  mesh: string;
  cluster: string;
  /** the blueprint file, when known: makes remediation commands copy-pasteable */
  source?: string;
}

export type Evidence = Verdict['evidence'];

export function verdict(
  check: CheckName,
  cluster: string | undefined,
  status: VerdictStatus,
  summary: string,
  hint: string,
  evidence: Evidence = {},
  remediation?: Remediation,
): Verdict {
  return { check, ...(cluster ? { cluster } : {}), status, summary, evidence, hint, ...(remediation ? { remediation } : {}) };
}

/** Re-running the rollout of the same blueprint converges what drifted: every step reads the state first. */
export function rolloutRemedy(mesh: string, source?: string): Remediation {
  return { kind: 'rollout', command: `meshpilot rollout ${source ?? `<blueprint of ${mesh}>`}` };
}

export function onCluster<T>(deps: ActivityDeps, i: { mesh: string; cluster: string }, fn: (access: KubeAccess) => Promise<T>): Promise<T> {
  return withKubeconfig(deps, secretRefs.kubeconfig(i.mesh, i.cluster), fn);
}

/**
 * `kubectl get ARGS -o json`, validated. NotFound and resource types the cluster does not serve (a CRD not
 * installed) come back as undefined; anything else is classified (transient → retried, else fatal).
 */
export async function kubectlGet<S extends z.ZodTypeAny>(deps: ActivityDeps, access: KubeAccess, args: string[], schema: S): Promise<z.infer<S> | undefined> {
  const r = await callTool(deps, 'kubectl', ['get', ...args, '-o', 'json'], { env: access.env, retries: 2 });
  if (r.exitCode !== 0) {
    if (/\(NotFound\)|doesn't have a resource type/.test(r.stderr)) return undefined;
    throw classify(r, `kubectl get ${args.join(' ')}`);
  }
  const parsed = schema.safeParse(parseJson(r));
  if (!parsed.success) throw classify({ ...r, stderr: `unexpected shape: ${parsed.error.issues[0]?.message}` }, `kubectl get ${args.join(' ')}`);
  return parsed.data;
}

/** Canonical JSON (sorted keys) so two specs written in different key order compare equal. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined && x !== null)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}
