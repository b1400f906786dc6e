import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadEnv } from '../../config/env.ts';
import { activeFaults, breakFault, faultKind, healFault, LAB_FAULTS, LabFaultInputError, LabFaultStateError, usageOf, type LabFaultKind } from '../../lab/break-heal.ts';
import { readCalls } from '../../lab/call-log.ts';
import { createLab, extendLab, LabConflictError } from '../../lab/fleet.ts';
import { fleetFromPlan } from '../../lab/from-blueprint.ts';
import { isScenarioName, SCENARIOS } from '../../lab/scenarios.ts';
import { readLabState, type LabState } from '../../lab/state.ts';
import { planFromFile } from '../../blueprint/plan-file.ts';
import { labDirFor } from '../context.ts';
import { CliError, colors, printJson, type CliIO } from '../io.ts';

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
    .description("build the lab's fleet from a blueprint; clusters the lab holds already stay exactly as they are (rehearse a join: lab init the bigger blueprint, then rollout it)")
    .argument('<file>', 'blueprint YAML')
    .option('--scenario <name>', 'scenario', 'happy')
    .option('--tool-latency <ms>', 'every simulated tool call takes this long', '0')
    .option('--fresh', 'start a new lab: forget every cluster it holds')
    .action(async (file: string, opts: { scenario: string; toolLatency: string; fresh?: boolean }) => {
      if (!isScenarioName(opts.scenario)) throw new CliError(`--scenario: one of ${Object.keys(SCENARIOS).join(', ')}`, 2);
      const latency = Number(opts.toolLatency);
      if (!Number.isInteger(latency) || latency < 0) throw new CliError('--tool-latency: expected a whole number of milliseconds', 2);
      const dir = labDirFor(loadEnv(io.env));
      const fleet = fleetFromPlan(await planFromFile(file));
      const settings = { scenario: opts.scenario, toolLatencyMs: latency };
      if (opts.fresh) {
        const state = createLab(dir, fleet, settings);
        io.out(`lab at ${dir}: ${Object.keys(state.clusters).length} clusters, ${Object.keys(state.nodes).length} nodes, scenario ${opts.scenario}\n`);
        return;
      }
      let lab;
      try {
        lab = await extendLab(dir, fleet, settings);
      } catch (err) {
        if (err instanceof LabConflictError) throw new CliError(err.message, 1, `meshpilot lab init ${file} --fresh`);
        throw err;
      }
      const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
      io.out(
        `lab at ${dir}: ${Object.keys(lab.state.clusters).length} clusters, ${Object.keys(lab.state.nodes).length} nodes, scenario ${opts.scenario}\n` +
          `  kept as they are: ${list(lab.kept)}\n  added: ${list(lab.added)}\n` +
          (lab.unlisted.length ? `  not in this blueprint (left alone): ${list(lab.unlisted)}\n` : ''),
      );
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
      const broken = activeFaults(state);
      io.out(`broken: ${broken.map((b) => [b.kind, ...b.args].join(' ')).join('; ') || 'nothing'}\n`);
    });

  lab
    .command('faults')
    .description('every fault `lab break` can inject: what it simulates, which command shows it; and what is broken now')
    .option('--json', 'machine-readable list')
    .action((opts: { json?: boolean }) => {
      const dir = labDirFor(loadEnv(io.env));
      const state = existsSync(path.join(dir, 'state.json')) ? readLabState(dir) : undefined;
      if (opts.json) {
        return printJson(
          io,
          LAB_FAULTS.map((k) => ({ kind: k.kind, usage: usageOf(k), args: k.args, ...(k.option ? { option: k.option } : {}), simulates: k.simulates, shownBy: k.shownBy, ...(state ? { broken: k.active(state) } : {}) })),
        );
      }
      io.out(renderFaults(io, state));
    });

  lab
    .command('break')
    .description('inject a fault into the running lab (see: meshpilot lab faults); meshpilot lab heal takes it back')
    .argument('<kind>', `one of: ${LAB_FAULTS.map((k) => k.kind).join(', ')}`)
    .argument('[args...]', 'what it applies to: CLUSTER, PEER, NODE (name or address), POLICY (NAMESPACE/NAME)')
    .option('--every <n>', 'flaky-tools: every Nth call of each tool fails (default 4)')
    .option('--extra-ms <ms>', 'etcd-slow: extra round trip on the node’s etcd peer links (default 25)')
    .option('--days <n>', 'certs-expiring: days until the certificates expire (default 10; 0 = expired)')
    .option('--json', 'print what was broken as JSON')
    .action(async (kind: string, args: string[], opts: { every?: string; extraMs?: string; days?: string; json?: boolean }) => {
      const given = (['every', 'extraMs', 'days'] as const).filter((k) => opts[k] !== undefined);
      if (given.length > 1) throw new CliError('--every, --extra-ms and --days: give at most one (each belongs to one kind)', 2);
      const flagOf = { every: '--every', extraMs: '--extra-ms', days: '--days' } as const;
      const option = given[0] ? { flag: flagOf[given[0]], value: Number(opts[given[0]]) } : undefined;
      const done = await labFault(() => breakFault(labDirFor(loadEnv(io.env)), kind, args, option));
      if (opts.json) return printJson(io, { broken: done });
      const k = faultKind(kind);
      io.out(`broken: ${[kind, ...args].join(' ')}${done.option !== undefined ? ` (${k.option!.flag} ${done.option})` : ''}\n`);
      io.out(`  simulates: ${withArgs(k, args, k.simulates)}\n`);
      for (const s of k.shownBy) io.out(`  shown by:  ${s}\n`);
      io.out(`  heal:      meshpilot lab heal ${[kind, ...args].join(' ')}\n`);
    });

  lab
    .command('heal')
    .description('take back exactly what `lab break KIND …` did (or a scenario’s fault of that kind)')
    .argument('<kind>', 'the kind given to lab break')
    .argument('[args...]', 'the same arguments')
    .option('--json', 'print what was healed as JSON')
    .action(async (kind: string, args: string[], opts: { json?: boolean }) => {
      const done = await labFault(() => healFault(labDirFor(loadEnv(io.env)), kind, args));
      if (opts.json) return printJson(io, { healed: done });
      io.out(`healed: ${[kind, ...args].join(' ')}\n`);
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

/** The lab's own errors in the CLI's words: bad input exits 2 naming the argument, a lab not in that state exits 1. */
async function labFault<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LabFaultInputError) throw new CliError(err.message, 2, 'meshpilot lab faults lists every kind and its arguments');
    if (err instanceof LabFaultStateError) throw new CliError(err.message, 1, err.hint);
    throw err;
  }
}

/** A kind's sentence with its placeholders (CLUSTER, PEER, NODE, POLICY) replaced by what was given. */
function withArgs(k: LabFaultKind, args: readonly string[], text: string): string {
  return k.args.reduce((t, name, i) => t.replaceAll(name, args[i] ?? name), text);
}

function renderFaults(io: CliIO, state: LabState | undefined): string {
  const c = colors(io);
  const lines: string[] = [];
  for (const k of LAB_FAULTS) {
    lines.push(c.bold(usageOf(k)), `    ${k.simulates}`, ...k.shownBy.map((s) => `    shown by: ${s}`), '');
  }
  if (!state) lines.push('no lab yet: meshpilot rollout FILE --lab happy (or meshpilot lab init FILE) creates one');
  else {
    const broken = activeFaults(state);
    lines.push(broken.length ? `broken now (${state.scenario} lab):` : `nothing broken now (${state.scenario} lab)`);
    for (const b of broken) lines.push(`  ${[b.kind, ...b.args].join(' ')}    heal: meshpilot lab heal ${[b.kind, ...b.args].join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
