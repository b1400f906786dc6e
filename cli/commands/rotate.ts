// `meshpilot rotate certs|ca FILE`: renew the ClusterMesh certificates, or replace the shared CA, on a live mesh
// (flags → options → validate → client → render). `--plan` prints the steps, starts nothing.
import type { Command } from 'commander';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { getRolloutView } from '../../client/rollouts.ts';
import { rotateResult, startRotate } from '../../client/rotate.ts';
import { ROTATE_CA_STEPS, ROTATE_CERTS_STEPS } from '../../contracts/steps.ts';
import { uiLink } from '../../temporal/ui-link.ts';
import type { RotateKind } from '../../workflows/mesh-rotate.ts';
import { cliContext } from '../context.ts';
import { colors, CliError, printJson, type CliIO } from '../io.ts';
import { watchRollout } from '../watch.ts';
import { renderSteps } from './plan.ts';
import { actor, statusJson } from './rollout.ts';

interface RotateOptions {
  warnDays?: string;
  wait?: boolean;
  json?: boolean;
  plan?: boolean;
}

function warnDaysOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 3650) throw new CliError(`--warn-days: expected a whole number of days from 1 to 3650, got ${JSON.stringify(v)}`, 2);
  return n;
}

async function rotate(io: CliIO, kind: RotateKind, file: string, opts: RotateOptions): Promise<void> {
  const warnDays = warnDaysOf(opts.warnDays);
  const plan = await planFromFile(file);
  const defs = kind === 'ca' ? ROTATE_CA_STEPS : ROTATE_CERTS_STEPS;
  if (opts.plan) {
    const steps = defs.map((d) => ({ name: d.name, title: d.title, skippable: d.skippable, gate: d.gate, runs: [...d.runs], details: [`CLUSTERS ${plan.clusters.map((c) => c.name).join(', ')}`] }));
    if (opts.json) printJson(io, { mesh: plan.mesh, kind, clusters: plan.clusters.map((c) => c.name), steps });
    else io.out(`${colors(io).bold(`rotate ${kind}: ${plan.mesh}`)}\n${renderSteps(io, steps, (s) => defs.findIndex((d) => d.name === s.name) + 1)}\n`);
    return;
  }
  const ctx = await cliContext(io);
  try {
    const started = await startRotate(ctx.client, { plan, kind, by: actor(io), taskQueue: ctx.env.MESHPILOT_TASK_QUEUE, ...(warnDays !== undefined ? { warnDays } : {}) });
    if (!started.started) {
      const running = await getRolloutView(ctx.client, started.workflowId);
      const runningKind = running.operation?.kind === 'rotate-ca' ? 'ca' : 'certs';
      if (runningKind !== kind) throw new CliError(`a ${runningKind === 'ca' ? 'CA' : 'certificate'} rotation of ${plan.mesh} is running (${started.workflowId}): one rotation per mesh at a time`, 1, `meshpilot status ${started.workflowId}`);
    }
    const url = uiLink(ctx.uiUrl, ctx.env.TEMPORAL_NAMESPACE, started.workflowId);
    if (opts.json && !opts.wait) printJson(io, { ...started, ui: url });
    if (!opts.json) io.out(`${started.started ? 'started' : 'already running:'} ${started.workflowId}${url ? `\nUI: ${url}` : ''}\n`);
    if (!opts.wait) return;
    const quiet: CliIO = opts.json ? { ...io, out: () => undefined, isTTY: false } : io;
    const view = await watchRollout(quiet, ctx.client, started.workflowId, { untilPaused: true, uiUrl: url });
    const result = view.state === 'completed' ? await rotateResult(ctx.client, started.workflowId) : undefined;
    if (opts.json) printJson(io, { ...statusJson(await getRolloutView(ctx.client, started.workflowId)), ...(result ? { rotation: result } : {}) });
    else if (result) {
      const ca = result.ca?.to ? `CA ${result.ca.from.fingerprint.slice(0, 23)}… → ${result.ca.to.fingerprint.slice(0, 23)}…; ` : '';
      io.out(`${ca}every ClusterMesh certificate valid until at least ${result.earliestExpiry?.slice(0, 10) ?? '?'}\n`);
    }
    if (view.state !== 'completed') io.exitCode = 1;
  } finally {
    await ctx.close();
  }
}

export function register(program: Command, io: CliIO): void {
  const cmd = program.command('rotate').description('renew ClusterMesh certificates or replace the shared CA on a live mesh, one cluster at a time, the mesh checked after each change');
  for (const kind of ['certs', 'ca'] as const) {
    cmd
      .command(kind)
      .description(
        kind === 'certs'
          ? 're-issue every cluster\'s clustermesh-apiserver certificates from the mesh CA (a helm upgrade per cluster)'
          : 'replace the shared ClusterMesh CA without a disconnect: trust old + new, re-issue from the new, drop the old',
      )
      .argument('<file>', 'blueprint YAML of the mesh')
      .option('--warn-days <n>', 'the final check fails while a certificate expires within N days (default 30)')
      .option('--wait', 'follow the rotation until it finishes (or pauses)')
      .option('--json', 'print the start result (with --wait: the final status and result) as JSON')
      .option('--plan', 'print the steps it will run, start nothing')
      .action((file: string, opts: RotateOptions) => rotate(io, kind, file, opts));
  }
}
