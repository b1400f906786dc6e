import type { UpgradePlan, UpgradeStepPlan } from '../../blueprint/upgrade/plan.ts';
import type { MeshSurvey } from '../../blueprint/upgrade/survey.ts';
import { colors, type CliIO } from '../io.ts';

/** `meshpilot upgrade FILE --plan`: the live versions, then the whole path — versions, nodes, order, gates. */
export function renderUpgradePlan(io: CliIO, survey: MeshSurvey, plan: UpgradePlan): string {
  const c = colors(io);
  const out = [c.bold(`upgrade of mesh ${plan.mesh} to revision ${plan.revision}`), ''];
  out.push(c.bold('live versions'));
  for (const s of survey.clusters) {
    const talos = [...new Set(s.nodes.map((n) => n.talos ?? `? (${n.stage})`))].join(', ');
    const apiserver = s.cilium.apiserver.join('/') || '-';
    out.push(`  ${s.cluster.padEnd(18)} Talos ${talos} · Kubernetes ${s.kubernetes ?? '?'} · Cilium ${s.cilium.chart ?? 'none'} (agents ${s.cilium.agents.join('/') || '-'}, clustermesh-apiserver ${apiserver})`);
  }
  out.push('', `${c.bold('order')}  ${plan.order.map((n) => (n === plan.canary ? `${n} (canary)` : n)).join(' → ')}`);
  let n = 0;
  const line = (s: UpgradeStepPlan) => {
    n += 1;
    const marks = `${s.gate ? ' (gate: overridable)' : ''}${s.skippable ? ' (skippable)' : ''}`;
    return [`  ${String(n).padStart(3)}. ${c.bold(`${s.name}${s.target ? ` ${s.target}` : ''}`)}${c.dim(marks)} - ${s.title}`, ...s.details.map((d) => `         · ${d}`)].join('\n');
  };
  out.push('', line(plan.meshSteps.find((s) => s.name === 'survey')!));
  for (const cl of plan.clusters) {
    const what = [
      cl.talos ? `Talos → ${cl.talos.to} on ${cl.talos.nodes.length} node(s)` : undefined,
      cl.kubernetes ? `Kubernetes ${cl.kubernetes.from} → ${cl.kubernetes.to}` : undefined,
      cl.cilium ? `Cilium ${cl.cilium.from} → ${cl.cilium.to}` : undefined,
    ].filter(Boolean);
    out.push('', `${c.bold(`cluster ${cl.name}`)}${cl.canary ? c.cyan(' (canary)') : ''}  ${c.dim(what.join(' · ') || 'Cilium images checked')}`);
    out.push(...cl.steps.map(line));
    const after = plan.meshSteps.filter((s) => s.target === cl.name);
    if (after.length) out.push(c.dim(`  then the mesh, before the next cluster:`), ...after.map(line));
  }
  if (plan.unchanged.length) out.push('', `${c.dim("already at the blueprint's versions:")} ${plan.unchanged.join(', ')}`);
  if (!plan.clusters.length && !plan.refusals.length) out.push('', c.green("nothing to upgrade: every cluster runs the blueprint's versions"));
  if (plan.warnings.length) out.push('', ...plan.warnings.map((w) => `${c.yellow('warning')} ${w}`));
  if (plan.refusals.length) {
    out.push('', c.red(c.bold('refused: this path is not supported; nothing will run')));
    out.push(...plan.refusals.map((r) => `  ${c.red('✖')} ${r.cluster}${r.node ? `/${r.node}` : ''}: ${r.message}`));
  }
  return `${out.join('\n')}\n`;
}
