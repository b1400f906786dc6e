// ClusterMesh checks: peers connected (judged from the JSON), and the addresses peers and clients depend on.
import { parseAllDocuments } from 'yaml';
import type { ActivityDeps } from '../deps.ts';
import { diagnoseLoadBalancer } from '../kube/lb-diagnosis.ts';
import { gatherLbFacts, getLeaseHolder } from '../kube/lb-facts.ts';
import { ingressIps, meshStatusSchema, serviceSchema } from '../kube/objects.ts';
import { callTool, classify, parseJson } from '../kube/tool-call.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { kubectlGet, onCluster, rolloutRemedy, verdict, type ClusterCheckInput, type Evidence } from './verdicts.ts';

/** `cilium clustermesh status -o json` exits 0 with peers down: the verdict comes from the counts, never the exit code. */
export async function checkClustermeshStatus(deps: ActivityDeps, i: ClusterCheckInput & { expectPeers: string[] }): Promise<Verdict> {
  const check = 'clustermesh-status';
  const remedy = rolloutRemedy(i.mesh, i.source);
  return onCluster(deps, i, async (access) => {
    const r = await callTool(deps, 'cilium', ['clustermesh', 'status', '-o', 'json'], { env: access.env, retries: 2 });
    if (r.exitCode !== 0) {
      const last = r.stderr.trim().split('\n').pop() ?? '';
      if (/unable to derive service IPs|is not ready|not found/.test(r.stderr)) {
        return verdict(check, i.cluster, 'fail', `${i.cluster}: cilium clustermesh status cannot run: ${last.replace(/^Error:\s*/, '')}`,
          `the local clustermesh-apiserver is not serving (see the mesh-addresses check); then \`cilium clustermesh status --context ${i.cluster}\``,
          { error: last }, remedy);
      }
      throw classify(r, 'cilium clustermesh status');
    }
    const s = meshStatusSchema.parse(parseJson(r));
    const total = s.connectivity?.total ?? 0;
    const clusters = s.connectivity?.clusters ?? {};
    const evidence: Evidence = { agents: total };
    const down: string[] = [];
    for (const p of i.expectPeers) {
      const c = clusters[p];
      evidence[`peer.${p}`] = c ? `${c.connected ?? 0}/${total} connected` : 'not configured';
      if (!c || total === 0 || (c.connected ?? 0) < total) down.push(p);
    }
    const unexpected = Object.keys(clusters).filter((n) => !i.expectPeers.includes(n));
    if (unexpected.length) evidence.unexpectedPeers = unexpected.join(',');
    if (down.length) {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: ${down.length} of ${i.expectPeers.length} peer(s) not connected on every agent: ${down.join(', ')}`,
        `run \`cilium clustermesh status --context ${i.cluster}\` for the per-agent errors; a peer missing from clustermesh.config or an apiserver without an address is restored by re-running the rollout (its connect step converges the Helm values)`,
        evidence, remedy);
    }
    if (unexpected.length) {
      return verdict(check, i.cluster, 'warn', `${i.cluster}: connected to clusters the blueprint does not name: ${unexpected.join(', ')}`,
        'remove the extra peers (cilium clustermesh disconnect) or add them to the blueprint', evidence);
    }
    return verdict(check, i.cluster, 'ok', `${i.cluster}: all ${i.expectPeers.length} peer(s) connected on all ${total} agents`, '', evidence);
  });
}

const serviceDocs = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJSON() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
    .filter((o): o is { kind: string; metadata: { name: string; namespace?: string } } => o?.kind === 'Service' && Boolean(o.metadata?.name));

/**
 * The clustermesh-apiserver LoadBalancer keeps its (pinned) address and, with L2, an announcer; every global
 * Service of the blueprint still exists, is still global and has a ClusterIP.
 */
export async function checkMeshAddresses(
  deps: ActivityDeps,
  i: ClusterCheckInput & { pinnedApiserverIp?: string; l2: boolean; globalServices: string },
): Promise<Verdict> {
  const check = 'mesh-addresses';
  const remedy = rolloutRemedy(i.mesh, i.source);
  return onCluster(deps, i, async (access) => {
    const problems: string[] = [];
    const evidence: Evidence = {};
    const svc = await kubectlGet(deps, access, ['service', 'clustermesh-apiserver', '-n', 'kube-system'], serviceSchema);
    const address = svc ? ingressIps(svc)[0] : undefined;
    let hint = '';
    evidence.apiserver = address ?? 'none';
    if (!address) {
      const d = diagnoseLoadBalancer(await gatherLbFacts(deps, access, 'kube-system', 'clustermesh-apiserver'), { namespace: 'kube-system', name: 'clustermesh-apiserver' });
      problems.push(d.ok ? 'the clustermesh-apiserver has no address' : d.details.reason);
      if (!d.ok) {
        hint = d.details.hint;
        Object.assign(evidence, d.details.evidence ?? {});
      }
    } else {
      if (i.pinnedApiserverIp && address !== i.pinnedApiserverIp) problems.push(`the clustermesh-apiserver answers on ${address}, not the pinned ${i.pinnedApiserverIp} its peers dial`);
      if (i.l2) {
        const holder = await getLeaseHolder(deps, access, 'kube-system', 'clustermesh-apiserver');
        evidence.announcedBy = holder ?? 'none';
        if (!holder) problems.push(`no node announces the clustermesh-apiserver address ${address} (no L2 lease holder)`);
      }
    }
    const globals = serviceDocs(i.globalServices);
    for (const g of globals) {
      const ns = g.metadata.namespace ?? 'default';
      const got = await kubectlGet(deps, access, ['service', g.metadata.name, '-n', ns], serviceSchema);
      const id = `${ns}/${g.metadata.name}`;
      const ip = got?.spec.clusterIP;
      evidence[`service.${id}`] = got ? ip || 'no ClusterIP' : 'missing';
      if (!got) problems.push(`global Service ${id} is missing`);
      else if (!ip || ip === 'None') problems.push(`global Service ${id} has no ClusterIP`);
      else if (got.metadata.annotations?.['service.cilium.io/global'] !== 'true') problems.push(`Service ${id} is no longer global (annotation service.cilium.io/global removed)`);
    }
    if (problems.length) {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: ${problems.join('; ')}`,
        hint || 're-running the rollout re-applies the apiserver values and the blueprint\'s global Services', evidence, remedy);
    }
    return verdict(check, i.cluster, 'ok', `${i.cluster}: clustermesh-apiserver at ${address}${globals.length ? ` and ${globals.length} global Service(s)` : ''} have addresses`, '', evidence);
  });
}
