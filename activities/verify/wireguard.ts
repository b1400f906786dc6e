// WireGuard on every node, as each agent reports it (cilium status collects every agent's status), plus the
// cluster-wide switch in cilium-config. One node without it sends cross-region traffic in clear text.
import { z } from 'zod';
import type { ActivityDeps } from '../deps.ts';
import { listOf } from '../kube/objects.ts';
import { callTool, classify, parseJson } from '../kube/tool-call.ts';
import type { Verdict } from '../../contracts/verify/report.ts';
import { kubectlGet, onCluster, rolloutRemedy, verdict, type ClusterCheckInput, type Evidence } from './verdicts.ts';

/** cilium-cli status/status.go: cilium_status = agent pod → its `cilium-dbg status` (api/v1/models/encryption_status.go). */
const statusSchema = z.object({
  cilium_status: z
    .record(
      z.string(),
      z
        .object({
          encryption: z
            .object({
              mode: z.string().optional(),
              wireguard: z.object({ interfaces: z.array(z.object({ name: z.string().optional(), 'peer-count': z.number().optional() })).nullish() }).nullish(),
            })
            .nullish(),
        })
        .nullable(),
    )
    .optional(),
});
const podSchema = z.object({ metadata: z.object({ name: z.string() }), spec: z.object({ nodeName: z.string().optional() }).default({}) });
const configMapSchema = z.object({ data: z.record(z.string(), z.string()).optional() });

export async function checkWireguard(deps: ActivityDeps, i: ClusterCheckInput & { nodes: string[]; required: boolean }): Promise<Verdict> {
  const check = 'wireguard';
  if (!i.required) return verdict(check, i.cluster, 'ok', `${i.cluster}: the blueprint does not ask for encryption`, '', { required: false });
  return onCluster(deps, i, async (access) => {
    const [r, pods, cm] = await Promise.all([
      callTool(deps, 'cilium', ['status', '-o', 'json'], { env: access.env, retries: 2 }),
      kubectlGet(deps, access, ['pods', '-n', 'kube-system', '-l', 'k8s-app=cilium'], listOf(podSchema)),
      kubectlGet(deps, access, ['configmap', 'cilium-config', '-n', 'kube-system'], configMapSchema),
    ]);
    if (r.exitCode !== 0 && !r.stdout.trim().startsWith('{')) throw classify(r, 'cilium status');
    const status = statusSchema.parse(parseJson(r));
    const nodeOf = new Map((pods?.items ?? []).map((p) => [p.metadata.name, p.spec.nodeName ?? p.metadata.name]));
    const evidence: Evidence = { 'cilium-config.enable-wireguard': cm?.data?.['enable-wireguard'] ?? 'absent' };
    const off: string[] = [];
    const seen = new Set<string>();
    for (const [pod, s] of Object.entries(status.cilium_status ?? {})) {
      const node = nodeOf.get(pod) ?? pod;
      seen.add(node);
      const mode = s?.encryption?.mode ?? 'unknown';
      const ifaces = s?.encryption?.wireguard?.interfaces ?? [];
      evidence[`node.${node}`] = ifaces.length ? `${mode} (${ifaces.map((x) => `${x.name ?? '?'} peers=${x['peer-count'] ?? '?'}`).join(',')})` : mode;
      if (mode.toLowerCase() !== 'wireguard' || ifaces.length === 0) off.push(node);
    }
    const noAgent = i.nodes.filter((n) => !seen.has(n));
    if (cm?.data?.['enable-wireguard'] !== 'true') {
      return verdict(check, i.cluster, 'fail', `${i.cluster}: WireGuard is switched off cluster-wide (cilium-config enable-wireguard=${cm?.data?.['enable-wireguard'] ?? 'absent'})`,
        'the Cilium release lost encryption.enabled/encryption.type=wireguard: re-running the rollout restores the blueprint\'s values', evidence, rolloutRemedy(i.mesh, i.source));
    }
    if (off.length || noAgent.length) {
      const parts = [...(off.length ? [`WireGuard off on ${off.join(', ')}`] : []), ...(noAgent.length ? [`no Cilium agent reports for ${noAgent.join(', ')}`] : [])];
      return verdict(check, i.cluster, 'fail', `${i.cluster}: ${parts.join('; ')}`,
        `look at the node's agent: \`kubectl -n kube-system exec <cilium pod on the node> -c cilium-agent -- cilium-dbg status --verbose\`; check for a CiliumNodeConfig overriding enable-wireguard for that node, and the WireGuard kernel support of its Talos image`,
        evidence, { kind: 'manual', command: `kubectl -n kube-system get ciliumnodeconfigs -A; cilium status --context ${i.cluster}` });
    }
    return verdict(check, i.cluster, 'ok', `${i.cluster}: WireGuard on all ${seen.size} node(s)`, '', evidence);
  });
}
