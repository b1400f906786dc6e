import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { getRolloutView, listRollouts, startRollout } from '../../client/rollouts.ts';
import { RUN_STATES, type RolloutView } from '../../contracts/status.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { isScenarioName, SCENARIOS } from '../../lab/scenarios.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { loadEnv } from '../../config/env.ts';
import { readLabState } from '../../lab/state.ts';
import { cliContext, labDirFor } from '../context.ts';
import { CliError, printJson, type CliIO } from '../io.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import { renderRolloutView } from '../render/rollout-view.ts';
import { watchRollout } from '../watch.ts';

export function actor(io: CliIO): { by: string; via: string } {
  return { by: io.env.MESHPILOT_ACTOR ?? io.env.USER ?? os.userInfo().username, via: 'cli' };
}

export function register(program: Command, io: CliIO): void {
  program
    .command('rollout')
    .description('start (or attach to) the rollout of a blueprint; prints the rollout id and the UI link')
    .argument('<file>', 'blueprint YAML')
    .option('--lab [scenario]', `rehearse on the lab's simulated fleet: a scenario (${Object.keys(SCENARIOS).join(', ')}) builds a fresh lab; --lab alone rolls out on the existing one, as \`lab break\` left it`)
    .option('--tool-latency <ms>', 'lab: every simulated tool call takes this long', '0')
    .option('--wait', 'follow progress until the rollout finishes (with --json: one JSON object per change, as watch --json)')
    .option('--site-queues', "run each cluster on its site's task queue (workers started with --site)")
    .option('--json', 'print the start result as JSON')
    .action(async (file: string, opts: { lab?: string | true; toolLatency: string; wait?: boolean; siteQueues?: boolean; json?: boolean }) => {
      if (typeof opts.lab === 'string' && !isScenarioName(opts.lab)) {
        throw new CliError(`--lab: unknown scenario ${JSON.stringify(opts.lab)}; one of: ${Object.keys(SCENARIOS).join(', ')}`, 2);
      }
      const latency = Number(opts.toolLatency);
      if (!Number.isInteger(latency) || latency < 0) throw new CliError('--tool-latency: expected a whole number of milliseconds', 2);
      if (opts.lab === true && latency !== 0) throw new CliError('--tool-latency: only with a scenario (the latency is set when a lab is built)', 2);
      const plan = await planFromFile(file);
      if (opts.lab === true) checkExistingLab(labDirFor(loadEnv(io.env)), plan.clusters.map((c) => c.name));
      const ctx = await cliContext(io);
      try {
        if (typeof opts.lab === 'string' && isScenarioName(opts.lab)) {
          createLab(ctx.labDir, fleetFromPlan(plan), { scenario: opts.lab, toolLatencyMs: latency });
          if (!opts.json) io.err(`lab: ${opts.lab} — ${SCENARIOS[opts.lab]}\n`);
        }
        // the lab has no BMCs: its nodes start in Talos maintenance mode
        const started = await startRollout(ctx.client, {
          plan,
          requestedBy: actor(io),
          taskQueue: ctx.env.MESHPILOT_TASK_QUEUE,
          siteQueues: opts.siteQueues,
          bootOverride: opts.lab ? 'none' : undefined,
        });
        const url = uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, started.workflowId);
        // with --wait the change events follow as JSON lines, so the start result is one line too
        if (opts.json && opts.wait) io.out(`${JSON.stringify({ ...started, ui: url })}\n`);
        else if (opts.json) printJson(io, { ...started, ui: url });
        else {
          io.out(`${started.started ? 'started' : 'already running:'} ${started.workflowId}\n`);
          if (url) io.out(`UI: ${url}\n`);
        }
        if (opts.wait) {
          const view = await watchRollout(io, ctx.client, started.workflowId, { untilPaused: false, uiUrl: url, json: opts.json });
          if (view.state !== 'completed') io.exitCode = 1;
        }
      } finally {
        await ctx.close();
      }
    });

  program
    .command('status')
    .description('the rollout as data: per cluster the current step, what is paused and why')
    .argument('<id>', 'rollout workflow id (see: meshpilot list)')
    .option('--json', 'machine-readable status')
    .action(async (id: string, opts: { json?: boolean }) => {
      const ctx = await cliContext(io);
      try {
        const view = await getRolloutView(ctx.client, id);
        if (opts.json) printJson(io, statusJson(view));
        else io.out(renderRolloutView(io, view, uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, id)));
      } finally {
        await ctx.close();
      }
    });

  program
    .command('list')
    .description('rollouts and detaches, newest first')
    .option('--state <state>', 'only rollouts in this state (running, paused, completed, failed, aborted)')
    .option('--mesh <name>', 'only this mesh')
    .option('--json', 'machine-readable list')
    .action(async (opts: { state?: string; mesh?: string; json?: boolean }) => {
      if (opts.state && !(RUN_STATES as readonly string[]).includes(opts.state)) throw new CliError(`--state: one of ${RUN_STATES.join(', ')}`, 2);
      const ctx = await cliContext(io);
      try {
        const rows = await listRollouts(ctx.client, opts);
        if (opts.json) printJson(io, rows);
        else if (rows.length === 0) io.out('no rollouts\n');
        else for (const r of rows) io.out(`${r.workflowId}  ${r.kind.padEnd(7)}  ${r.state.padEnd(9)}  ${r.blockedStep ?? ''}  ${r.startTime}\n`);
      } finally {
        await ctx.close();
      }
    });

  program
    .command('watch')
    .description('live per-cluster progress until the rollout finishes')
    .argument('<id>', 'rollout workflow id')
    .option('--until-paused', 'also return when the rollout pauses')
    .option('--json', 'stream one JSON object per change (step or rollout state) instead of the view')
    .action(async (id: string, opts: { untilPaused?: boolean; json?: boolean }) => {
      const ctx = await cliContext(io);
      try {
        const view = await watchRollout(io, ctx.client, id, { untilPaused: Boolean(opts.untilPaused), uiUrl: uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, id), json: opts.json });
        if (view.state === 'failed' || view.state === 'aborted') io.exitCode = 1;
      } finally {
        await ctx.close();
      }
    });
}

