// `meshpilot restore-drill FILE --cluster C --node NAME=ADDRESS [--snapshot ID]`: prove a stored snapshot restores,
// onto a spare node (flags → options → validate → client → render). `--plan` prints the steps, starts nothing.
import type { Command } from 'commander';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { backupClusters } from '../../client/backup.ts';
import { parseDrillNode, restoreDrillResult, startRestoreDrill } from '../../client/restore-drill.ts';
import { getRolloutView } from '../../client/rollouts.ts';
import { RESTORE_DRILL_STEPS } from '../../contracts/steps.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import { cliContext } from '../context.ts';
import { colors, CliError, printJson, type CliIO } from '../io.ts';
import { watchRollout } from '../watch.ts';
import { renderSteps } from './plan.ts';
import { actor, statusJson } from './rollout.ts';

interface DrillOptions {
  cluster?: string;
  node?: string;
  snapshot?: string;
  wait?: boolean;
  json?: boolean;
  plan?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('restore-drill')
    .description("restore a stored etcd snapshot onto a spare node (talosctl bootstrap --recover-from) and prove the restored etcd holds the snapshot's data")
    .argument('<file>', 'blueprint YAML of the mesh')
    .option('--cluster <name>', 'the cluster whose snapshot is restored (required)')
    .option('--node <name=address>', 'the spare control-plane node, in Talos maintenance mode (required)')
    .option('--snapshot <id>', 'which snapshot (meshpilot backup list); default the newest')
    .option('--wait', 'follow the drill until it finishes (or pauses)')
    .option('--json', 'print the start result (with --wait: the final status and proof) as JSON')
    .option('--plan', 'print the steps it will run, start nothing')
    .action(async (file: string, opts: DrillOptions) => {
      if (!opts.cluster) throw new CliError('--cluster <name> is required: the cluster whose snapshot is restored', 2);
      if (!opts.node) throw new CliError('--node <name=address> is required: a spare node in Talos maintenance mode', 2);
      const drillNode = parseDrillNode(opts.node);
      const plan = await planFromFile(file);
      backupClusters(plan, opts.cluster);
      if (opts.plan) {
        const steps = RESTORE_DRILL_STEPS.map((d) => ({ name: d.name, title: d.title, skippable: d.skippable, gate: d.gate, runs: [...d.runs], details: [`DRILL-NODE ${drillNode.name} ${drillNode.address}`] }));
        if (opts.json) printJson(io, { mesh: plan.mesh, cluster: opts.cluster, drillNode, snapshot: opts.snapshot ?? 'newest', steps });
        else io.out(`${colors(io).bold(`restore drill: ${opts.cluster} onto ${drillNode.name}`)}\n${renderSteps(io, steps, (s) => RESTORE_DRILL_STEPS.findIndex((d) => d.name === s.name) + 1)}\n`);
        return;
      }
      const ctx = await cliContext(io);
      try {
        const started = await startRestoreDrill(ctx.client, { plan, cluster: opts.cluster, drillNode, by: actor(io), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE, ...(opts.snapshot ? { snapshotId: opts.snapshot } : {}) });
        const url = uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, started.workflowId);
        if (opts.json && !opts.wait) printJson(io, { ...started, ui: url });
        if (!opts.json) io.out(`${started.started ? 'started' : 'already running:'} ${started.workflowId}${url ? `\nUI: ${url}` : ''}\n`);
        if (!opts.wait) return;
        const quiet: CliIO = opts.json ? { ...io, out: () => undefined, isTTY: false } : io;
        const view = await watchRollout(quiet, ctx.client, started.workflowId, { untilPaused: true, uiUrl: url });
        const result = view.state === 'completed' ? await restoreDrillResult(ctx.client, started.workflowId) : undefined;
        if (opts.json) printJson(io, { ...statusJson(await getRolloutView(ctx.client, started.workflowId)), ...(result?.proof ? { proof: result.proof, snapshot: result.snapshot } : {}) });
        else if (result?.proof) {
          const p = result.proof;
          io.out(`proof: restored etcd at revision ${p.restored.revision} with ${p.restored.totalKeys} keys (snapshot ${result.snapshot?.id}: revision ${p.source.revision}, ${p.source.totalKeys} keys)\n`);
        }
        if (view.state !== 'completed') io.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}
