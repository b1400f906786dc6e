// `meshpilot upgrade FILE`: a blueprint revision with new versions, planned from the live versions and run one
// gated step at a time. `--plan` shows the whole path and runs nothing.
import type { Command } from 'commander';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { planUpgradeLive, startUpgrade, upgradeRunning } from '../../client/upgrades.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import { cliContext } from '../context.ts';
import { CliError, printJson, type CliIO } from '../io.ts';
import { renderUpgradePlan } from '../render/upgrade-plan.ts';
import { watchRollout } from '../watch.ts';
import { actor } from './rollout.ts';

interface UpgradeOptions {
  plan?: boolean;
  wait?: boolean;
  json?: boolean;
  siteQueues?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('upgrade')
    .description('upgrade a running mesh to a blueprint revision with new Talos, Kubernetes or Cilium versions: cluster by cluster (the canary first), node by node, gated')
    .argument('<file>', 'the blueprint revision with the new versions')
    .option('--plan', 'show the whole path from the live versions (versions, nodes, order, gates) and run nothing')
    .option('--wait', 'follow progress until the upgrade finishes')
    .option('--site-queues', "run each cluster on its site's task queue (workers started with --site)")
    .option('--json', 'machine-readable output (the plan with --plan, else the start result)')
    .action(async (file: string, opts: UpgradeOptions) => {
      const target = await planFromFile(file);
      const ctx = await cliContext(io);
      try {
        const attach = !opts.plan && (await upgradeRunning(ctx.client, target));
        if (!attach) {
          const live = await planUpgradeLive(ctx.client, { plan: target, taskQueue: ctx.env.MESHPILOT_TASK_QUEUE, siteQueues: opts.siteQueues });
          if (opts.plan) {
            if (opts.json) printJson(io, live);
            else io.out(renderUpgradePlan(io, live.survey, live.plan));
            if (live.plan.refusals.length) io.exitCode = 2;
            return;
          }
          if (live.plan.refusals.length) {
            if (!opts.json) io.err(renderUpgradePlan(io, live.survey, live.plan));
            throw new CliError(
              `the upgrade path is not supported: ${live.plan.refusals.map((r) => `${r.cluster}${r.node ? `/${r.node}` : ''}: ${r.message}`).join('; ')}`,
              2,
              `nothing was started; see meshpilot upgrade ${file} --plan`,
            );
          }
          if (!live.plan.clusters.length) {
            if (opts.json) printJson(io, { started: false, upToDate: true, mesh: target.mesh, revision: target.revision });
            else io.out(`nothing to upgrade: every cluster of ${target.mesh} runs the versions of revision ${target.revision}\n`);
            return;
          }
          if (!opts.json) io.err(renderUpgradePlan(io, live.survey, live.plan));
        }
        const started = await startUpgrade(ctx.client, { plan: target, requestedBy: actor(io), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE, siteQueues: opts.siteQueues });
        const url = uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, started.workflowId);
        if (opts.json) printJson(io, { ...started, ui: url });
        else {
          io.out(`${started.started ? 'started' : 'already running:'} ${started.workflowId}\n`);
          if (url) io.out(`UI: ${url}\n`);
        }
        if (opts.wait) {
          const view = await watchRollout(io, ctx.client, started.workflowId, { untilPaused: false, uiUrl: url });
          if (view.state !== 'completed') io.exitCode = 1;
        }
      } finally {
        await ctx.close();
      }
    });
}
