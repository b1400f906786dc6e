// Records the histories the replay test checks: a completed lab rollout (parent + one cluster) and one that
// paused and was amended. Run it when a workflow change is MEANT to be incompatible (and say so in the commit):
//   node --import tsx scripts/dev/record-histories.ts
// `--day-two` keeps the rollout histories and (re-)records only the day-two ones: an upgrade (parent + one cluster),
// a detach and an etcd backup. `--protection` (re-)records only a CA rotation and a verify run with the certificate checks;
// `--drills` keeps every other history and (re-)records only the failover drills: one completed, one aborted after its
// drain (the restore path).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { resolveTemporalBinary } from '../../temporal/cli-binary.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { startBackups } from '../../client/backup.ts';
import { startDetach } from '../../client/detach.ts';
import { startFailoverDrill } from '../../client/failover-drill.ts';
import { startRotate } from '../../client/rotate.ts';
import { startVerify } from '../../client/verify.ts';
import { abortRollout, amendRollout } from '../../client/rollouts.ts';
import { detachWorkflowId } from '../../contracts/names.ts';
import { projectRoot } from '../../config/env.ts';
import type { KubeObject } from '../../lab/kube/store.ts';
import { withLabState } from '../../lab/state.ts';
import { startLabWorker } from '../../test/helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../../test/helpers/rollout.ts';
import { NEW, OLD, seedAt, startAndWait, target } from '../../test/helpers/upgrade.ts';
import { startTemporal } from '../../test/helpers/temporal.ts';

const out = path.join(projectRoot, 'test', 'fixtures', 'histories');
const dayTwo = process.argv.includes('--day-two');
const protection = process.argv.includes('--protection');
const drills = process.argv.includes('--drills');
const indexFile = path.join(out, 'index.json');
const index: Record<string, string> = (dayTwo || protection || drills) && existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};
const env = await startTemporal();
const save = async (name: string, id: string) => {
  index[`${name}.json`] = id;
  // the CLI's JSON is the standard history JSON that historyFromJSON reads back
  const bin = await resolveTemporalBinary();
  const { stdout } = await execa(bin.path!, ['workflow', 'show', '--workflow-id', id, '--address', env.address, '--output', 'json']);
  // stack traces name this machine's checkout: keep them repository-relative
  writeFileSync(path.join(out, `${name}.json`), stdout.split(`${projectRoot}${path.sep}`).join(''));
  console.log(`recorded ${name} (${id})`);
};
const completed = async (id: string) => {
  const v = await waitFor(env.client, id, isFinished, 600_000);
  if (v.state !== 'completed') throw new Error(`${id} ended ${v.state}: ${JSON.stringify(v.blocked ?? v.error)}`);
};
try {
  if (protection) {
    const by = { by: 'recorder', via: 'record-histories' };
    const lab = await startLabWorker(env, { scenario: 'happy' });
    const r = await start(env.client, lab.plan, lab.taskQueue);
    await completed(r.workflowId);
    const rotation = await startRotate(env.client, { plan: lab.plan, kind: 'ca', by, taskQueue: lab.taskQueue });
    await completed(rotation.workflowId);
    const verify = await startVerify(env.client, lab.plan, by, { taskQueue: lab.taskQueue });
    await env.client.workflow.getHandle(verify.workflowId).result();
    await save('mesh-rotate-ca', rotation.workflowId);
    await save('verify-with-certs', verify.workflowId);
    await lab.stop();
  } else if (drills) {
    await recordDrills();
  } else if (!dayTwo) {
    const happy = await startLabWorker(env, { scenario: 'happy' });
    const a = await start(env.client, happy.plan, happy.taskQueue);
    await waitFor(env.client, a.workflowId, isFinished, 240_000);
    const pending = await startLabWorker(env, { scenario: 'lb-pending' });
    const b = await start(env.client, pending.plan, pending.taskQueue);
    const paused = await waitFor(env.client, b.workflowId, isPaused);
    await amendRollout(env.client, b.workflowId, { by: 'recorder', reason: 'bigger pool', plan: { ...(await planFromFile(path.join(projectRoot, 'examples/usa-europe-pool-fixed.yaml'))), revision: `${pending.plan.revision}-fixed` } });
    await waitFor(env.client, b.workflowId, isFinished, 240_000);
    await save('mesh-rollout-happy', a.workflowId);
    await save('cluster-rollout-happy', `${a.workflowId}-cluster-cluster-usa`);
    await save('mesh-rollout-amended', b.workflowId);
    await save('cluster-rollout-amended', paused.blocked!.workflowId);
    await happy.stop();
    await pending.stop();
  } else {
    const by = { by: 'recorder', via: 'record-histories' };
    // a mesh at the old versions, upgraded, then backed up, then one cluster detached
    const lab = await startLabWorker(env, { scenario: 'happy', blueprint: seedAt(OLD) });
    const r = await start(env.client, lab.plan, lab.taskQueue);
    await completed(r.workflowId);
    const upgrade = await startAndWait(env.client, await target(lab, seedAt(NEW)), lab.taskQueue);
    await completed(upgrade);
    const [backup] = await startBackups(env.client, { plan: lab.plan, cluster: 'cluster-usa', retention: { keepLast: 3 }, by, taskQueue: lab.taskQueue });
    await completed(backup!.workflowId);
    const d = await startDetach(env.client, { mesh: lab.plan.mesh, cluster: 'cluster-europe', reason: 'recording', requestedBy: by, taskQueue: lab.taskQueue });
    await completed(d.workflowId);
    await save('mesh-upgrade', upgrade);
    await save('cluster-upgrade', `${upgrade}-cluster-cluster-usa`);
    await save('cluster-backup', backup!.workflowId);
    await save('mesh-detach', detachWorkflowId(lab.plan.mesh, 'cluster-europe'));
    await lab.stop();
  }
  // replay needs each history's workflow id (child ids are derived from it)
  writeFileSync(indexFile, `${JSON.stringify(index, null, 2)}\n`);
} finally {
  await env.teardown();
}

async function recordDrills(): Promise<void> {
  const by = { by: 'recorder', via: 'record-histories' };
  const lab = await startLabWorker(env, { scenario: 'happy', pollBudgetMs: 4_000 });
  await completed((await start(env.client, lab.plan, lab.taskQueue)).workflowId);
  const passed = await startFailoverDrill(env.client, { plan: lab.plan, region: 'eu', by, taskQueue: lab.taskQueue });
  await completed(passed.workflowId);
  await save('failover-drill-completed', passed.workflowId);
  // Europe stops sharing its canary: cluster-usa's watch keeps polling after the drain, and the drill is aborted there
  const svc = 'v1|Service|meshpilot-canary|meshpilot-canary';
  await withLabState(lab.labDir, (st) => {
    const o = st.clusters['cluster-europe']!.kube[svc] as KubeObject;
    o.metadata.annotations = { ...o.metadata.annotations, 'service.cilium.io/shared': 'false' };
  });
  const aborted = await startFailoverDrill(env.client, { plan: lab.plan, region: 'us', by, taskQueue: lab.taskQueue });
  await waitFor(env.client, aborted.workflowId, (v) => v.meshSteps.find((x) => x.name === 'failover-drain')?.state === 'done');
  await abortRollout(env.client, aborted.workflowId, { ...by, reason: 'recording an abort' });
  const v = await waitFor(env.client, aborted.workflowId, isFinished);
  if (v.state !== 'aborted') throw new Error(`the aborted drill ended ${v.state}`);
  await save('failover-drill-aborted', aborted.workflowId);
  await lab.stop();
}
