import type { Command } from 'commander';
import { loadEnv } from '../../config/env.ts';
import { readCalls } from '../../lab/call-log.ts';
import { createLab } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { isScenarioName, SCENARIOS } from '../../lab/scenarios.ts';
import { readLabState } from '../../lab/state.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { labDirFor } from '../context.ts';
import { CliError, printJson, type CliIO } from '../io.ts';

export function register(program: Command, io: CliIO): void {
  const lab = program.command('lab').description("the lab: a simulated fleet behind the real tools' names, to rehearse rollouts");

  lab
    .command('scenarios')
    .description('the named scenarios')
    .option('--json', 'machine-readable list')
    .action((opts: { json?: boolean }) => {
      if (opts.json) printJson(io, SCENARIOS);
      else for (const [name, text] of Object.entries(SCENARIOS)) io.out(`${name.padEnd(18)} ${text}\n`);
    });

  lab
    .command('init')
    .description("build the lab's fleet from a blueprint (meshpilot rollout --lab does this for you)")
    .argument('<file>', 'blueprint YAML')
    .option('--scenario <name>', 'scenario', 'happy')
    .option('--tool-latency <ms>', 'every simulated tool call takes this long', '0')
    .action(async (file: string, opts: { scenario: string; toolLatency: string }) => {
      if (!isScenarioName(opts.scenario)) throw new CliError(`--scenario: one of ${Object.keys(SCENARIOS).join(', ')}`, 2);
      const latency = Number(opts.toolLatency);
      if (!Number.isInteger(latency) || latency < 0) throw new CliError('--tool-latency: expected a whole number of milliseconds', 2);
      const dir = labDirFor(loadEnv(io.env));
      const state = createLab(dir, fleetFromPlan(await planFromFile(file)), { scenario: opts.scenario, toolLatencyMs: latency });
      io.out(`lab at ${dir}: ${Object.keys(state.clusters).length} clusters, ${Object.keys(state.nodes).length} nodes, scenario ${opts.scenario}\n`);
    });

  lab
    .command('show')
    .description("the simulated fleet's state: nodes, stages, bootstrap counts, releases")
    .option('--json', 'the whole state')
    .action((opts: { json?: boolean }) => {
      const state = readLabState(labDirFor(loadEnv(io.env)));
      if (opts.json) return printJson(io, state);
      io.out(`scenario ${state.scenario}, tool latency ${state.toolLatencyMs} ms\n`);
      for (const c of Object.values(state.clusters)) {
        const releases = Object.entries(c.helm).map(([k, r]) => `${k}=${(r as { status?: string }).status ?? '?'}`);
        io.out(`${c.name}: bootstrapped ${c.bootstrapCount}x, helm ${releases.join(' ') || '-'}\n`);
        for (const n of Object.values(state.nodes).filter((x) => x.cluster === c.name)) io.out(`  ${n.name.padEnd(16)} ${n.address.padEnd(16)} ${n.site.padEnd(8)} ${n.stage}\n`);
      }
    });

  lab
    .command('calls')
    .description('every simulated tool call so far (argv, exit code, duration)')
    .option('--tool <name>', 'only this tool')
    .option('--json', 'machine-readable list')
    .action((opts: { tool?: string; json?: boolean }) => {
      const calls = readCalls(labDirFor(loadEnv(io.env))).filter((c) => !opts.tool || c.tool === opts.tool);
      if (opts.json) return printJson(io, calls);
      for (const c of calls) io.out(`${c.exitCode === 0 ? ' ' : '!'} ${String(c.durationMs).padStart(5)}ms  ${c.tool} ${c.argv.join(' ')}\n`);
    });
}
