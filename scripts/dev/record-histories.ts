// Records the histories the replay test checks: a completed lab rollout (parent + one cluster) and one that
// paused and was amended. Run it when a workflow change is MEANT to be incompatible (and say so in the commit):
//   node --import tsx scripts/dev/record-histories.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { resolveTemporalBinary } from '../../temporal/cli-binary.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { amendRollout } from '../../client/rollouts.ts';
import { projectRoot } from '../../config/env.ts';
import { startLabWorker } from '../../test/helpers/lab-worker.ts';
import { isFinished, isPaused, start, waitFor } from '../../test/helpers/rollout.ts';
import { startTemporal } from '../../test/helpers/temporal.ts';

const out = path.join(projectRoot, 'test', 'fixtures', 'histories');
const env = await startTemporal();
try {
  const happy = await startLabWorker(env, { scenario: 'happy' });
  const a = await start(env.client, happy.plan, happy.taskQueue);
  await waitFor(env.client, a.workflowId, isFinished, 240_000);
  const pending = await startLabWorker(env, { scenario: 'lb-pending' });
  const b = await start(env.client, pending.plan, pending.taskQueue);
  const paused = await waitFor(env.client, b.workflowId, isPaused);
  await amendRollout(env.client, b.workflowId, { by: 'recorder', reason: 'bigger pool', plan: { ...(await planFromFile(path.join(projectRoot, 'examples/usa-europe-pool-fixed.yaml'))), revision: `${pending.plan.revision}-fixed` } });
  await waitFor(env.client, b.workflowId, isFinished, 240_000);
  const index: Record<string, string> = {};
  const save = async (name: string, id: string) => {
    index[`${name}.json`] = id;
    // the CLI's JSON is the standard history JSON that historyFromJSON reads back
    const bin = await resolveTemporalBinary();
    const { stdout } = await execa(bin.path!, ['workflow', 'show', '--workflow-id', id, '--address', env.address, '--output', 'json']);
    // stack traces name this machine's checkout: keep them repository-relative
    writeFileSync(path.join(out, `${name}.json`), stdout.split(`${projectRoot}${path.sep}`).join(''));
    console.log(`recorded ${name} (${id})`);
  };
  await save('mesh-rollout-happy', a.workflowId);
  await save('cluster-rollout-happy', `${a.workflowId}-cluster-cluster-usa`);
  await save('mesh-rollout-amended', b.workflowId);
  await save('cluster-rollout-amended', paused.blocked!.workflowId);
  // replay needs each history's workflow id (child ids are derived from it)
  writeFileSync(path.join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  await happy.stop();
  await pending.stop();
} finally {
  await env.teardown();
}
