// `meshpilot upgrade`: survey the live versions, plan the path (refusing one the tools do not support), then one
// cluster at a time — the canary first — a clusterUpgrade child (Talos node by node, Kubernetes, Cilium), and after
// each cluster the mesh must still be whole (mesh-verify, global-canary) before the next one starts.
import { allHandlersFinished, condition, continueAsNew, ParentClosePolicy, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { planUpgrade, UpgradeRefusedError } from '../blueprint/upgrade/plan.ts';
import type { MeshSurvey } from '../blueprint/upgrade/survey.ts';
import { fatal } from '../contracts/failures.ts';
import { abortUpdate, amendUpdate, clusterBlockedSignal, meshStatusQuery, overrideUpdate, resumeUpdate, skipUpdate, upgradePlanQuery } from '../contracts/messages.ts';
import { RUN_KIND, SA, siteTaskQueue } from '../contracts/names.ts';
import { DEFAULT_PAUSE_LIMITS } from '../contracts/steps.ts';
import { act, quick } from './activities.ts';
import { clusterUpgrade } from './cluster-upgrade.ts';
import { verifyGlobalCanaryEverywhere, verifyMeshConnected, type MeshMember } from './mesh-checks.ts';
import { ContinueAsNewNeeded, RolloutAborted } from './step-runner.ts';
import { MeshUpgradeState, type MeshUpgradeInput, type MeshUpgradeResult } from './upgrade-state.ts';

export type { MeshUpgradeInput, MeshUpgradeResult } from './upgrade-state.ts';

export async function meshUpgrade(input: MeshUpgradeInput): Promise<MeshUpgradeResult> {
  const m = new MeshUpgradeState(input);
  const { runner } = m;

  setHandler(meshStatusQuery, () => m.status());
  setHandler(upgradePlanQuery, () => ({ survey: m.survey, plan: m.upgrade }));
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: runner.resume(i) }), { validator: (i) => runner.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: runner.skip(i) }), { validator: (i) => runner.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: runner.override(i) }), { validator: (i) => runner.validateOverride(i) });
  setHandler(abortUpdate, (i) => m.abort(i), { validator: (i) => runner.validateAbort(i) });
  setHandler(amendUpdate, (_i) => ({ accepted: true, message: 'refused' }), { validator: (_i) => m.validateAmend() });
  setHandler(clusterBlockedSignal, ({ cluster, blocked }) => m.clusterBlockedChanged(cluster, blocked));

  m.changed();
  try {
    await runner.run('survey', async () => {
      const survey = await surveyMesh(input);
      const upgrade = planUpgrade(m.plan, survey);
      if (upgrade.refusals.length) {
        const e = new UpgradeRefusedError(upgrade.refusals);
        throw fatal(e.message, 'nothing was changed: upgrade through each intermediate version, one blueprint revision and one meshpilot upgrade per step');
      }
      m.planned(survey, upgrade);
    });
    await upgradeClusters(m, input);
    m.state = runner.aborted ? 'aborted' : m.state === 'failed' || m.state === 'aborted' ? m.state : 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof meshUpgrade>({ ...input, carried: m.carried() });
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

/** The same read-only survey `meshpilot upgrade --plan` runs (workflows/upgrade-survey.ts). */
export async function surveyMesh(input: { plan: MeshUpgradeInput['plan']; siteQueues?: boolean }): Promise<MeshSurvey> {
  const { plan } = input;
  const clusters = await Promise.all(
    plan.clusters.map((c) =>
      act(
        quick.surveyCluster,
        `${c.name}: live versions of ${c.nodes.length} node(s), Kubernetes and Cilium`,
        { mesh: plan.mesh, cluster: c.name, nodes: c.nodes.map((n) => ({ name: n.name, address: n.address, role: n.role })) },
        input.siteQueues ? siteTaskQueue(c.site) : undefined,
      ),
    ),
  );
  return { mesh: plan.mesh, clusters };
}

/** One cluster at a time in the plan's order; after each, the whole mesh is verified. */
async function upgradeClusters(m: MeshUpgradeState, input: MeshUpgradeInput): Promise<void> {
  const u = m.upgrade;
  const survey = m.survey;
  if (!u || !survey) throw fatal('internal: the upgrade has no plan after its survey');
  const limits = input.limits ?? DEFAULT_PAUSE_LIMITS;
  const members: MeshMember[] = m.plan.clusters.map((c) => ({
    name: c.name,
    kubeconfigRef: survey.clusters.find((s) => s.cluster === c.name)!.refs.kubeconfig,
    podCidrs: c.podCidrs,
    ...(input.siteQueues ? { taskQueue: siteTaskQueue(c.site) } : {}),
  }));
  for (const cu of u.clusters) {
    if (m.runner.aborted) throw new RolloutAborted(m.runner.state.abortedBy?.reason ?? 'aborted');
    const done = m.results.find((r) => r.cluster === cu.name);
    if (!done) {
      const r = await runCluster(m, input, cu.name);
      if (r.state !== 'completed') {
        m.state = r.state === 'aborted' || m.runner.aborted ? 'aborted' : 'failed';
        m.error = `${r.cluster}: ${r.state}${r.error ? ` (${r.error})` : ''}`;
        return;
      }
    } else if (done.state !== 'completed') {
      m.state = done.state === 'aborted' ? 'aborted' : 'failed';
      return;
    }
    if (members.length > 1) {
      await m.runner.run('mesh-verify', () => verifyMeshConnected(members, `after ${cu.name}'s upgrade`), cu.name);
      await m.runner.run('global-canary', () => verifyGlobalCanaryEverywhere(members), cu.name);
    }
    // between clusters no child runs: the safe moment to start a fresh history (state carried)
    if (workflowInfo().historyLength > limits.maxHistoryEvents || workflowInfo().continueAsNewSuggested) {
      throw new ContinueAsNewNeeded(`history has ${workflowInfo().historyLength} events`);
    }
  }
}

async function runCluster(m: MeshUpgradeState, input: MeshUpgradeInput, name: string) {
  const c = m.plan.clusters.find((x) => x.name === name)!;
  const cu = m.upgrade!.clusters.find((x) => x.name === name)!;
  const refs = m.survey!.clusters.find((s) => s.cluster === name)!.refs;
  m.current = name;
  m.changed();
  const handle = await startChild(clusterUpgrade, {
    workflowId: m.childId(name),
    taskQueue: input.siteQueues ? siteTaskQueue(c.site) : undefined,
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `${m.plan.mesh}: upgrade of ${name}${cu.canary ? ' (canary)' : ''}`,
    staticDetails: [
      `Upgrade of cluster **${name}** of mesh **${m.plan.mesh}** (upgrade \`${m.workflowId}\`), site ${c.site}.`,
      '',
      ...cu.steps.map((s) => `- ${s.name}${s.target ? ` ${s.target}` : ''}: ${s.details.join('; ')}`),
      '',
      `A paused step of this cluster is resumed here: More Actions → Send an Update → \`resume\` with \`{"by":"you","reason":"..."}\`, or \`meshpilot resume ${m.workflowId}\`.`,
    ].join('\n'),
    typedSearchAttributes: [
      { key: SA.mesh, value: m.plan.mesh },
      { key: SA.cluster, value: name },
      { key: SA.kind, value: RUN_KIND.clusterUpgrade },
      { key: SA.state, value: 'running' },
    ],
    args: [{ mesh: m.plan.mesh, upgradeId: input.upgradeId, parentWorkflowId: m.workflowId, cluster: c, upgrade: cu, refs, limits: input.limits }],
  });
  const r = await handle.result();
  m.clusterFinished(r);
  return r;
}
