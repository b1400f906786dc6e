// One cluster, bare metal to a ClusterMesh-ready Cilium: resumable steps, each idempotent, pausing when blocked.
import { condition, continueAsNew, allHandlersFinished, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ClusterPlan } from '../blueprint/plan.ts';
import { GOLDEN_RULE_ETCD_RTT_MS } from '../blueprint/limits.ts';
import { fatal } from '../contracts/failures.ts';
import { abortClusterSignal, amendClusterSignal, clusterBlockedSignal, clusterStatusQuery, overrideUpdate, resumeUpdate, skipUpdate, type ActorInput } from '../contracts/messages.ts';
import { blockedSummaryOf, type ClusterStatus, type RunState } from '../contracts/status.ts';
import { CLUSTER_STEPS, DEFAULT_PAUSE_LIMITS, type PauseLimits } from '../contracts/steps.ts';
import { helmValuesAt } from '../blueprint/render/step-artifacts.ts';
import { act, quick, waits } from './activities.ts';
import { ContinueAsNewNeeded, initialSteps, RolloutAborted, StepRunner, type StepRunnerState } from './step-runner.ts';
import { SearchAttributeTracker, showDetails, stepsTable } from './visibility.ts';

export interface ClusterOutputs {
  secretsRef?: string;
  talosconfigRef?: string;
  controlplaneRef?: string;
  workerRef?: string;
  kubeconfigRef?: string;
  apiserverAddress?: string;
}

export interface ClusterRolloutInput {
  mesh: string;
  rolloutId: string;
  parentWorkflowId: string;
  plan: ClusterPlan;
  meshCaRef: string;
  /** the lab has no BMCs: nodes start in maintenance mode */
  bootOverride?: 'none' | 'manual';
  limits?: PauseLimits;
  /**
   * The cluster already runs in the live mesh (read at mesh-preflight): nothing is built or re-applied. Only the
   * read-only steps run (tools, Cilium ready, the clustermesh-apiserver's address) and lb-ipam re-applies the pool
   * without its canary; its peer list changes once, in the mesh phase.
   */
  member?: { kubeconfigRef: string; note: string; talosconfigRef?: string };
  /** set when the run continues as new: where the previous run stopped */
  carried?: { runner: StepRunnerState; outputs: ClusterOutputs };
}

export interface ClusterRolloutResult {
  cluster: string;
  state: RunState;
  outputs: ClusterOutputs;
  error?: string;
}

