// verifyMesh: a read-only health report of a rolled-out mesh. One small activity per check (per cluster where it
// applies), all in parallel; a check that errors becomes a `fail` verdict so it never hides the others. The run
// never pauses and never changes the fleet: remediation is offered, a person starts it.
import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { RolloutPlan } from '../blueprint/plan.ts';
import { findApplicationFailure } from '../contracts/failures.ts';
import { RUN_KIND, SA } from '../contracts/names.ts';
import { CANARY_SERVICE, pinnedApiserverIp } from '../blueprint/render/step-artifacts.ts';
import { showDetails } from './visibility.ts';
import { checks, outcome } from './verify/activities.ts';
import type { VerifyInput } from '../contracts/verify/input.ts';
import { countsOf, overallOf, reportTable, type CheckName, type DriftSummary, type Verdict, type VerifyReport } from '../contracts/verify/report.ts';

interface PlannedCheck {
  check: CheckName;
  cluster?: string;
  run: () => Promise<Verdict>;
}

/** The checks a plan implies, in a fixed order (history and reports read the same every run). */
export function plannedChecks(plan: RolloutPlan, source?: string, certs?: { warnDays?: number }): PlannedCheck[] {
  const mesh = plan.mesh;
  const base = (cluster: string) => ({ mesh, cluster, ...(source ? { source } : {}) });
  const out: PlannedCheck[] = [];
  for (const c of plan.clusters) {
    const others = plan.clusters.filter((o) => o.name !== c.name);
    const manifests = plan.meshPhase.manifestsByCluster[c.name] ?? { globalServices: '', policies: '' };
    const ranges = (x: typeof c) => ({ name: x.name, id: x.id, podCidrs: x.podCidrs, serviceCidrs: x.serviceCidrs });
    const pinned = pinnedApiserverIp(c.cilium);
    out.push(
      { check: 'clustermesh-status', cluster: c.name, run: () => checks.checkClustermeshStatus({ ...base(c.name), expectPeers: others.map((o) => o.name) }) },
      {
        check: 'mesh-addresses',
        cluster: c.name,
        run: () => checks.checkMeshAddresses({ ...base(c.name), l2: c.lbIpam.mode === 'l2', globalServices: manifests.globalServices, ...(pinned ? { pinnedApiserverIp: pinned } : {}) }),
      },
      { check: 'lb-pool', cluster: c.name, run: () => checks.checkLbPool({ ...base(c.name), manifests: c.lbIpam.manifests }) },
      {
        check: 'wireguard',
        cluster: c.name,
        run: () => checks.checkWireguard({ ...base(c.name), nodes: c.nodes.map((n) => n.name), required: plan.meshPhase.encryption === 'wireguard' }),
      },
      { check: 'cluster-identity', cluster: c.name, run: () => checks.checkClusterIdentity({ ...base(c.name), self: ranges(c), others: others.map(ranges) }) },
      {
        check: 'etcd-latency',
        cluster: c.name,
        run: () =>
          checks.checkEtcdLatency({
            ...base(c.name),
            members: c.nodes.filter((n) => n.role === 'controlplane').map((n) => ({ name: n.name, address: n.address })),
            metricsPort: c.etcd.metricsPort,
            budgetMs: c.etcd.latencyBudgetMs,
          }),
      },
      {
        check: 'global-canary',
        cluster: c.name,
        run: () => checks.checkGlobalCanary({ ...base(c.name), namespace: CANARY_SERVICE.namespace, name: CANARY_SERVICE.name, remotePodCidrs: others.flatMap((o) => o.podCidrs) }),
      },
      { check: 'hubble-relay', cluster: c.name, run: () => checks.checkHubbleRelay({ ...base(c.name), policies: manifests.policies }) },
    );
    if (certs) {
      out.push({ check: 'clustermesh-certs', cluster: c.name, run: () => checks.checkClustermeshCerts({ ...base(c.name), ...(certs.warnDays !== undefined ? { warnDays: certs.warnDays } : {}) }) });
    }
  }
  const clusters = plan.clusters.map((c) => c.name);
  out.push(
    { check: 'cilium-version', run: () => checks.checkCiliumVersions({ mesh, clusters, expected: plan.clusters[0]?.cilium.chartVersion ?? '', ...(source ? { source } : {}) }) },
    {
      check: 'policy-consistency',
      run: () =>
        checks.checkPolicyConsistency({
          mesh,
          clusters: plan.clusters.map((c) => ({ name: c.name, policies: plan.meshPhase.manifestsByCluster[c.name]?.policies ?? '' })),
          ...(source ? { source } : {}),
        }),
    },
  );
  if (certs) out.push({ check: 'clustermesh-trust', run: () => checks.checkClustermeshTrust({ mesh, clusters, ...(source ? { source } : {}) }) });
  return out;
}

function brokenCheck(c: PlannedCheck, err: unknown): Verdict {
  const message = findApplicationFailure(err)?.message ?? (err as Error).message ?? String(err);
  return {
    check: c.check,
    ...(c.cluster ? { cluster: c.cluster } : {}),
    status: 'fail',
    summary: `${c.cluster ?? 'mesh'}: the ${c.check} check could not run: ${message}`,
    evidence: { error: message.slice(0, 500) },
    hint: 'the check itself failed after its retries (unreachable API, missing kubeconfig, a tool error): fix what the error names; the next run re-checks',
  };
}

export async function verifyMesh(input: VerifyInput): Promise<VerifyReport> {
  const { plan } = input;
  const info = workflowInfo();
  const startedAt = new Date().toISOString();
  // Runs started by a Schedule or by hand are found the same way in visibility.
  upsertSearchAttributes([
    { key: SA.mesh, value: plan.mesh },
    { key: SA.kind, value: RUN_KIND.verify },
    { key: SA.state, value: 'running' },
  ]);
  showDetails(`## Verify ${plan.mesh} — running\nrevision \`${plan.revision}\``);

  // runs recorded before the certificate checks existed replay without them
  const certs = patched('clustermesh-certs') ? { ...(input.certWarnDays !== undefined ? { warnDays: input.certWarnDays } : {}) } : undefined;
  const planned = plannedChecks(plan, input.source, certs);
  const verdicts = await Promise.all(planned.map((c) => c.run().catch((err: unknown) => brokenCheck(c, err))));
  const partial: Omit<VerifyReport, 'drift'> = {
    mesh: plan.mesh,
    revision: plan.revision,
    workflowId: info.workflowId,
    startedAt,
    finishedAt: new Date().toISOString(),
    overall: overallOf(verdicts),
    counts: countsOf(verdicts),
    verdicts,
  };
  let drift: DriftSummary;
  try {
    drift = await outcome.recordVerifyOutcome({ report: partial, ...(input.notify ? { notify: input.notify } : {}), ...(input.previous ? { previous: input.previous } : {}) });
  } catch (err) {
    const message = findApplicationFailure(err)?.message ?? (err as Error).message;
    drift = { changes: [], notified: 'none', reason: 'the outcome could not be recorded', notifyError: message };
  }
  const report: VerifyReport = { ...partial, drift };
  showDetails(reportTable(report));
  upsertSearchAttributes([{ key: SA.state, value: 'completed' }]);
  return report;
}
