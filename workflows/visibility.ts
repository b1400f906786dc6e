// What a person sees in the Temporal UI: search attributes (only on change) and the current-details table.
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from '../contracts/names.ts';
import type { RunState, StepStatus } from '../contracts/status.ts';

const ICON: Record<StepStatus['state'], string> = {
  pending: '·',
  running: '▶',
  blocked: '⏸',
  done: '✔',
  skipped: '↷',
  overridden: '⚠',
  failed: '✖',
  aborted: '■',
};

export function stepsTable(title: string, steps: StepStatus[]): string {
  const rows = steps.map((s) => {
    const detail = s.blocked ? `**${escape(s.blocked.reason)}**<br>hint: ${escape(s.blocked.hint)}` : escape(s.note ?? '');
    return `| ${ICON[s.state]} ${s.name} | ${s.state} | ${s.attempts} | ${detail} |`;
  });
  return [`### ${title}`, '', '| step | state | attempts | details |', '|---|---|---|---|', ...rows].join('\n');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Keeps search attributes in step with the run, upserting only when a value changes (history stays small). */
export class SearchAttributeTracker {
  private last = new Map<string, string>();

  update(values: { state: RunState; blockedStep: string }): void {
    const changes: Array<{ key: typeof SA.state; value: string }> = [];
    if (this.last.get('state') !== values.state) changes.push({ key: SA.state, value: values.state });
    if (this.last.get('blocked') !== values.blockedStep) changes.push({ key: SA.blockedStep, value: values.blockedStep });
    if (changes.length === 0) return;
    this.last.set('state', values.state);
    this.last.set('blocked', values.blockedStep);
    upsertSearchAttributes(changes);
  }
}

export function showDetails(markdown: string): void {
  setCurrentDetails(markdown.slice(0, 20_000));
}
