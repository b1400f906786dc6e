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
  const lines = [`${c.bold(v.workflowId)}  mesh ${v.mesh}  revision ${v.revision}  ${stateColor(v.state)}`];
  const width = Math.max(4, ...v.clusters.map((x) => x.name.length));
  for (const cl of v.clusters) {
    const step = currentStep(cl.steps);
    // a cluster whose workflow has not started yet (an upgrade runs clusters one at a time) is waiting its turn
    const waiting = cl.step === 'not started' && cl.steps.length === 0 && !isTerminal(cl.state);
    lines.push(
      `  ${cl.name.padEnd(width)}  ${(waiting ? c.dim('waiting') : stateColor(cl.state)).padEnd(io.color ? 18 : 9)}  ${(waiting ? '' : progress(cl.steps)).padStart(5)}  ${step ? `${MARK[step.state]} ${stepLabel(step)}` : ''}`,
    );
  }
  const meshStep = currentStep(v.meshSteps);
  lines.push(`  ${'mesh'.padEnd(width)}  ${''.padEnd(9)}  ${progress(v.meshSteps).padStart(5)}  ${meshStep ? `${MARK[meshStep.state]} ${stepLabel(meshStep)}` : ''}`);
  if (v.blocked) {
    lines.push('', c.yellow(`⏸ paused at ${v.blocked.cluster ? `${v.blocked.cluster}/` : ''}${stepLabel(v.blocked)} since ${v.blocked.since}`));
    lines.push(`  reason: ${v.blocked.reason}`, `  hint:   ${v.blocked.hint}`);
    const acts = [`meshpilot resume ${v.workflowId}`];
    if (v.blocked.skippable) acts.push(`meshpilot skip ${v.workflowId} --step ${v.blocked.step} --reason "..."`);
    if (v.blocked.overridable) acts.push(`meshpilot override ${v.workflowId} --step ${v.blocked.step} --reason "..."`);
    acts.push(`meshpilot abort ${v.workflowId} --reason "..."`);
    lines.push(`  act:    ${acts.join('\n          ')}`);
  }
  if (v.error) lines.push('', c.red(`error: ${v.error}`));
  if (uiUrl) lines.push('', `UI: ${uiUrl}`);
  return `${lines.join('\n')}\n`;
}
