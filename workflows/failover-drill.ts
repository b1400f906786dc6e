// `meshpilot drill failover`: take one region's backends of global Services out of service, watch every cluster's
// agent until clients reach healthy backends in the other regions (timed from the drain), put every backend back,
// and write the report. The restore runs whatever happened before it (done, aborted, failed, even a cancelled
// workflow), and a restore that cannot finish pauses instead of giving up.
import { allHandlersFinished, CancellationScope, condition, continueAsNew, setHandler } from '@temporalio/workflow';
import type { FailoverDrillInput, FailoverDrillResult } from '../contracts/failover.ts';
import { abortUpdate, amendUpdate, meshStatusQuery, overrideUpdate, resumeUpdate, skipUpdate } from '../contracts/messages.ts';
import { act, quick, waits } from './activities.ts';
import { FailoverDrillState } from './failover-state.ts';
import { verifyMeshConnected } from './mesh-checks.ts';
import { ContinueAsNewNeeded, RolloutAborted } from './step-runner.ts';

export type { FailoverDrillInput, FailoverDrillResult } from '../contracts/failover.ts';

export async function failoverDrill(input: FailoverDrillInput): Promise<FailoverDrillResult> {
  const d = new FailoverDrillState(input);
  setHandler(meshStatusQuery, () => d.status());
  setHandler(resumeUpdate, (i) => ({ accepted: true, message: d.resume(i) }), { validator: (i) => d.validateResume(i) });
  setHandler(skipUpdate, (i) => ({ accepted: true, message: d.skip(i) }), { validator: (i) => d.validateSkip(i) });
  setHandler(overrideUpdate, (i) => ({ accepted: true, message: d.override(i) }), { validator: (i) => d.validateOverride(i) });
  setHandler(abortUpdate, (i) => ({ accepted: true, message: d.abort(i) }), { validator: (i) => d.validateAbort(i) });
  setHandler(amendUpdate, (_i) => ({ accepted: true, message: '' }), { validator: (_i) => d.validateAmend() });
  d.changed();

  const { region } = input;
  const again = async () => {
    await condition(allHandlersFinished);
    return continueAsNew<typeof failoverDrill>({ ...input, carried: d.carried() });
  };
  if (d.phase === 'drill') {
    try {
      await runDrill(d);
    } catch (err) {
      if (err instanceof ContinueAsNewNeeded) await again();
      if (err instanceof RolloutAborted) d.aborted = true;
      else d.error = d.drill.state.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message;
    }
  }
  // Whatever ended the drill part, the backends go back: a cancelled workflow included (nonCancellable).
  d.phase = 'restore';
  d.changed();
  await CancellationScope.nonCancellable(async () => {
    try {
      await restoreAll(d);
    } catch (err) {
      if (err instanceof ContinueAsNewNeeded) await again();
      // a restore never fails quietly: the run fails naming it, and the report still says what is not back
      d.error = `restore: ${d.restore.state.steps.find((s) => s.state === 'failed')?.note ?? (err as Error).message}`;
    }
    d.state = d.error ? 'failed' : d.aborted ? 'aborted' : 'completed';
    try {
      await d.restore.run('failover-report', async () => {
        d.files = await act(quick.writeFailoverReport, `the report of the failover drill of region ${region}`, { report: d.report() });
      });
    } catch (err) {
      if (err instanceof ContinueAsNewNeeded) await again();
      d.error = `${d.error ? `${d.error}; ` : ''}report: ${(err as Error).message}`;
      d.state = 'failed';
    }
    d.changed();
    await condition(allHandlersFinished);
  });
  return d.result();
}

/** Every drained Deployment back at its recorded replicas, ready, and served by every cluster's agent again. */
async function restoreAll(d: FailoverDrillState): Promise<void> {
  const { mesh, region, clusters } = d.input;
  if (!d.drainStarted || !d.baseline) {
    d.restore.keep('failover-restore', 'nothing was drained');
    return;
  }
  const workloads = d.baseline.workloads;
  await d.restore.run('failover-restore', async () => {
    await act(quick.scaleWorkloads, `scale ${workloads.length} deployment(s) of region ${region} back to their replicas`, { mesh, workloads, to: 'original' });
    d.restored = await act(waits.awaitWorkloadsReady, `region ${region}: the restored deployments are ready`, { mesh, workloads });
    d.changed();
    const drained = new Set(d.drainedClusters);
    await Promise.all(
      clusters.map((c) => {
        const before = d.baseline!.backends[c.name] ?? {};
        const expect = Object.fromEntries(d.drilledServices.map((s) => [s, Object.fromEntries(Object.entries(before[s] ?? {}).filter(([src, n]) => drained.has(src) && n > 0))]));
        return act(waits.awaitBackendsReturned, `${c.name}: serves region ${region}'s backends again`, { mesh, cluster: c, clusters, expect });
      }),
    );
  });
}

/** Preflight, drain and observe: what an abort stops (the body above then restores). */
async function runDrill(d: FailoverDrillState): Promise<void> {
  const { mesh, region, clusters, services } = d.input;
  await d.drill.run('failover-preflight', async () => {
    const found = await act(quick.failoverPreflight, `the services ${services.join(', ')} and their backends in every cluster (read-only)`, { mesh, region, clusters, services });
    d.baseline = found.baseline;
    d.kubeconfigRefs = found.kubeconfigRefs;
    d.changed();
    await verifyMeshConnected(
      clusters.map((c) => ({ name: c.name, kubeconfigRef: found.kubeconfigRefs[c.name]!, podCidrs: c.podCidrs })),
      'before the failover drill',
    );
  });
  const workloads = d.baseline!.workloads;
  await d.drill.run('failover-drain', async () => {
    d.drainStarted = true;
    d.changed();
    const r = await act(quick.scaleWorkloads, `scale ${workloads.map((w) => `${w.cluster}/${w.name}`).join(', ')} to 0 (region ${region})`, { mesh, workloads, to: 'zero' });
    d.drainedAt = r.at;
    d.changed();
  });
  await d.drill.run('failover-observe', async () => {
    const seen = await Promise.all(
      clusters.map((c) =>
        act(waits.observeFailover, `${c.name}: clients reach backends outside region ${region}`, { mesh, region, cluster: c, clusters, services: d.drilledServices, drainedAt: d.drainedAt! }),
      ),
    );
    d.observations = seen.flat();
    d.changed();
  });
}
