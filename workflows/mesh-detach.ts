// `meshpilot detach MESH CLUSTER`: take one cluster out of a live mesh. Every remaining peer forgets it, one at a
// time, each change held to the remaining clusters' global services; the remaining mesh is verified; then the
// cluster's own peer list is emptied and it runs on its own. Nothing is uninstalled or wiped. The live mesh is the
// only input (no blueprint): the leaving cluster's peers, and theirs, read from their Cilium releases.
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import { blocked, fatal } from '../contracts/failures.ts';
import type { LiveCluster } from '../contracts/live-mesh.ts';
import { act, quick, waits } from './activities.ts';
import { MeshDetachState, type MeshDetachInput, type MeshDetachResult } from './detach-state.ts';
import { answerStepMessages, endedBy } from './operation.ts';
import { ContinueAsNewNeeded } from './step-runner.ts';

export type { MeshDetachInput, MeshDetachResult } from './detach-state.ts';

export async function meshDetach(input: MeshDetachInput): Promise<MeshDetachResult> {
  const d = new MeshDetachState(input);
  const { runner } = d;

  // The rollout's message contracts, so every surface (status, resume, skip, override, abort) works on a detach too.
  answerStepMessages(runner, () => d.status(), () => d.validateAmend());

  d.changed();
  try {
    await runner.run('detach-preflight', () => readMesh(d));
    await runner.run('remove-peer', () => removeFromPeers(d));
    await runner.run('detach-verify', () => verifyRemaining(d));
    await runner.run('global-services', () => servicesKept(d));
    await runner.run('isolate', () => isolate(d));
    d.state = 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof meshDetach>({ ...input, carried: d.carried() });
    }
    const end = endedBy(runner, err);
    d.state = end.state;
    if (end.error !== undefined) d.error = end.error;
  }
  d.changed();
  await condition(allHandlersFinished);
  return d.result();
}

const ref = (l: LiveCluster) => {
  if (!l.kubeconfigRef) throw fatal(`internal: ${l.cluster} was read without its kubeconfig reference`);
  return l.kubeconfigRef;
};
const ranges = (d: MeshDetachState) => Object.fromEntries([...(d.leaving ? [d.leaving] : []), ...d.remaining].map((l) => [l.cluster, l.podCidrs]));
const watch = (d: MeshDetachState) => d.remaining.map((r) => ({ cluster: r.cluster, kubeconfigRef: ref(r) }));

/** The leaving cluster, then every member reachable through peer lists from it, then their global services. */
async function readMesh(d: MeshDetachState): Promise<void> {
  const { mesh, cluster } = d.input;
  const leaving = await act(quick.readLiveCluster, `${cluster}: the leaving cluster (stored kubeconfig, cilium-config, peers)`, { mesh, cluster, probe: [] });
  if (leaving.state === 'absent') {
    throw fatal(
      `cluster: meshpilot holds no kubeconfig for ${cluster} in mesh ${mesh}, so it is not a cluster of this mesh`,
      `the name is the blueprint's (clusters[].name); meshpilot list --mesh ${mesh} shows the mesh's rollouts`,
    );
  }
  if (leaving.state !== 'member') throw fatal(`cluster: ${cluster} is not a member of mesh ${mesh} (${leaving.note}): there is no mesh to detach it from`);
  d.leaving = leaving;
  const read = new Map<string, LiveCluster>();
  let frontier = leaving.peers.filter((p) => p !== cluster);
  while (frontier.length > 0) {
    const batch = await Promise.all(frontier.map((name) => act(quick.readLiveCluster, `${name}: a peer of ${cluster} (stored kubeconfig, cilium-config, peers)`, { mesh, cluster: name, probe: [] })));
    for (const l of batch) read.set(l.cluster, l);
    frontier = [...new Set(batch.filter((l) => l.state === 'member').flatMap((l) => l.peers))].filter((p) => p !== cluster && !read.has(p));
  }
  d.remaining = [...read.values()].filter((l) => l.state === 'member').sort((a, b) => a.cluster.localeCompare(b.cluster));
  d.unmanaged = [...read.values()].filter((l) => l.state !== 'member').map((l) => l.cluster);
  d.changed();
  d.baseline ??= await Promise.all(
    d.remaining.map((r) =>
      act(quick.globalServiceSources, `${r.cluster}: its global services and where their backends come from (before)`, { cluster: r.cluster, kubeconfigRef: ref(r), ranges: ranges(d) }),
    ),
  );
  d.changed();
}

