// The mesh rollout: one child per cluster in parallel, then the mesh phase (connect, verify, canary, manifests).
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { RolloutPlan } from '../blueprint/plan.ts';
import {
  abortClusterSignal,
  abortUpdate,
  amendClusterSignal,
  amendUpdate,
  clusterBlockedSignal,
  meshStatusQuery,
  overrideUpdate,
  resumeUpdate,
  skipUpdate,
  type ActorInput,
} from '../contracts/messages.ts';
import { fatal, refused } from '../contracts/failures.ts';
import { clusterWorkflowId, SA, siteTaskQueue } from '../contracts/names.ts';
import { MESH_STEPS } from '../contracts/steps.ts';
import type { BlockedSummary, MeshRolloutStatus, RunState } from '../contracts/status.ts';
import { act, quick, waits } from './activities.ts';
import { assertSafeAmendment } from './amend.ts';
import { clusterRollout, type ClusterRolloutResult } from './cluster-rollout.ts';
import { canaryManifests, CANARY_SERVICE } from './mesh-manifests.ts';
import {
  ContinueAsNewNeeded,
  DEFAULT_PAUSE_LIMITS,
  initialSteps,
  RolloutAborted,
  StepRunner,
  type PauseLimits,
  type StepRunnerState,
} from './step-runner.ts';
import { mergeValues, peerValues } from './values.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export interface MeshRolloutInput {
  rolloutId: string;
  plan: RolloutPlan;
  requestedBy: ActorInput;
  /** route each cluster to its site's task queue (workers started with --site); default: one queue for all */
  siteQueues?: boolean;
  bootOverride?: 'none' | 'manual';
  limits?: PauseLimits;
  carried?: {
    startedAt: string;
    runner: StepRunnerState;
    results: ClusterRolloutResult[];
    meshCaRef?: string;
  };
}

export interface MeshRolloutResult {
  id: string;
  mesh: string;
  state: RunState;
  clusters: Array<{ name: string; state: RunState; apiserverAddress?: string; error?: string }>;
  error?: string;
}

