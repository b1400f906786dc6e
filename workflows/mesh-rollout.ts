// The mesh rollout: the shared CA, one child per cluster in parallel, then the mesh phase (connect, verify, canary,
// manifests). The state and what operators do to it live in MeshRolloutState; this body registers the handlers and
// runs the steps.
import { allHandlersFinished, condition, continueAsNew, ParentClosePolicy, patched, setHandler, startChild } from '@temporalio/workflow';
import { canaryManifests, CANARY_SERVICE, helmValuesAt, meshManifests } from '../blueprint/render/step-artifacts.ts';
import { blocked, fatal } from '../contracts/failures.ts';
import { abortUpdate, amendUpdate, clusterBlockedSignal, meshStatusQuery, overrideUpdate, resumeUpdate, skipUpdate } from '../contracts/messages.ts';
import { RUN_KIND, SA, siteTaskQueue } from '../contracts/names.ts';
import { act, quick, waits } from './activities.ts';
import { clusterRollout, type ClusterRolloutResult } from './cluster-rollout.ts';
import { connectWithMembers, JOIN_PATCH, readLiveMesh } from './join.ts';
import { MeshRolloutState, type MeshRolloutInput, type MeshRolloutResult } from './mesh-state.ts';
import { ContinueAsNewNeeded, RolloutAborted } from './step-runner.ts';

export type { MeshRolloutInput, MeshRolloutResult } from './mesh-state.ts';

export async function meshRollout(input: MeshRolloutInput): Promise<MeshRolloutResult> {
  const m = new MeshRolloutState(input);
  const { runner } = m;

  // Handlers first. Mesh-phase steps are resumed here; a paused cluster step is resumed on its child workflow
  // (the client routes it there), so validators always judge the state of the workflow that owns the step.
  setHandler(meshStatusQuery, () => m.status());
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: runner.resume(i) }), { validator: (i) => runner.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: runner.skip(i) }), { validator: (i) => runner.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: runner.override(i) }), { validator: (i) => runner.validateOverride(i) });
  setHandler(abortUpdate, (i) => m.abort(i), { validator: (i) => runner.validateAbort(i) });
  setHandler(amendUpdate, (i) => m.amend(i), { validator: (i) => m.validateAmend(i) });
  setHandler(clusterBlockedSignal, ({ cluster, blocked }) => m.clusterBlockedChanged(cluster, blocked));

  m.changed();
  try {
    if (patched(JOIN_PATCH)) await runner.run('mesh-preflight', () => readLiveMesh(m));
    else runner.keep('mesh-preflight', 'not run: this rollout started before meshpilot read the live mesh');
    await runner.run('mesh-ca', async () => {
      m.meshCaRef = (await act(quick.ensureMeshCa, `${m.plan.mesh}: shared ClusterMesh CA (once, ever)`, { mesh: m.plan.mesh })).caRef;
    });
    if (m.results.length < m.plan.clusters.length) m.results = await runClusters(m, input, required(m.meshCaRef));
    m.changed();
    const unfinished = m.results.filter((r) => r.state !== 'completed');
    if (unfinished.length > 0) {
      m.state = unfinished.some((r) => r.state === 'aborted') || runner.aborted ? 'aborted' : 'failed';
      m.error = unfinished.map((r) => `${r.cluster}: ${r.state}${r.error ? ` (${r.error})` : ''}`).join('; ');
    } else {
      await runMeshPhase(m);
      m.state = 'completed';
    }
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof meshRollout>({ ...input, plan: m.plan, carried: m.carried() });
    }
    if (err instanceof RolloutAborted) m.state = 'aborted';
    else {
      m.state = 'failed';
      m.error = runner.state.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message;
    }
  }
  m.finish();
  await condition(allHandlersFinished);
  return m.result();
}

/** One child per cluster, started together; each result lands in the state as it comes. */
async function runClusters(m: MeshRolloutState, input: MeshRolloutInput, caRef: string): Promise<ClusterRolloutResult[]> {
  const { plan } = m;
  const parentId = m.workflowId;
  m.clustersStarted = true;
  const handles = await Promise.all(
    plan.clusters.map((c) => {
      const live = m.liveOf(c.name);
      const member = live?.state === 'member' && live.kubeconfigRef ? { kubeconfigRef: live.kubeconfigRef, note: live.note, ...(live.talosconfigRef ? { talosconfigRef: live.talosconfigRef } : {}) } : undefined;
      return startChild(clusterRollout, {
        workflowId: m.childId(c.name),
        taskQueue: input.siteQueues ? siteTaskQueue(c.site) : undefined,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `${plan.mesh}: cluster ${c.name} (id ${c.id}, ${c.site})${member ? ', member of the live mesh: kept' : ''}`,
        staticDetails: [
          `Cluster **${c.name}** of mesh **${plan.mesh}** (rollout \`${parentId}\`), id ${c.id}, site ${c.site}, endpoint ${c.endpoint}.`,
          '',
          ...c.nodes.map((n) => `- ${n.name} (${n.role}) ${n.address}`),
          '',
          'A paused step of this cluster is resumed here: More Actions → Send an Update → `resume` with `{"by":"you","reason":"..."}`, or `meshpilot resume ' + parentId + '`.',
        ].join('\n'),
        typedSearchAttributes: [
          { key: SA.mesh, value: plan.mesh },
          { key: SA.cluster, value: c.name },
          { key: SA.kind, value: RUN_KIND.clusterRollout },
          { key: SA.state, value: 'running' },
        ],
        args: [{ mesh: plan.mesh, rolloutId: input.rolloutId, parentWorkflowId: parentId, plan: c, meshCaRef: caRef, bootOverride: input.bootOverride, limits: input.limits, ...(member ? { member } : {}) }],
      });
    }),
  );
  return Promise.all(
    handles.map(async (h) => {
      const r = await h.result();
      m.clusterFinished(r);
      return r;
    }),
  );
}

