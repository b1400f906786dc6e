// Labelling discipline across regions: a CiliumNetworkPolicy that exists in several clusters must say the same
// thing everywhere, and the blueprint's policies must be what runs. Compared on normalised specs.
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import { listOf } from '../kube/objects.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { canonical, kubectlGet, onCluster, rolloutRemedy, verdict, type Evidence } from './verdicts.ts';

const cnpSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z.unknown().optional(),
  specs: z.unknown().optional(),
});

/** `k8s:app` and `app` select the same endpoints (Cilium's default label source): compare them as equal. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === 'matchLabels' && x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([lk, lv]) => [lk.replace(/^(k8s|any):/, ''), lv])) : normalise(x)]),
    );
  }
  return v;
}
const fingerprint = (o: { spec?: unknown; specs?: unknown }) => JSON.stringify(canonical(normalise({ spec: o.spec, specs: o.specs })));
const short = (fp: string) => createHash('sha256').update(fp).digest('hex').slice(0, 8);

export interface ClusterPolicies {
  name: string;
  /** the blueprint's CiliumNetworkPolicies for this cluster (multi-doc YAML) */
  policies: string;
}

export async function checkPolicyConsistency(deps: ActivityDeps, i: { mesh: string; clusters: ClusterPolicies[]; source?: string }): Promise<Verdict> {
  const check = 'policy-consistency';
  const live = new Map<string, Map<string, string>>(); // ns/name → cluster → fingerprint
  const wanted = new Map<string, Map<string, string>>();
  await Promise.all(
    i.clusters.map(async (c) => {
      const list = await onCluster(deps, { mesh: i.mesh, cluster: c.name }, (access) => kubectlGet(deps, access, ['ciliumnetworkpolicies.cilium.io', '-A'], listOf(cnpSchema)));
      for (const p of list?.items ?? []) {
        const id = `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
        if (!live.has(id)) live.set(id, new Map());
        live.get(id)!.set(c.name, fingerprint(p));
      }
      for (const d of parseAllDocuments(c.policies)) {
        const o = d.toJSON() as { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: unknown; specs?: unknown } | null;
        if (o?.kind !== 'CiliumNetworkPolicy' || !o.metadata?.name) continue;
        const id = `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
        if (!wanted.has(id)) wanted.set(id, new Map());
        wanted.get(id)!.set(c.name, fingerprint(o));
      }
    }),
  );
  const fails: string[] = [];
  const warns: string[] = [];
  const evidence: Evidence = {};
  for (const [id, perCluster] of wanted) {
    for (const [cluster, fp] of perCluster) {
      const got = live.get(id)?.get(cluster);
      if (got === undefined) fails.push(`${id} is missing in ${cluster}`);
      else if (got !== fp) fails.push(`${id} in ${cluster} differs from the blueprint`);
    }
  }
  for (const [id, perCluster] of live) {
    evidence[id] = [...perCluster].map(([c, fp]) => `${c}=${short(fp)}`).join(',');
    if (wanted.has(id)) continue;
    if (new Set(perCluster.values()).size > 1) fails.push(`${id} differs between ${[...perCluster.keys()].join(' and ')}`);
    else if (perCluster.size < i.clusters.length) warns.push(`${id} exists only in ${[...perCluster.keys()].join(', ')}`);
  }
  const remedy = rolloutRemedy(i.mesh, i.source);
  if (fails.length) {
    return verdict(check, undefined, 'fail', `policy drift between regions: ${fails.join('; ')}`,
      'someone edited a policy in one region: compare with `kubectl get cnp -A -o yaml` in each cluster; re-running the rollout re-applies the blueprint\'s policies (apply-manifests step) — change policies in the blueprint, not in one cluster',
      evidence, remedy);
  }
  if (warns.length) {
    return verdict(check, undefined, 'warn', `policies outside the blueprint in some regions only: ${warns.join('; ')}`,
      'a policy meant for every region belongs in the blueprint (policies:), so each region gets the same one', evidence);
  }
  return verdict(check, undefined, 'ok', `${wanted.size} blueprint policy(ies) identical in every region they apply to`, '', evidence);
}
