// A rollout that meets a live mesh (issue #16, join): mesh-preflight reads which clusters already run and refuses a
// blueprint that clashes with them; connect then changes the members' peer lists one at a time, each change held
// to its global services. Called from meshRollout's body; the state lives in MeshRolloutState.
import { describeLiveMeshProblems, isMember, liveMeshProblems, probeRangesFor } from '../blueprint/live-mesh.ts';
import type { ClusterPlan } from '../blueprint/plan.ts';
import { helmValuesAt, type PeerApiserver } from '../blueprint/render/step-artifacts.ts';
import { blocked } from '../contracts/failures.ts';
import { act, quick, waits } from './activities.ts';
import type { MeshRolloutState } from './mesh-state.ts';

/** The patch id guarding mesh-preflight: histories recorded before it existed replay without it. */
export const JOIN_PATCH = 'mesh-preflight';

/** mesh-preflight: every cluster read live (members, joining clusters), then held against the blueprint. */
export async function readLiveMesh(m: MeshRolloutState): Promise<void> {
  const { plan } = m;
  m.live = await Promise.all(
    plan.clusters.map((c) =>
      act(quick.readLiveCluster, `${c.name}: the live cluster (stored kubeconfig, cilium-config, peers, addresses in use)`, {
        mesh: plan.mesh,
        cluster: c.name,
        firstControlPlane: c.nodes.find((n) => n.role === 'controlplane')?.address,
        probe: probeRangesFor(plan, c.name),
      }),
    ),
  );
  m.changed();
  const problems = liveMeshProblems(plan, m.live);
  if (problems.length > 0) throw blocked(describeLiveMeshProblems(problems, m.workflowId));
}

export interface MeshCluster {
  plan: ClusterPlan;
  kubeconfigRef: string;
  address: string;
}

/**
 * connect with live members: the joining clusters first (nothing depends on them yet), then one member at a time.
 * After each member's change its agents must be ready and every member that served a global Service before still
 * serves it, seen from every member; only then does the next member change. The baseline is read once, before
 * the first change, and kept across re-checks and continue-as-new.
 */
export async function connectWithMembers(m: MeshRolloutState, all: MeshCluster[], caRef: string): Promise<void> {
  const members = all.filter((c) => isMember(m.liveOf(c.plan.name)));
  const joining = all.filter((c) => !members.includes(c));
  const ranges = Object.fromEntries(all.map((c) => [c.plan.name, c.plan.podCidrs]));
  const watch = members.map((c) => ({ cluster: c.plan.name, kubeconfigRef: c.kubeconfigRef }));
  m.baseline ??= await Promise.all(
    members.map((c) =>
      act(quick.globalServiceSources, `${c.plan.name}: its global services and where their backends come from (before the change)`, { cluster: c.plan.name, kubeconfigRef: c.kubeconfigRef, ranges }),
    ),
  );
  m.changed();
  const baseline = m.baseline;
  const held = async (c: MeshCluster) => {
    await act(waits.ciliumReady, `${c.plan.name}: cilium status --wait after its peer-list change`, { kubeconfigRef: c.kubeconfigRef });
    await act(waits.globalBackendsKept, `global services of ${members.map((x) => x.plan.name).join(', ')} kept their backends after ${c.plan.name}'s change`, {
      clusters: watch,
      ranges,
      baseline,
      keep: members.map((x) => x.plan.name),
      after: `${c.plan.name}'s peer-list change`,
    });
  };
  const names = (cs: MeshCluster[]) => cs.map((c) => c.plan.name).join(', ');

  if (m.plan.meshPhase.method === 'cilium-connect') {
    const connect = (a: MeshCluster, b: MeshCluster) =>
      act(quick.clustermeshConnect, `cilium clustermesh connect ${a.plan.name} ↔ ${b.plan.name}`, {
        kubeconfigRef: a.kubeconfigRef,
        peerKubeconfigRef: b.kubeconfigRef,
        cluster: a.plan.name,
        peer: b.plan.name,
      });
    // pairs of members are connected already (the activity returns at once) or are repaired here
    for (let i = 0; i < members.length; i++) for (let j = i + 1; j < members.length; j++) await connect(members[i]!, members[j]!);
    for (let i = 0; i < joining.length; i++) for (let j = i + 1; j < joining.length; j++) await connect(joining[i]!, joining[j]!);
    for (const c of members) {
      for (const j of joining) await connect(c, j);
      await held(c);
    }
    return;
  }

  const apiservers: PeerApiserver[] = all.map((c) => ({ name: c.plan.name, address: c.address }));
  const values = (c: MeshCluster) => ({
    kubeconfigRef: c.kubeconfigRef,
    chartVersion: c.plan.cilium.chartVersion,
    values: helmValuesAt.connect(c.plan.cilium, c.plan.name, apiservers),
    secretValuesRefs: [caRef],
  });
  await Promise.all(joining.map((c) => act(waits.ensureCilium, `${c.plan.name} (joining): helm upgrade cilium with clustermesh.config.clusters = the other ${all.length - 1}`, values(c))));
  for (const c of members) {
    // held even when unchanged: a re-check after a pause must judge the change an earlier attempt made
    await act(waits.ensureCilium, `${c.plan.name} (member): helm upgrade cilium, peer list + ${names(joining) || 'none'}`, values(c));
    await held(c);
  }
}