/** After every cluster reached clustermesh-address: connect, verify, the global canary, the blueprint's manifests. */
async function runMeshPhase(m: MeshRolloutState): Promise<void> {
  const { runner } = m;
  const caRef = required(m.meshCaRef);
  const clusters = () =>
    m.plan.clusters.map((c) => {
      const r = m.results.find((x) => x.cluster === c.name);
      return { plan: c, kubeconfigRef: required(r?.outputs.kubeconfigRef), address: required(r?.outputs.apiserverAddress) };
    });
  const apiservers = () => clusters().map((c) => ({ name: c.plan.name, address: c.address }));

  await runner.run('connect', async () => {
    if (m.plan.clusters.some((c) => m.roleOf(c.name) === 'member')) return connectWithMembers(m, clusters(), caRef);
    if (m.plan.meshPhase.method === 'cilium-connect') {
      const all = clusters();
      for (let i = 0; i < all.length; i++) {
        for (let j = i + 1; j < all.length; j++) {
          const [a, b] = [all[i]!, all[j]!];
          await act(quick.clustermeshConnect, `cilium clustermesh connect ${a.plan.name} ↔ ${b.plan.name}`, { kubeconfigRef: a.kubeconfigRef, peerKubeconfigRef: b.kubeconfigRef, cluster: a.plan.name, peer: b.plan.name });
        }
      }
      return;
    }
    await Promise.all(
      clusters().map((c) =>
        act(waits.ensureCilium, `${c.plan.name}: helm upgrade cilium with clustermesh.config.clusters = the other ${m.plan.clusters.length - 1}`, {
          kubeconfigRef: c.kubeconfigRef,
          chartVersion: c.plan.cilium.chartVersion,
          values: helmValuesAt.connect(c.plan.cilium, c.plan.name, apiservers()),
          secretValuesRefs: [caRef],
        }),
      ),
    );
  });

  await runner.run('mesh-verify', async () => {
    const statuses = await Promise.all(
      clusters().map(async (c) => ({
        cluster: c.plan.name,
        ...(await act(waits.clustermeshStatus, `${c.plan.name}: cilium clustermesh status -o json (all peers connected)`, {
          kubeconfigRef: c.kubeconfigRef,
          expectPeers: m.plan.clusters.filter((o) => o.name !== c.plan.name).map((o) => o.name),
        })),
      })),
    );
    const short = statuses.filter((s) => s.missing.length > 0);
    if (short.length > 0) throw peersNotConnected(short);
  });

  await runner.run('global-canary', async () => {
    await Promise.all(clusters().map((c) => act(quick.applyManifests, `${c.plan.name}: apply the global canary`, { kubeconfigRef: c.kubeconfigRef, manifests: canaryManifests(c.plan.name) })));
    await Promise.all(
      clusters().map((c) =>
        act(waits.verifyGlobalCanary, `${c.plan.name}: the global canary sees remote backends`, {
          cluster: c.plan.name,
          kubeconfigRef: c.kubeconfigRef,
          namespace: CANARY_SERVICE.namespace,
          name: CANARY_SERVICE.name,
          remotePodCidrs: m.plan.clusters.filter((o) => o.name !== c.plan.name).flatMap((o) => o.podCidrs),
        }),
      ),
    );
  });

  await runner.run('apply-manifests', async () => {
    await Promise.all(
      clusters().map(async (c) => {
        const manifests = meshManifests(m.plan.meshPhase.manifestsByCluster[c.plan.name]);
        if (manifests !== '') await act(quick.applyManifests, `${c.plan.name}: apply global services and policies`, { kubeconfigRef: c.kubeconfigRef, manifests });
      }),
    );
  });
}

/** mesh-verify's pause: the peers some cluster's agents still do not reach after the poll budget. */
function peersNotConnected(short: Array<{ cluster: string; missing: string[]; summary: string }>) {
  return blocked({
    reason: `peers not connected: ${short.map((s) => `${s.cluster}: ${s.summary}`).join('; ')}`,
    hint: `run \`cilium clustermesh status --context ${short[0]!.cluster}\` for the per-agent errors (TLS, no route to the peer's clustermesh-apiserver, a peer that does not list this cluster); resume re-checks`,
    evidence: Object.fromEntries(short.map((s) => [s.cluster, `missing ${s.missing.join(', ')}`])),
  });
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw fatal('internal: a cluster finished without its outputs');
  return value;
}
