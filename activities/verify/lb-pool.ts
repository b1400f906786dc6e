// LB-IPAM pools: still the blueprint's, still enabled, and not used up (the next LoadBalancer, or a
// re-created clustermesh-apiserver, would stay <pending>).
import { Address4 } from 'ip-address';
import { parseAllDocuments } from 'yaml';
import type { ActivityDeps } from '../deps.ts';
import { conditionOf, ingressIps, listOf, poolSchema, serviceSchema, type Pool } from '../kube/objects.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { canonical, kubectlGet, onCluster, rolloutRemedy, verdict, type ClusterCheckInput, type Evidence } from './verdicts.ts';

type Block = { cidr?: string; start?: string; stop?: string };

function inBlock(ip: string, b: Block): boolean {
  try {
    const a = new Address4(ip);
    if (b.cidr) return a.isInSubnet(new Address4(b.cidr));
    if (!b.start) return false;
    const n = a.bigInt();
    return n >= new Address4(b.start).bigInt() && n <= new Address4(b.stop ?? b.start).bigInt();
  } catch {
    return false;
  }
}

function blueprintPools(manifests: string): Pool[] {
  return parseAllDocuments(manifests)
    .map((d) => d.toJSON() as { kind?: string } | null)
    .filter((o) => o?.kind === 'CiliumLoadBalancerIPPool')
    .map((o) => poolSchema.parse(o));
}

export async function checkLbPool(deps: ActivityDeps, i: ClusterCheckInput & { manifests: string }): Promise<Verdict> {
  const check = 'lb-pool';
  const remedy = rolloutRemedy(i.mesh, i.source);
  const want = blueprintPools(i.manifests);
  return onCluster(deps, i, async (access) => {
    const [pools, services] = await Promise.all([
      kubectlGet(deps, access, ['ciliumloadbalancerippools.cilium.io'], listOf(poolSchema)),
      kubectlGet(deps, access, ['services', '-A'], listOf(serviceSchema)),
    ]);
    const live = pools?.items ?? [];
    const evidence: Evidence = {};
    const drifted: string[] = [];
    const exhausted: string[] = [];
    for (const w of want) {
      const name = w.metadata.name;
      const got = live.find((p) => p.metadata.name === name);
      if (!got) {
        drifted.push(`pool ${name} is missing`);
        evidence[`pool.${name}`] = 'missing';
        continue;
      }
      if (got.spec.disabled) drifted.push(`pool ${name} is disabled`);
      if (JSON.stringify(canonical(got.spec.blocks ?? [])) !== JSON.stringify(canonical(w.spec.blocks ?? []))) drifted.push(`pool ${name} blocks differ from the blueprint`);
      if (JSON.stringify(canonical(got.spec.serviceSelector ?? {})) !== JSON.stringify(canonical(w.spec.serviceSelector ?? {}))) drifted.push(`pool ${name} serviceSelector differs from the blueprint`);
      const available = conditionOf(got, 'cilium.io/IPsAvailable')?.message;
      const total = conditionOf(got, 'cilium.io/IPsTotal')?.message;
      evidence[`pool.${name}`] = `${available ?? '?'}/${total ?? '?'} free`;
      if (available === '0') {
        const holders = (services?.items ?? [])
          .filter((s) => ingressIps(s).some((ip) => (got.spec.blocks ?? []).some((b) => inBlock(ip, b))))
          .map((s) => `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`);
        evidence[`pool.${name}.heldBy`] = holders.slice(0, 8).join(',') + (holders.length > 8 ? `,+${holders.length - 8}` : '');
        exhausted.push(`pool ${name} has no free address (${holders.length} Service(s) hold its ${total ?? '?'} IPs)`);
      }
    }
    if (drifted.length) {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: ${drifted.join('; ')}`,
        'someone edited the LB-IPAM pool: re-running the rollout re-applies the blueprint\'s pool (lb-ipam step)', evidence, remedy);
    }
    if (exhausted.length) {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: ${exhausted.join('; ')}`,
        'free addresses held by Services that should not have them, or give the pool more addresses in the blueprint and re-run the rollout (re-applies the pool); until then a new LoadBalancer stays <pending>',
        evidence, remedy);
    }
    return verdict(check, i.cluster, 'ok', `${i.cluster}: ${want.length} pool(s) as in the blueprint, with free addresses`, '', evidence);
  });
}
