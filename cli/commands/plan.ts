// `meshpilot plan FILE`: what a rollout of this blueprint will do, step by step, and (with --out) the exact
// artifacts each step applies.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { colors, printJson, type CliIO } from '../io.ts';
import { outDir } from '../out-dir.ts';
import { loadBlueprintFile } from '../../blueprint/load.ts';
import { planRollout, type RolloutPlan, type StepPlan } from '../../blueprint/plan.ts';
import { planArtifacts } from '../../blueprint/artifacts.ts';
import type { Blueprint } from '../../blueprint/schema.ts';
import { CLUSTER_STEPS, MESH_STEPS, type StepDefinition } from '../../contracts/steps.ts';
import type { BlueprintIssue } from '../../blueprint/issues.ts';
import { topologyModel } from '../../pictures/topology/model.ts';
import { topologySvg } from '../../pictures/topology/render.ts';
import { printIssues } from './validate.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Each step numbered by its place in its table, what it runs, then this blueprint's values for it. */
export function renderSteps(io: CliIO, steps: StepPlan[], number: (s: StepPlan) => number): string {
  const c = colors(io);
  return steps
    .map((s) => {
      const marks = `${s.skippable ? ' (skippable)' : ''}${s.gate ? ' (gate: overridable)' : ''}`;
      const head = `  ${String(number(s)).padStart(2)}. ${c.bold(s.name)}${c.dim(marks)} - ${s.title}`;
      return [head, ...s.runs.map((r) => c.dim(`        ${r}`)), ...s.details.map((d) => `        · ${d}`)].join('\n');
    })
    .join('\n');
}

export function renderPlan(io: CliIO, bp: Blueprint, plan: RolloutPlan): string {
  const c = colors(io);
  const rows = [['CLUSTER', 'ID', 'REGION', 'SITE', 'NODES', 'PODS', 'SERVICES', 'LB', 'APISERVER IP']];
  for (const spec of bp.clusters) {
    const cps = spec.nodes.filter((n) => n.role === 'controlplane').length;
    rows.push([
      spec.name,
      String(spec.id),
      spec.region,
      spec.site,
      `${cps} cp + ${spec.nodes.length - cps} w`,
      spec.network.podSubnets.join(','),
      spec.network.serviceSubnets.join(','),
      `${spec.loadBalancer.mode} ${spec.loadBalancer.pool.map((b) => b.cidr ?? `${b.start}-${b.stop ?? b.start}`).join(',')}`,
      spec.clustermesh.apiserverIP ?? '-',
    ]);
  }
  const parts = [
    `${c.bold(`mesh ${plan.mesh}`)}  revision ${plan.revision}  ${plan.meshPhase.method} connect, encryption ${plan.meshPhase.encryption}, kvstoremesh ${plan.meshPhase.kvstoremesh ? 'on' : 'off'}, maxConnectedClusters ${plan.meshPhase.maxConnectedClusters}`,
    '',
    table(rows),
  ];
  const clusterNumber = (s: StepPlan) => CLUSTER_STEPS.findIndex((d) => d.name === s.name) + 1;
  const meshNumber = (s: StepPlan) => MESH_STEPS.findIndex((d) => d.name === s.name) + 1;
  const meshDefs: readonly StepDefinition[] = MESH_STEPS;
  const first = new Set(meshDefs.filter((d) => d.beforeClusters).map((d) => d.name));
  parts.push('', c.bold('mesh (before the clusters)'), renderSteps(io, plan.meshPhase.steps.filter((s) => first.has(s.name)), meshNumber));
  for (const cl of plan.clusters) {
    parts.push('', c.bold(`cluster ${cl.name}`) + c.dim(`  Talos ${cl.talos.version}, Kubernetes ${cl.talos.kubernetesVersion}, Cilium ${cl.cilium.version}`), renderSteps(io, cl.steps, clusterNumber));
  }
  parts.push('', c.bold('mesh (after every cluster reaches clustermesh-address)'), renderSteps(io, plan.meshPhase.steps.filter((s) => !first.has(s.name)), meshNumber));
  if (plan.warnings.length) parts.push('', ...plan.warnings.map((w) => `${c.yellow('warning')} ${w}`));
  return `${parts.join('\n')}\n`;
}

async function writeArtifacts(dir: string, bp: Blueprint, plan: RolloutPlan, warnings: BlueprintIssue[]): Promise<string[]> {
  const root = await outDir(dir);
  await writeFile(join(root, 'topology.svg'), await topologySvg(topologyModel(bp, { warnings, revision: plan.revision })));
  const written: string[] = ['topology.svg'];
  for (const a of planArtifacts(plan)) {
    const target = join(root, a.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, a.content);
    written.push(a.path);
  }
  return written;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('plan')
    .description('show the rollout plan of a blueprint; --out writes the rendered Talos patches, Helm values, manifests and topology.svg')
    .argument('<file>', 'blueprint YAML')
    .option('--out <dir>', 'write the rendered artifacts and topology.svg under this directory')
    .option('--json', 'print the plan as JSON')
    .option('--strict', 'treat unverified version combinations as errors')
    .action(async (file: string, opts: { out?: string; json?: boolean; strict?: boolean }) => {
      const strict = opts.strict ?? false;
      const r = await loadBlueprintFile(file, { strict });
      if (!r.ok || !r.blueprint) {
        io.exitCode = 1;
        if (opts.json) printJson(io, { ok: false, errors: r.errors, warnings: r.warnings });
        else {
          printIssues(io, file, r);
          io.out(`${colors(io).red('invalid')}: ${file}: fix the errors above, then run plan again\n`);
        }
        return;
      }
      const plan = planRollout(r.blueprint, { strict });
      const written = opts.out ? await writeArtifacts(opts.out, r.blueprint, plan, r.warnings) : [];
      if (opts.json) {
        printJson(io, plan);
      } else {
        io.out(renderPlan(io, r.blueprint, plan));
        if (opts.out) io.out(`\nwrote ${written.length} files under ${opts.out}\n`);
      }
      if (opts.json && opts.out) io.err(`wrote ${written.length} files under ${opts.out}\n`);
    });
}
