// The mesh is whole: every cluster sees every peer (mesh-verify), and the canary global Service sees remote
// backends everywhere (global-canary). Workflow code: the bodies a step runs, over clusters given by reference.
import { canaryManifests, CANARY_SERVICE } from '../blueprint/render/step-artifacts.ts';
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
  await Promise.all(
    clusters.map((c) =>
      act(
        waits.clustermeshStatus,
        `${c.name}: cilium clustermesh status -o json (all peers connected${context ? `, ${context}` : ''})`,
        { kubeconfigRef: c.kubeconfigRef, expectPeers: clusters.filter((o) => o.name !== c.name).map((o) => o.name) },
        c.taskQueue,
      ),
    ),
  );
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