export async function meshRollout(input: MeshRolloutInput): Promise<MeshRolloutResult> {
  let plan = input.plan;
  const info = workflowInfo();
  const startedAt = input.carried?.startedAt ?? new Date(info.startTime.getTime()).toISOString();
  const runnerState: StepRunnerState = input.carried?.runner ?? {
    steps: initialSteps(MESH_STEPS),
    actions: [],
  };
  let results: ClusterRolloutResult[] = input.carried?.results ?? [];
  let meshCaRef = input.carried?.meshCaRef;
  const clusterBlocked = new Map<string, BlockedSummary>();
  let state: RunState = 'running';
  let error: string | undefined;
  let updatedAt = startedAt;
  const sa = new SearchAttributeTracker();
  const childId = (name: string) => clusterWorkflowId(info.workflowId, name);

  const blockedSummary = (): BlockedSummary | undefined => {
    const own = runner.blockedStep();
    if (own?.blocked) {
      return { step: own.name, reason: own.blocked.reason, hint: own.blocked.hint, since: own.blocked.since, overridable: own.blocked.overridable, skippable: own.blocked.skippable };
    }
    return [...clusterBlocked.values()][0];
  };

  const onChange = () => {
    updatedAt = new Date().toISOString();
    const blocked = blockedSummary();
    if (state === 'running' || state === 'paused') state = blocked ? 'paused' : 'running';
    sa.update({ state, blockedStep: blocked ? `${blocked.cluster ?? 'mesh'}/${blocked.step}` : 'none' });
    const clusterLines = plan.clusters.map((c) => {
      const r = results.find((x) => x.cluster === c.name);
      const b = clusterBlocked.get(c.name);
      const s = r?.state ?? (b ? 'paused' : state === 'aborted' ? 'aborted' : 'running');
      const head = `- **${c.name}** (id ${c.id}, ${c.site}): ${s}${r?.outputs.apiserverAddress ? `, clustermesh-apiserver ${r.outputs.apiserverAddress}` : ''} — \`${childId(c.name)}\``;
      return b ? `${head} — ⏸ paused at ${b.step}` : head;
    });
    const pauses = [...clusterBlocked.values()].flatMap((b) => [
      '',
      `#### ⏸ ${b.cluster} paused at ${b.step} since ${b.since}`,
      '',
      `**Reason:** ${b.reason}`,
      '',
      `**Hint:** ${b.hint}`,
      '',
      `**Act:** on that cluster's workflow \`${childId(b.cluster ?? '')}\`, or \`meshpilot resume ${info.workflowId}\` (routes it there).`,
    ]);
    showDetails([`## Mesh ${plan.mesh}: ${state}`, '', ...clusterLines, ...pauses, '', stepsTable('Mesh phase', runnerState.steps, info.workflowId)].join('\n'));
  };

  const runner = new StepRunner(runnerState, MESH_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, onChange);

  const status = (): MeshRolloutStatus => ({
    id: input.rolloutId,
    mesh: plan.mesh,
    revision: plan.revision,
    state,
    startedAt,
    updatedAt,
    clusters: plan.clusters.map((c) => {
      const r = results.find((x) => x.cluster === c.name);
      const b = clusterBlocked.get(c.name);
      return { name: c.name, workflowId: childId(c.name), state: r?.state ?? (b ? 'paused' : state === 'aborted' ? 'aborted' : 'running'), blocked: b };
    }),
    meshSteps: runnerState.steps,
    actions: runnerState.actions,
    startedBy: { by: input.requestedBy.by, via: input.requestedBy.via ?? 'api' },
    error,
  });

  // Handlers first. Mesh-phase steps are resumed here; a paused cluster step is resumed on its child workflow
  // (the client routes it there), so validators always judge the state of the workflow that owns the step.
  setHandler(meshStatusQuery, status);
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: runner.resume(i) }), { validator: (i) => runner.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: runner.skip(i) }), { validator: (i) => runner.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: runner.override(i) }), { validator: (i) => runner.validateOverride(i) });
  setHandler(
    abortUpdate,
    async (i) => {
      const message = runner.abort(i);
      await Promise.all(
        plan.clusters
          .filter((c) => !results.some((r) => r.cluster === c.name))
          .map((c) => getExternalWorkflowHandle(childId(c.name)).signal(abortClusterSignal, i).catch(() => undefined)),
      );
      return { accepted: true, message };
    },
    { validator: (i) => runner.validateAbort(i) },
  );
  setHandler(
    amendUpdate,
    async (i) => {
      const previous = plan;
      plan = i.plan;
      runner.record('amend', { ...i, reason: i.reason ?? `revision ${previous.revision} → ${plan.revision}` });
      await Promise.all(
        plan.clusters
          .filter((c) => !results.some((r) => r.cluster === c.name))
          .map((c) =>
            getExternalWorkflowHandle(childId(c.name))
              .signal(amendClusterSignal, { plan: c, actor: { by: i.by, via: i.via, reason: i.reason } })
              .catch(() => undefined),
          ),
      );
      runner.recheckNow();
      return { accepted: true, message: `amended to revision ${plan.revision}; paused steps re-check now` };
    },
    {
      validator: (i) => {
        if (state !== 'running' && state !== 'paused') throw refused(`the rollout is ${state}; amend applies to a running rollout`);
        assertSafeAmendment(plan, i.plan);
      },
    },
  );
  setHandler(clusterBlockedSignal, ({ cluster, blocked }) => {
    if (blocked) clusterBlocked.set(cluster, blocked);
    else clusterBlocked.delete(cluster);
    onChange();
  });

  onChange();
  try {
    await runner.run('mesh-ca', async () => {
      meshCaRef = (await act(quick.ensureMeshCa, `${plan.mesh}: shared ClusterMesh CA (once, ever)`, { mesh: plan.mesh })).caRef;
    });
    if (results.length < plan.clusters.length) results = await runClusters(required(meshCaRef));
    onChange();
    const unfinished = results.filter((r) => r.state !== 'completed');
    if (unfinished.length > 0) {
      state = unfinished.some((r) => r.state === 'aborted') || runner.aborted ? 'aborted' : 'failed';
      error = unfinished.map((r) => `${r.cluster}: ${r.state}${r.error ? ` (${r.error})` : ''}`).join('; ');
    } else {
      await runMeshPhase();
      state = 'completed';
    }
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof meshRollout>({ ...input, plan, carried: { startedAt, runner: runnerState, results, meshCaRef } });
    }
    if (err instanceof RolloutAborted) state = 'aborted';
    else {
      state = 'failed';
      error = runnerState.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message;
    }
  }
  clusterBlocked.clear();
  onChange();
  await condition(allHandlersFinished);
  return {
    id: input.rolloutId,
    mesh: plan.mesh,
    state,
    clusters: plan.clusters.map((c) => {
      const r = results.find((x) => x.cluster === c.name);
      return { name: c.name, state: r?.state ?? 'aborted', apiserverAddress: r?.outputs.apiserverAddress, error: r?.error };
    }),
    error,
  };

  async function runClusters(caRef: string): Promise<ClusterRolloutResult[]> {
    const handles = await Promise.all(
      plan.clusters.map((c) =>
        startChild(clusterRollout, {
          workflowId: childId(c.name),
          taskQueue: input.siteQueues ? siteTaskQueue(c.site) : undefined,
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          staticSummary: `${plan.mesh}: cluster ${c.name} (id ${c.id}, ${c.site})`,
          staticDetails: [
            `Cluster **${c.name}** of mesh **${plan.mesh}** (rollout \`${info.workflowId}\`), id ${c.id}, site ${c.site}, endpoint ${c.endpoint}.`,
            '',
            ...c.nodes.map((n) => `- ${n.name} (${n.role}) ${n.address}`),
            '',
            'A paused step of this cluster is resumed here: More Actions → Send an Update → `resume` with `{"by":"you","reason":"..."}`, or `meshpilot resume ' + info.workflowId + '`.',
          ].join('\n'),
          typedSearchAttributes: [
            { key: SA.mesh, value: plan.mesh },
            { key: SA.cluster, value: c.name },
            { key: SA.kind, value: 'cluster-rollout' },
            { key: SA.state, value: 'running' },
          ],
          args: [
            {
              mesh: plan.mesh,
              rolloutId: input.rolloutId,
              parentWorkflowId: info.workflowId,
              plan: c,
              meshCaRef: caRef,
              bootOverride: input.bootOverride,
              limits: input.limits,
            },
          ],
        }),
      ),
    );
    return Promise.all(
      handles.map(async (h) => {
        const r = await h.result();
        results = [...results.filter((x) => x.cluster !== r.cluster), r];
        clusterBlocked.delete(r.cluster);
        onChange();
        return r;
      }),
    );
  }

  async function runMeshPhase(): Promise<void> {
    const caRef = required(meshCaRef);
    const clusters = () =>
      plan.clusters.map((c) => {
        const r = results.find((x) => x.cluster === c.name);
        return { plan: c, kubeconfigRef: required(r?.outputs.kubeconfigRef), address: required(r?.outputs.apiserverAddress) };
      });
    const apiservers = () => clusters().map((c) => ({ name: c.plan.name, address: c.address }));

    await runner.run('connect', async () => {
      if (plan.meshPhase.method === 'cilium-connect') {
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
          act(waits.ensureCilium, `${c.plan.name}: helm upgrade cilium with clustermesh.config.clusters = the other ${plan.clusters.length - 1}`, {
            kubeconfigRef: c.kubeconfigRef,
            chartVersion: c.plan.cilium.chartVersion,
            values: mergeValues(c.plan.cilium.values, c.plan.cilium.clustermeshValues, peerValues(c.plan.name, apiservers())),
            secretValuesRefs: [caRef],
          }),
        ),
      );
    });

    await runner.run('mesh-verify', async () => {
      await Promise.all(
        clusters().map((c) =>
          act(waits.clustermeshStatus, `${c.plan.name}: cilium clustermesh status -o json (all peers connected)`, {
            kubeconfigRef: c.kubeconfigRef,
            expectPeers: plan.clusters.filter((o) => o.name !== c.plan.name).map((o) => o.name),
          }),
        ),
      );
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
            remotePodCidrs: plan.clusters.filter((o) => o.name !== c.plan.name).flatMap((o) => o.podCidrs),
          }),
        ),
      );
    });

    await runner.run('apply-manifests', async () => {
      await Promise.all(
        clusters().map(async (c) => {
          const own = plan.meshPhase.manifestsByCluster[c.plan.name];
          const manifests = [own?.globalServices ?? '', own?.policies ?? ''].filter((m) => m.trim() !== '').join('\n---\n');
          if (manifests !== '') await act(quick.applyManifests, `${c.plan.name}: apply global services and policies`, { kubeconfigRef: c.kubeconfigRef, manifests });
        }),
      );
    });
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw fatal('internal: a cluster finished without its outputs');
  return value;
}
