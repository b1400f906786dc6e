// What a person sees in the Temporal UI: search attributes (only on change) and the current-details table.
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SA } from '../contracts/names.ts';
import { STEP_ICON, stepLabel, type BlockedSummary, type ClusterRole, type RunState, type StepStatus } from '../contracts/status.ts';

const ICON = STEP_ICON;

/**
 * The steps as a Markdown list, then the pause (if any) in its own paragraphs: the UI renders details in a
 * sandboxed frame where table columns and nested lists run together. A paused step says how to act on it.
 */
export function stepsTable(title: string, steps: StepStatus[], workflowId?: string): string {
  const lines = steps.map((s) => {
    const tries = s.attempts > 1 ? ` (attempt ${s.attempts})` : '';
    return `- ${ICON[s.state]} **${stepLabel(s)}**: ${s.state === 'blocked' ? 'paused' : s.state}${tries}${s.note ? ` — ${escape(s.note)}` : ''}`;
  });
  const out = [`### ${title}`, '', ...lines];
  for (const s of steps) {
    if (!s.blocked) continue;
    const acts = ['`resume`', ...(s.blocked.skippable ? ['`skip`'] : []), ...(s.blocked.overridable ? ['`override`'] : []), '`abort` (on the rollout)'];
    out.push(
      '',
      `#### ⏸ Paused at ${stepLabel(s)} since ${s.blocked.since} (${s.blocked.rechecks} automatic re-checks)`,
      '',
      `**Reason:** ${escape(s.blocked.reason)}`,
      '',
      `**Hint:** ${escape(s.blocked.hint)}`,
      '',
      `**Act:** ${acts.join(', ')}.` +
        (workflowId
          ? ` CLI: \`meshpilot resume ${workflowId.replace(/-cluster-.*$/, '')}\`. UI: More Actions → Send an Update → \`resume\` with \`{"by":"you","reason":"..."}\` on this workflow.`
          : ''),
    );
  }
  return out.join('\n');
}

export interface MeshDetailsInput {
  mesh: string;
  state: RunState;
  workflowId: string;
  clusters: Array<{ name: string; id: number; site: string; state: RunState; role?: ClusterRole; workflowId: string; apiserverAddress?: string; blocked?: BlockedSummary }>;
  meshSteps: StepStatus[];
}

/** The mesh rollout's details: each cluster (and where it paused), each cluster pause in full, then the mesh phase. */
export function meshDetails(m: MeshDetailsInput): string {
  const clusterLines = m.clusters.map((c) => {
    const role = c.role === 'member' ? ', member of the live mesh: kept, peer list updated' : '';
    const head = `- **${c.name}** (id ${c.id}, ${c.site}${role}): ${c.state}${c.apiserverAddress ? `, clustermesh-apiserver ${c.apiserverAddress}` : ''} — \`${c.workflowId}\``;
    return c.blocked ? `${head} — ⏸ paused at ${stepLabel(c.blocked)}` : head;
  });
  const pauses = m.clusters.flatMap((c) =>
    c.blocked
      ? [
          '',
          `#### ⏸ ${c.name} paused at ${stepLabel(c.blocked)} since ${c.blocked.since}`,
          '',
          `**Reason:** ${c.blocked.reason}`,
          '',
          `**Hint:** ${c.blocked.hint}`,
          '',
          `**Act:** on that cluster's workflow \`${c.workflowId}\`, or \`meshpilot resume ${m.workflowId}\` (routes it there).`,
        ]
      : [],
  );
  const report = `**Timeline and report** (lanes, pauses, who acted, calls per step): \`meshpilot report ${m.workflowId} --out ./report\``;
  return [`## Mesh ${m.mesh}: ${m.state}`, '', ...clusterLines, ...pauses, '', stepsTable('Mesh phase', m.meshSteps, m.workflowId), '', report].join('\n');
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
