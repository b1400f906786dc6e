// `meshpilot detach MESH CLUSTER --reason …`: take one cluster out of a live mesh (flags → options → validate →
// client → render). `--plan` prints what it will do without starting anything.
import type { Command } from 'commander';
import { planDetach } from '../../blueprint/detach-plan.ts';
import { startDetach, validateDetach } from '../../client/detach.ts';
import { getRolloutView } from '../../client/rollouts.ts';
import { DETACH_STEPS } from '../../contracts/steps.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import { cliContext } from '../context.ts';
import { colors, printJson, type CliIO } from '../io.ts';
import { watchRollout } from '../watch.ts';
import { renderSteps } from './plan.ts';
import { actor, statusJson } from './rollout.ts';

interface DetachOptions {
  reason?: string;
  wait?: boolean;
  json?: boolean;
  plan?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('detach')
    .description('take a cluster out of a live mesh: every remaining peer forgets it, the rest is verified, it keeps running on its own (nothing is wiped)')
    .argument('<mesh>', "the mesh (the blueprint's metadata.name)")
    .argument('<cluster>', "the cluster leaving it (the blueprint's clusters[].name)")
    .option('--reason <text>', 'why it leaves (required; kept in the audit)')
    .option('--wait', 'follow progress until the detach finishes')
    .option('--json', 'print the start result (with --wait: the final status) as JSON')
    .option('--plan', 'print the steps it will run, start nothing')
    .action(async (mesh: string, cluster: string, opts: DetachOptions) => {
      const reason = opts.reason ?? '';
      validateDetach({ mesh, cluster, reason: opts.plan && !opts.reason ? 'plan only' : reason });
      if (opts.plan) {
        const steps = planDetach(mesh, cluster);
        if (opts.json) printJson(io, { mesh, cluster, steps });
        else {
          const number = (s: { name: string }) => DETACH_STEPS.findIndex((d) => d.name === s.name) + 1;
          io.out(`${colors(io).bold(`detach ${cluster} from mesh ${mesh}`)}\n${renderSteps(io, steps, number)}\n`);
        }
        return;
      }
      const ctx = await cliContext(io);
      try {
        const started = await startDetach(ctx.client, { mesh, cluster, reason, requestedBy: actor(io), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE });
        const url = uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, started.workflowId);
        if (opts.json && !opts.wait) printJson(io, { ...started, ui: url });
        if (!opts.json) {
          io.out(`${started.started ? 'started' : 'already running:'} ${started.workflowId}\n`);
          if (url) io.out(`UI: ${url}\n`);
        }
        if (opts.wait) {
          // with --json only the final status goes to stdout
          const quiet: CliIO = opts.json ? { ...io, out: () => undefined, isTTY: false } : io;
          const view = await watchRollout(quiet, ctx.client, started.workflowId, { untilPaused: false, uiUrl: url });
          if (opts.json) printJson(io, statusJson(await getRolloutView(ctx.client, started.workflowId)));
          if (view.state !== 'completed') io.exitCode = 1;
        }
      } finally {
        await ctx.close();
      }
    });
}