/** One remaining cluster at a time: its peer list without the leaving cluster, its agents ready, the services held. */
async function removeFromPeers(d: MeshDetachState): Promise<void> {
  const { cluster } = d.input;
  for (const r of d.remaining) {
    await act(waits.removeMeshPeers, `${r.cluster}: helm upgrade cilium --reuse-values, peer list without ${cluster}`, { kubeconfigRef: ref(r), drop: [cluster] });
    await act(waits.ciliumReady, `${r.cluster}: cilium status --wait after its peer-list change`, { kubeconfigRef: ref(r) });
    await act(waits.globalBackendsKept, `global services of the remaining clusters kept their backends after ${r.cluster}'s change`, {
      clusters: watch(d),
      ranges: ranges(d),
      baseline: d.baseline ?? [],
      keep: d.remaining.map((x) => x.cluster),
      after: `${r.cluster} dropped ${cluster} from its peers`,
    });
  }
}

/** Every remaining cluster still reaches the peers it had, and no longer has the leaving one configured. */
async function verifyRemaining(d: MeshDetachState): Promise<void> {
  const { cluster } = d.input;
  const names = new Set(d.remaining.map((r) => r.cluster));
  const statuses = await Promise.all(
    d.remaining.map(async (r) => ({
      cluster: r.cluster,
      ...(await act(waits.clustermeshStatus, `${r.cluster}: cilium clustermesh status -o json (remaining peers connected, ${cluster} gone)`, {
        kubeconfigRef: ref(r),
        expectPeers: r.peers.filter((p) => p !== cluster && names.has(p)),
        absentPeers: [cluster],
      })),
    })),
  );
  const bad = statuses.filter((s) => s.missing.length > 0 || s.lingering.length > 0);
  if (bad.length === 0) return;
  throw blocked({
    reason: `the remaining mesh is not whole: ${bad.map((s) => `${s.cluster}: ${s.summary}`).join('; ')}`,
    hint: `run \`cilium clustermesh status --context ${bad[0]!.cluster}\` for the per-agent errors; a peer still configured means its Helm release still lists ${cluster} (helm get values cilium -n kube-system). Resume re-checks`,
    evidence: Object.fromEntries(bad.map((s) => [s.cluster, s.summary.slice(0, 200)])),
  });
}

/** The gate: the remaining clusters' global services kept each other's backends, and lost the leaving cluster's. */
async function servicesKept(d: MeshDetachState): Promise<void> {
  await act(waits.globalBackendsKept, `global services of ${d.remaining.map((r) => r.cluster).join(', ') || 'no cluster'}: backends of every remaining cluster, none of ${d.input.cluster}`, {
    clusters: watch(d),
    ranges: ranges(d),
    baseline: d.baseline ?? [],
    keep: d.remaining.map((r) => r.cluster),
    gone: d.input.cluster,
    after: `${d.input.cluster} left the mesh`,
  });
}

/** The leaving cluster forgets its peers and keeps running on its own: Cilium, its apiserver, its workloads stay. */
async function isolate(d: MeshDetachState): Promise<void> {
  const leaving = d.leaving;
  if (!leaving) throw fatal('internal: isolate ran before detach-preflight read the leaving cluster');
  await act(waits.removeMeshPeers, `${leaving.cluster}: helm upgrade cilium --reuse-values, empty peer list (it runs on its own)`, { kubeconfigRef: ref(leaving), drop: 'all' });
  await act(waits.ciliumReady, `${leaving.cluster}: cilium status --wait after its peer list was emptied`, { kubeconfigRef: ref(leaving) });
}
