// One cluster's upgrade, as planned (blueprint/upgrade/plan.ts): Talos node by node — control planes one at a time
// between etcd gates, then workers — then Kubernetes, then Cilium. A step per node, so the status and the UI show
// which node is being upgraded, and a pause names it. Every step is idempotent: a resumed or re-run upgrade skips
// what is already at its version.
import { allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ClusterPlan } from '../blueprint/plan.ts';
import type { ClusterUpgradePlan } from '../blueprint/upgrade/plan.ts';
import type { ClusterRefs } from '../blueprint/upgrade/survey.ts';
import { fatal } from '../contracts/failures.ts';
import { abortClusterSignal, clusterBlockedSignal, clusterStatusQuery, overrideUpdate, resumeUpdate, skipUpdate } from '../contracts/messages.ts';
import { blockedSummaryOf, type ClusterStatus, type RunState, type StepStatus } from '../contracts/status.ts';
import { DEFAULT_PAUSE_LIMITS, UPGRADE_CLUSTER_STEPS, type PauseLimits, type UpgradeClusterStepName } from '../contracts/steps.ts';
import { act, quick, waits } from './activities.ts';
import { ContinueAsNewNeeded, RolloutAborted, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export interface ClusterUpgradeInput {
  mesh: string;
  upgradeId: string;
  parentWorkflowId: string;
  /** the cluster as the target blueprint revision plans it */
  cluster: ClusterPlan;
  upgrade: ClusterUpgradePlan;
  refs: ClusterRefs;
  limits?: PauseLimits;
  carried?: { runner: StepRunnerState };
}

export interface ClusterUpgradeResult {
  cluster: string;
  state: RunState;
  error?: string;
}

/** The plan's step instances as statuses: pending, in the plan's order. */
export function plannedSteps(steps: ReadonlyArray<{ name: StepStatus['name']; target?: string; title: string }>): StepStatus[] {
  return steps.map((s) => ({ name: s.name, ...(s.target !== undefined ? { target: s.target } : {}), title: s.title, state: 'pending', attempts: 0 }));
}

export async function clusterUpgrade(input: ClusterUpgradeInput): Promise<ClusterUpgradeResult> {
  const { cluster: c, upgrade: u, refs } = input;
  const runnerState: StepRunnerState = input.carried?.runner ?? { steps: plannedSteps(u.steps), actions: [] };
  let state: RunState = 'running';
  let error: string | undefined;
  let lastBlockedKey = '';
  const sa = new SearchAttributeTracker();
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);

  const status = (): ClusterStatus => ({
    name: c.name,
    workflowId: workflowInfo().workflowId,
    state,
    step: runner.currentStep()?.name ?? 'not started',
    steps: runnerState.steps,
    actions: runnerState.actions,
    outputs: { kubeconfigRef: refs.kubeconfig },
    error,
  });

  const onChange = () => {
    const blocked = runner.blockedStep();
    if (state === 'running' || state === 'paused') state = blocked ? 'paused' : 'running';
    sa.update({ state, blockedStep: blocked ? `${c.name}/${blocked.name}${blocked.target ? ` ${blocked.target}` : ''}` : 'none' });
    showDetails(stepsTable(`${c.name}: upgrade${u.canary ? ' (canary)' : ''} — ${versionsLine(u)}`, runnerState.steps, workflowInfo().workflowId));
    const key = blocked ? `${blocked.name}:${blocked.target ?? ''}:${blocked.blocked?.reason}` : '';
    if (key !== lastBlockedKey) {
      lastBlockedKey = key;
      const summary = (blocked && blockedSummaryOf(blocked, c.name)) ?? null;
      parent.signal(clusterBlockedSignal, { cluster: c.name, blocked: summary }).catch(() => {
        // the parent may already be closing (abort); the child's own status stays authoritative
      });
    }
  };

  const runner = new StepRunner<UpgradeClusterStepName>(runnerState, UPGRADE_CLUSTER_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, onChange, c.name);

  // Handlers first: an update that arrives with the first task must find them.
  setHandler(clusterStatusQuery, status);
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: runner.resume(i) }), { validator: (i) => runner.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: runner.skip(i) }), { validator: (i) => runner.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: runner.override(i) }), { validator: (i) => runner.validateOverride(i) });
  setHandler(abortClusterSignal, (i) => {
    if (!runner.aborted) runner.abort(i);
  });

  onChange();
  try {
    await runSteps();
    state = 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof clusterUpgrade>({ ...input, carried: { runner: runnerState } });
    }
    if (err instanceof RolloutAborted) state = 'aborted';
    else {
      state = 'failed';
      error = runnerState.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message;
    }
  }
  onChange();
  await condition(allHandlersFinished);
  return { cluster: c.name, state, error };

  async function runSteps(): Promise<void> {
    const cps = c.nodes.filter((n) => n.role === 'controlplane').map((n) => ({ name: n.name, address: n.address }));
    const nodeOf = (name: string | undefined) => {
      const n = c.nodes.find((x) => x.name === name);
      if (!n) throw fatal(`internal: the upgrade plan names node ${name ?? '(none)'}, which ${c.name} does not have`);
      return n;
    };
    const gate = (phase: 'before' | 'after', node: string) =>
      act(waits.etcdUpgradeGate, `${c.name}: etcd healthy ${phase === 'before' ? `before ${node} goes down` : `after ${node}'s upgrade`}`, {
        cluster: c.name,
        node,
        phase,
        controlPlanes: cps,
        talosconfigRef: refs.talosconfig,
        metricsPort: c.etcd.metricsPort,
        budgetMs: c.etcd.latencyBudgetMs,
      });

    for (const s of [...runnerState.steps]) {
      const name = s.name as UpgradeClusterStepName;
      await runner.run(
        name,
        async () => {
          switch (name) {
            case 'upgrade-preflight':
              await act(quick.preflightCluster, `${c.name}: tools present, talosctl at Talos ${c.talos.version}`, { cluster: c.name, talosVersion: c.talos.version, ciliumVersion: c.cilium.version });
              return;
            case 'etcd-gate-before':
              await gate('before', nodeOf(s.target).name);
              return;
            case 'etcd-gate-after':
              await gate('after', nodeOf(s.target).name);
              return;
            case 'talos-upgrade': {
              const n = nodeOf(s.target);
              const talos = u.talos ?? { to: c.talos.version, image: c.talos.installImage ?? `ghcr.io/siderolabs/installer:${c.talos.version}` };
              await act(waits.upgradeTalosNode, `${n.name} (${n.address}): talosctl upgrade --image ${talos.image}, back on ${talos.to} and Ready`, {
                cluster: c.name,
                node: n.name,
                address: n.address,
                role: n.role,
                version: talos.to,
                image: talos.image,
                talosconfigRef: refs.talosconfig,
                kubeconfigRef: refs.kubeconfig,
              });
              return;
            }
            case 'kubernetes-upgrade':
              await act(waits.upgradeKubernetes, `${c.name}: talosctl upgrade-k8s --to ${c.talos.kubernetesVersion}`, {
                cluster: c.name,
                to: c.talos.kubernetesVersion,
                controlPlanes: cps,
                talosconfigRef: refs.talosconfig,
                kubeconfigRef: refs.kubeconfig,
              });
              return;
            case 'cilium-upgrade': {
              if (!u.cilium) throw fatal(`internal: ${c.name} has a cilium-upgrade step but no Cilium in its upgrade plan`);
              await act(waits.ensureCilium, `${c.name}: helm upgrade cilium ${u.cilium.from} → ${u.cilium.to} (upgradeCompatibility ${u.cilium.upgradeCompatibility})`, {
                kubeconfigRef: refs.kubeconfig,
                chartVersion: u.cilium.to,
                values: u.cilium.values,
                secretValuesRefs: [refs.meshCa],
              });
              return;
            }
            case 'cilium-verify':
              await act(waits.ciliumAtVersion, `${c.name}: cilium status: every component at ${c.cilium.chartVersion}`, { cluster: c.name, kubeconfigRef: refs.kubeconfig, version: c.cilium.chartVersion });
              return;
          }
        },
        s.target,
      );
    }
  }
}

function versionsLine(u: ClusterUpgradePlan): string {
  return [
    u.talos ? `Talos → ${u.talos.to} on ${u.talos.nodes.length} node(s)` : undefined,
    u.kubernetes ? `Kubernetes ${u.kubernetes.from} → ${u.kubernetes.to}` : undefined,
    u.cilium ? `Cilium ${u.cilium.from} → ${u.cilium.to}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}
