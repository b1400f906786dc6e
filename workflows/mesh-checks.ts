// The mesh is whole: every cluster sees every peer (mesh-verify), and the canary global Service sees remote
// backends everywhere (global-canary). Workflow code: the bodies a step runs, over clusters given by reference.
import { canaryManifests, CANARY_SERVICE } from '../blueprint/render/step-artifacts.ts';
import { blocked } from '../contracts/failures.ts';
import { act, quick, waits } from './activities.ts';

export interface MeshMember {
  name: string;
  kubeconfigRef: string;
  podCidrs: string[];
  /** run this cluster's activities on its site's queue */
  taskQueue?: string;
}

/** `cilium clustermesh status -o json` on every cluster until every other cluster is connected on every agent. */
export async function verifyMeshConnected(clusters: readonly MeshMember[], context: string): Promise<void> {
  const results = await Promise.all(
    clusters.map(async (c) => ({
      cluster: c.name,
      ...(await act(
        waits.clustermeshStatus,
        `${c.name}: cilium clustermesh status -o json (all peers connected${context ? `, ${context}` : ''})`,
        { kubeconfigRef: c.kubeconfigRef, expectPeers: clusters.filter((o) => o.name !== c.name).map((o) => o.name) },
        c.taskQueue,
      )),
    })),
  );
  // the activity reports what it saw when its poll budget ran out; a peer still missing then pauses the step
  const broken = results.filter((r) => r.missing.length);
  if (broken.length) {
    throw blocked({
      reason: `the mesh is not whole ${context}: ${broken.map((r) => `${r.cluster} does not reach ${r.missing.join(', ')}`).join('; ')}`,
      hint:
        'run `cilium clustermesh status` in those clusters; after a Cilium upgrade check that the clustermesh-apiserver and the agents run the same version and that the peers still list each other (helm get values cilium -n kube-system), then resume; the next cluster does not start until the mesh is whole',
      evidence: Object.fromEntries(broken.map((r) => [r.cluster, r.summary.slice(0, 300)])),
    });
  }
}

/** The canary global Service in every cluster (applied again: idempotent), seeing backends in the others' pod CIDRs. */
export async function verifyGlobalCanaryEverywhere(clusters: readonly MeshMember[]): Promise<void> {
  await Promise.all(
    clusters.map((c) => act(quick.applyManifests, `${c.name}: apply the global canary`, { kubeconfigRef: c.kubeconfigRef, manifests: canaryManifests(c.name) }, c.taskQueue)),
  );
  await Promise.all(
    clusters.map((c) =>
      act(
        waits.verifyGlobalCanary,
        `${c.name}: the global canary sees remote backends`,
        {
          cluster: c.name,
          kubeconfigRef: c.kubeconfigRef,
          namespace: CANARY_SERVICE.namespace,
          name: CANARY_SERVICE.name,
          remotePodCidrs: clusters.filter((o) => o.name !== c.name).flatMap((o) => o.podCidrs),
        },
        c.taskQueue,
      ),
    ),
  );
}
