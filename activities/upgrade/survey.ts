// The upgrade's survey of one cluster: what every node and the cluster run now. Read-only.
import { z } from 'zod';
import { fatal } from '../../contracts/failures.ts';
import type { ClusterSurvey, MeshPeer, NodeSurvey } from '../../blueprint/upgrade/survey.ts';
import { secretRefs, type ActivityDeps } from '../deps.ts';
import { helmRelease } from '../helm.ts';
import { withKubeconfig } from '../kube/kubeconfig.ts';
import { callTool, classify, parseJson } from '../kube/tool-call.ts';
import { withSecretFile } from '../talos/secret-files.ts';
import { readCilium, readKubernetes, readNode } from './reads.ts';
import { helmArgv } from '../helm/argv.ts';

export interface SurveyClusterInput {
  mesh: string;
  cluster: string;
  nodes: Array<{ name: string; address: string; role: 'controlplane' | 'worker' }>;
}

/** Only what an upgrade keeps or reads from the deployed values: never the CA or any other secret in them. */
const deployedValuesSchema = z.object({
  upgradeCompatibility: z.string().nullish(),
  clustermesh: z
    .object({
      config: z
        .object({
          enabled: z.boolean().optional(),
          clusters: z.array(z.object({ name: z.string(), ips: z.array(z.string()).optional(), address: z.string().optional(), port: z.number().optional() })).optional(),
        })
        .optional(),
    })
    .optional(),
});

export async function surveyCluster(deps: ActivityDeps, i: SurveyClusterInput): Promise<ClusterSurvey> {
  const talosconfigRef = secretRefs.talosconfig(i.mesh, i.cluster);
  const kubeconfigRef = secretRefs.kubeconfig(i.mesh, i.cluster);
  const refs = { talosconfig: talosconfigRef, kubeconfig: kubeconfigRef, meshCa: secretRefs.meshCa(i.mesh) };
  for (const ref of Object.values(refs)) {
    if (!(await deps.secrets.has(ref))) {
      throw fatal(
        `cluster ${i.cluster} has no credentials in the secret store (${ref}): meshpilot upgrades a mesh it rolled out`,
        `roll the mesh out first (meshpilot rollout), or check that the worker uses the same secret store and mesh name ${i.mesh}`,
      );
    }
  }
  const problems: string[] = [];
  const nodes: NodeSurvey[] = await withSecretFile(deps.secrets, talosconfigRef, (file, secrets) =>
    Promise.all(
      i.nodes.map(async (n): Promise<NodeSurvey> => {
        const facts = await readNode(deps, n.address, { file, secrets });
        if (facts.stage === 'unreachable') problems.push(`${n.name} (${n.address}) does not answer on the Talos API: ${facts.error ?? ''}`.trim());
        return { name: n.name, address: n.address, role: n.role, stage: facts.stage, ...(facts.talos ? { talos: facts.talos } : {}) };
      }),
    ),
  );
  return withKubeconfig(deps, kubeconfigRef, async (access) => {
    const kube = await readKubernetes(deps, access);
    for (const n of nodes) {
      const k = kube.nodes[n.name];
      if (k?.kubelet) n.kubelet = k.kubelet;
      n.ready = k?.ready ?? false;
      if (!k) problems.push(`${n.name} is not registered as a Kubernetes Node`);
    }
    const release = await helmRelease(deps, { kubeconfigRef, release: 'cilium', namespace: 'kube-system' });
    let peers: MeshPeer[] = [];
    let meshConfigEnabled = false;
    let upgradeCompatibility: string | undefined;
    if (release.status !== 'absent') {
      const r = await callTool(deps, 'helm', helmArgv.getValues(), { env: access.env, retries: 2 });
      if (r.exitCode !== 0) throw classify(r, `helm get values cilium (${i.cluster})`);
      const v = deployedValuesSchema.safeParse(parseJson(r) ?? {});
      if (!v.success) throw fatal(`the deployed cilium values of ${i.cluster} have an unexpected shape at ${v.error.issues[0]?.path.join('.')}: ${v.error.issues[0]?.message}`);
      peers = (v.data.clustermesh?.config?.clusters ?? []).map((p) => ({ name: p.name, ...(p.ips ? { ips: p.ips } : {}), ...(p.address ? { address: p.address } : {}), ...(p.port ? { port: p.port } : {}) }));
      meshConfigEnabled = v.data.clustermesh?.config?.enabled === true;
      upgradeCompatibility = v.data.upgradeCompatibility ?? undefined;
    }
    const cilium = release.status === 'absent' ? { versions: {} as Record<string, string[]>, notReady: [] } : await readCilium(deps, access);
    return {
      cluster: i.cluster,
      refs,
      nodes,
      ...(kube.server ? { kubernetes: kube.server } : {}),
      cilium: {
        release: release.status,
        ...(release.chartVersion ? { chart: release.chartVersion } : {}),
        ...(upgradeCompatibility ? { upgradeCompatibility } : {}),
        meshConfigEnabled,
        peers,
        agents: cilium.versions.cilium ?? [],
        apiserver: cilium.versions['clustermesh-apiserver'] ?? [],
      },
      problems,
    };
  });
}