export async function clusterRollout(input: ClusterRolloutInput): Promise<ClusterRolloutResult> {
  let plan = input.plan;
  const outputs: ClusterOutputs = { ...input.carried?.outputs };
  const runnerState: StepRunnerState = input.carried?.runner ?? { steps: initialSteps(CLUSTER_STEPS), actions: [] };
  let state: RunState = 'running';
  let error: string | undefined;
  let lastBlockedKey = '';
  const sa = new SearchAttributeTracker();
  const parent = getExternalWorkflowHandle(input.parentWorkflowId);

  const status = (): ClusterStatus => ({
    name: plan.name,
    workflowId: workflowInfo().workflowId,
    role: input.member ? 'member' : 'new',
    state,
    step: runner.currentStep()?.name ?? 'preflight',
    steps: runnerState.steps,
    actions: runnerState.actions,
    outputs: { apiserverAddress: outputs.apiserverAddress, kubeconfigRef: outputs.kubeconfigRef },
    error,
  });

  const onChange = () => {
    const blocked = runner.blockedStep();
    if (state === 'running' || state === 'paused') state = blocked ? 'paused' : 'running';
    sa.update({ state, blockedStep: blocked ? `${plan.name}/${blocked.name}` : 'none' });
    showDetails(stepsTable(`${plan.name} (cluster id ${plan.id}, site ${plan.site})`, runnerState.steps, workflowInfo().workflowId));
    const key = blocked ? `${blocked.name}:${blocked.blocked?.reason}` : '';
    if (key !== lastBlockedKey) {
      lastBlockedKey = key;
      const summary = (blocked && blockedSummaryOf(blocked, plan.name)) ?? null;
      parent.signal(clusterBlockedSignal, { cluster: plan.name, blocked: summary }).catch(() => {
        // the parent may already be closing (abort); the child's own status stays authoritative
      });
    }
  };

  const runner = new StepRunner(runnerState, CLUSTER_STEPS, input.limits ?? DEFAULT_PAUSE_LIMITS, onChange, plan.name);

  // Handlers first: an update that arrives with the first task must find them.
  setHandler(clusterStatusQuery, status);
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: runner.resume(i) }), { validator: (i) => runner.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: runner.skip(i) }), { validator: (i) => runner.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: runner.override(i) }), {
    validator: (i) => runner.validateOverride(i),
  });
  setHandler(abortClusterSignal, (i) => {
    if (!runner.aborted) runner.abort(i);
  });
  setHandler(amendClusterSignal, ({ plan: next, actor }: { plan: ClusterPlan; actor: ActorInput }) => {
    plan = next;
    runner.record('amend', actor, runner.blockedStep()?.name);
    runner.recheckNow();
  });

  const controlPlanes = () => plan.nodes.filter((n) => n.role === 'controlplane');
  const firstCp = () => {
    const cp = controlPlanes()[0];
    if (!cp) throw fatal(`cluster ${plan.name} has no control-plane node`);
    return cp;
  };
  const talosconfigRef = () => required(outputs.talosconfigRef, 'talosconfig');

  onChange();
  try {
    await runSteps();
    state = 'completed';
  } catch (err) {
    if (err instanceof ContinueAsNewNeeded) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof clusterRollout>({ ...input, plan, carried: { runner: runnerState, outputs } });
    }
    if (err instanceof RolloutAborted) state = 'aborted';
    else {
      state = 'failed';
      error = runnerState.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message;
    }
  }
  onChange();
  await condition(allHandlersFinished);
  return { cluster: plan.name, state, outputs, error };

  async function runSteps(): Promise<void> {
    if (input.member) return runMemberSteps(input.member);
    const nodes = () => plan.nodes;
    // The role configs carry the first node's disk; a node with another one gets a per-node patch at apply time.
    const clusterDisk = plan.nodes[0]?.installDisk ?? '/dev/sda';
    const kubeconfigRef = () => required(outputs.kubeconfigRef, 'kubeconfig');

    await runner.run('preflight', async () => {
      await act(quick.preflightCluster, `${plan.name}: talosctl/helm/kubectl/cilium present, talosctl matches Talos ${plan.talos.version}`, {
        cluster: plan.name,
        talosVersion: plan.talos.version,
        ciliumVersion: plan.cilium.version,
      });
    });

    await runner.run('boot', async () => {
      const provider = input.bootOverride ?? plan.boot.provider;
      if (provider === 'redfish') {
        await Promise.all(
          nodes().map(async (n) => {
            const { stage } = await act(quick.nodeStage, `${n.name} (${n.address}): Talos stage`, { address: n.address });
            if (stage !== 'unreachable' && stage !== 'unknown' && stage !== 'booting') return; // already booted or installed: never re-trigger the BMC
            if (!n.bmc) throw fatal(`node ${n.name} has no BMC in the blueprint`, 'add nodes[].bmc or use boot.provider manual/none');
            if (!plan.boot.imageUrl) throw fatal(`cluster ${plan.name}: boot.imageUrl is required for redfish boot`);
            await act(waits.bootNodeIntoInstaller, `${n.name}: BMC ${n.bmc.endpoint} boots the Talos installer`, {
              node: n.name,
              bmc: n.bmc,
              imageUrl: plan.boot.imageUrl,
              bootMode: plan.boot.bootMode ?? 'virtualmedia',
            });
          }),
        );
      }
      await act(waits.awaitNodesBooted, `${plan.name}: ${nodes().length} nodes answer in Talos maintenance mode (${provider})`, {
        cluster: plan.name,
        provider,
        nodes: nodes().map((n) => ({ name: n.name, address: n.address })),
      });
    });

    await runner.run('talos-config', async () => {
      const secrets = await act(quick.ensureTalosSecrets, `${plan.name}: talosctl gen secrets (once, ever)`, { mesh: input.mesh, cluster: plan.name, talosVersion: plan.talos.version });
      outputs.secretsRef = secrets.secretsRef;
      const configs = await act(quick.genMachineConfigs, `${plan.name}: talosctl gen config + validate -m metal`, {
        mesh: input.mesh,
        cluster: plan.name,
        endpoint: plan.endpoint,
        talosVersion: plan.talos.version,
        kubernetesVersion: plan.talos.kubernetesVersion,
        installDisk: clusterDisk,
        installImage: plan.talos.installImage,
        patches: plan.talos.patches,
      });
      Object.assign(outputs, configs);
    });

    await runner.run('apply-config', async () => {
      await Promise.all(
        nodes().map((n) =>
          act(quick.applyMachineConfig, `${n.name} (${n.address}): talosctl apply-config --insecure${n.installDisk !== clusterDisk ? ` (disk ${n.installDisk})` : ''}`, {
            address: n.address,
            nodeName: n.name,
            configRef: required(n.role === 'controlplane' ? outputs.controlplaneRef : outputs.workerRef, `${n.role} config`),
            ...(n.installDisk !== clusterDisk ? { installDisk: n.installDisk } : {}),
          }),
        ),
      );
      await Promise.all(nodes().map((n) => act(waits.waitNodeRunning, `${n.name} (${n.address}): installed and running`, { address: n.address, nodeName: n.name, talosconfigRef: talosconfigRef() })));
    });

    await runner.run('bootstrap', async () => {
      await act(quick.bootstrapEtcd, `${plan.name}: talosctl bootstrap on ${firstCp().name} (exactly once)`, { cluster: plan.name, address: firstCp().address, talosconfigRef: talosconfigRef() });
    });

    await runner.run('kubeconfig', async () => {
      const kc = await act(quick.fetchKubeconfig, `${plan.name}: talosctl kubeconfig into the secret store`, {
        mesh: input.mesh,
        cluster: plan.name,
        address: firstCp().address,
        talosconfigRef: talosconfigRef(),
      });
      outputs.kubeconfigRef = kc.kubeconfigRef;
    });

    await etcdLatencyStep();

    await runner.run('cilium-install', async () => {
      await act(waits.ensureCilium, `${plan.name}: helm upgrade --install cilium ${plan.cilium.chartVersion} (no clustermesh LB yet)`, {
        kubeconfigRef: kubeconfigRef(),
        chartVersion: plan.cilium.chartVersion,
        values: helmValuesAt['cilium-install'](plan.cilium),
        secretValuesRefs: [input.meshCaRef],
      });
    });

    await runner.run('cilium-ready', async () => {
      await act(waits.ciliumReady, `${plan.name}: cilium status --wait`, { kubeconfigRef: kubeconfigRef() });
    });

    await runner.run('lb-ipam', async () => {
      await act(waits.ensureLbIpam, `${plan.name}: LB pool + L2 policy; a canary LoadBalancer gets an announced IP`, {
        kubeconfigRef: kubeconfigRef(),
        manifests: plan.lbIpam.manifests,
        canary: true,
      });
    });

    await runner.run('clustermesh-enable', async () => {
      await act(waits.ensureCilium, `${plan.name}: helm upgrade cilium with the clustermesh-apiserver LoadBalancer`, {
        kubeconfigRef: kubeconfigRef(),
        chartVersion: plan.cilium.chartVersion,
        values: helmValuesAt['clustermesh-enable'](plan.cilium),
        secretValuesRefs: [input.meshCaRef],
      });
    });

    await runner.run('clustermesh-address', async () => {
      const { address } = await act(waits.clustermeshApiserverAddress, `${plan.name}: clustermesh-apiserver Service has an address`, { kubeconfigRef: kubeconfigRef() });
      outputs.apiserverAddress = address;
    });
  }

  /** The Golden Rule gate; read-only (talosctl etcd members, metrics), so a kept member is held to it too. */
  async function etcdLatencyStep(): Promise<void> {
    await runner.run('etcd-latency', async () => {
      const members = await act(quick.etcdMembers, `${plan.name}: talosctl etcd members`, { address: firstCp().address, talosconfigRef: talosconfigRef() });
      const waiver = plan.etcd.waiver;
      const gate = await act(waits.etcdLatencyGate, `${plan.name}: etcd peer round-trip p99 ≤ ${plan.etcd.latencyBudgetMs} ms${waiver ? ` (waived above ${GOLDEN_RULE_ETCD_RTT_MS} ms)` : ''}`, {
        cluster: plan.name,
        members: controlPlanes().map((n) => ({
          name: n.name,
          address: n.address,
          memberId: members.find((m) => m.hostname === n.name || m.peerUrls.some((u) => u.includes(`//${n.address}:`)))?.id,
        })),
        metricsPort: plan.etcd.metricsPort,
        budgetMs: plan.etcd.latencyBudgetMs,
      });
      // Passed only because the blueprint's waiver raised the budget: say so on the step and in the audit.
      if (waiver && gate.worstP99Ms > GOLDEN_RULE_ETCD_RTT_MS) {
        const note = `WAIVED: peer p99 ${gate.worstP99Ms} ms is above the Golden Rule's ${GOLDEN_RULE_ETCD_RTT_MS} ms, within the blueprint's ${plan.etcd.latencyBudgetMs} ms budget: ${waiver}`;
        runner.step('etcd-latency').note = note;
        runner.record('waiver', { by: `blueprint revision ${input.rolloutId}`, via: 'blueprint', reason: note }, 'etcd-latency');
      }
    });
  }

  /** A live member: what exists is kept (no Talos change, no Cilium install; its etcd gate is re-checked); what the mesh phase needs is read. */
  async function runMemberSteps(member: NonNullable<ClusterRolloutInput['member']>): Promise<void> {
    const kept = `kept: ${member.note}`;
    outputs.kubeconfigRef = member.kubeconfigRef;
    if (member.talosconfigRef) outputs.talosconfigRef = member.talosconfigRef;
    await runner.run('preflight', async () => {
      await act(quick.preflightCluster, `${plan.name}: talosctl/helm/kubectl/cilium present, talosctl matches Talos ${plan.talos.version}`, {
        cluster: plan.name,
        talosVersion: plan.talos.version,
        ciliumVersion: plan.cilium.version,
      });
    });
    for (const step of ['boot', 'talos-config', 'apply-config', 'bootstrap', 'kubeconfig'] as const) runner.keep(step, kept);
    if (member.talosconfigRef) await etcdLatencyStep();
    else runner.keep('etcd-latency', `${kept} (no talosconfig in the secret store to read its etcd with)`);
    runner.keep('cilium-install', kept);
    await runner.run('cilium-ready', async () => {
      await act(waits.ciliumReady, `${plan.name}: cilium status --wait (a member's agents are ready before its peer list changes)`, { kubeconfigRef: member.kubeconfigRef });
    });
    await runner.run('lb-ipam', async () => {
      await act(waits.ensureLbIpam, `${plan.name}: the blueprint's LB pool and L2 policy (re-applied, no canary)`, {
        kubeconfigRef: member.kubeconfigRef,
        manifests: plan.lbIpam.manifests,
        canary: false,
      });
    });
    runner.keep('clustermesh-enable', kept);
    await runner.run('clustermesh-address', async () => {
      const { address } = await act(waits.clustermeshApiserverAddress, `${plan.name}: clustermesh-apiserver Service has an address`, { kubeconfigRef: member.kubeconfigRef });
      outputs.apiserverAddress = address;
    });
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw fatal(`internal: ${what} is not known yet (an earlier step did not record it)`);
  return value;
}