/** The documented `status --json` shape (stable: id, state, clusters[{name, step, state}], blocked when paused). */
export function statusJson(v: RolloutView) {
  return {
    id: v.workflowId,
    rolloutId: v.id,
    mesh: v.mesh,
    revision: v.revision,
    state: v.state,
    startedAt: v.startedAt,
    updatedAt: v.updatedAt,
    startedBy: v.startedBy,
    ...(v.operation ? { operation: v.operation } : {}),
    clusters: v.clusters.map((c) => ({
      name: c.name,
      workflowId: c.workflowId,
      role: c.role ?? 'new',
      step: c.step,
      state: c.state,
      apiserverAddress: c.outputs.apiserverAddress,
      steps: c.steps,
      error: c.error,
    })),
    mesh_steps: v.meshSteps,
    blocked: v.blocked
      ? { cluster: v.blocked.cluster ?? null, step: v.blocked.step, ...(v.blocked.target ? { target: v.blocked.target } : {}), reason: v.blocked.reason, hint: v.blocked.hint, since: v.blocked.since, overridable: v.blocked.overridable, skippable: v.blocked.skippable }
      : undefined,
    actions: v.actions,
    error: v.error,
  };
}

/** `--lab` without a scenario rolls out on the lab as it is: it must exist and hold the blueprint's clusters. */
function checkExistingLab(labDir: string, clusters: string[]): void {
  if (!existsSync(path.join(labDir, 'state.json'))) throw new CliError(`--lab: no lab at ${labDir} yet; name a scenario to build one (e.g. --lab happy)`, 2);
  const have = Object.keys(readLabState(labDir).clusters);
  const missing = clusters.filter((c) => !have.includes(c));
  if (missing.length) throw new CliError(`--lab: the lab at ${labDir} has no cluster ${missing.join(', ')} (it holds ${have.join(', ')}); name a scenario to build a fresh one from this blueprint`, 2);
}
