import { currentStep, isPassed, isTerminal, STEP_ICON, stepLabel, type RolloutView, type StepStatus } from '../../contracts/status.ts';
import { colors, type CliIO } from '../io.ts';

const MARK = STEP_ICON;

function progress(steps: StepStatus[]): string {
  return `${steps.filter(isPassed).length}/${steps.length}`;
}

/** The human view of a rollout: one line per cluster and the mesh phase, then what is blocked and why. */
export function renderRolloutView(io: CliIO, v: RolloutView, uiUrl?: string): string {
  const c = colors(io);
  const stateColor = (s: string) =>
    s === 'completed' ? c.green(s) : s === 'paused' ? c.yellow(s) : s === 'failed' || s === 'aborted' ? c.red(s) : c.cyan(s);
  const lines = v.operation
    ? [`${c.bold(v.workflowId)}  ${v.operation.kind}${v.operation.cluster ? ` ${v.operation.cluster}` : ''} ${v.operation.kind === 'detach' ? 'from' : 'of'} mesh ${v.mesh}  ${stateColor(v.state)}`, `  ${v.operation.kind === 'detach' ? 'reason' : 'what'}: ${v.operation.reason}`]
    : [`${c.bold(v.workflowId)}  mesh ${v.mesh}  revision ${v.revision}  ${stateColor(v.state)}`];
  const width = Math.max(4, ...v.clusters.map((x) => x.name.length));
  for (const cl of v.clusters) {
    const step = currentStep(cl.steps);
    // a cluster whose workflow has not started yet (an upgrade runs clusters one at a time) is waiting its turn
    const waiting = cl.step === 'not started' && cl.steps.length === 0 && !isTerminal(cl.state);
    lines.push(
      `  ${cl.name.padEnd(width)}  ${(waiting ? c.dim('waiting') : stateColor(cl.state)).padEnd(io.color ? 18 : 9)}  ${(waiting ? '' : progress(cl.steps)).padStart(5)}  ${step ? `${MARK[step.state]} ${stepLabel(step)}` : ''}${cl.role === 'member' ? c.dim('  (member: kept)') : ''}`,
    );
  }
  const meshStep = currentStep(v.meshSteps);
  const label = v.operation?.kind ?? 'mesh';
  lines.push(`  ${label.padEnd(width)}  ${''.padEnd(9)}  ${progress(v.meshSteps).padStart(5)}  ${meshStep ? `${MARK[meshStep.state]} ${stepLabel(meshStep)}` : ''}`);
  if (v.blocked) lines.push('', renderPause(io, v));
  if (v.error) lines.push('', c.red(`error: ${v.error}`));
  if (uiUrl) lines.push('', `UI: ${uiUrl}`);
  return `${lines.join('\n')}\n`;
}

/** Where the rollout is paused, why, what would fix it, and the actions that apply to that step. */
export function renderPause(io: CliIO, v: RolloutView): string {
  const b = v.blocked;
  if (!b) return '';
  const acts = [`meshpilot resume ${v.workflowId}`];
  if (b.skippable) acts.push(`meshpilot skip ${v.workflowId} --step ${b.step} --reason "..."`);
  if (b.overridable) acts.push(`meshpilot override ${v.workflowId} --step ${b.step} --reason "..."`);
  acts.push(`meshpilot abort ${v.workflowId} --reason "..."`);
  return [
    colors(io).yellow(`⏸ paused at ${b.cluster ? `${b.cluster}/` : ''}${stepLabel(b)} since ${b.since}`),
    `  reason: ${b.reason}`,
    `  hint:   ${b.hint}`,
    `  act:    ${acts.join('\n          ')}`,
  ].join('\n');
}
