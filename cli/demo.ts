import path from 'node:path';
import { getRolloutView, actOnStep, amendRollout, startRollout } from '../client/rollouts.ts';
import { type Client } from '@temporalio/client';
import { fetchRolloutFacts } from '../client/rollout-history.ts';
import { rolloutReport } from '../pictures/timeline/report.ts';
import { callsMatching, readCalls } from '../lab/call-log.ts';
import { createLab } from '../lab/fleet.ts';
import { fleetFromPlan } from '../lab/from-blueprint.ts';
import { SCENARIOS, type ScenarioName } from '../lab/scenarios.ts';
import { connectClient } from '../temporal/connection.ts';
import { loadEnv, projectRoot, temporalSettings } from '../config/env.ts';
import { untilSignal } from '../workers/run.ts';
import { planFromFile } from '../blueprint/plan-file.ts';
import { labDirFor } from './context.ts';
import { startDevStack } from './dev-stack.ts';
import type { RolloutView } from '../contracts/status.ts';
import { colors, type CliIO } from './io.ts';
import { uiLink } from '../temporal/ui-link.ts';
import { writeOut } from './out-dir.ts';
import { watchRollout } from './watch.ts';

export const DEMO_BLUEPRINT = path.join(projectRoot, 'examples', 'usa-europe.yaml');
export const DEMO_FIX = path.join(projectRoot, 'examples', 'usa-europe-pool-fixed.yaml');

/** Identifies one pause: the same step re-checked and blocked again is a new pause only after a re-check. */
function pauseKey(v: RolloutView): string {
  const b = v.blocked;
  if (!b) return '';
  const step = v.clusters.find((c) => c.name === b.cluster)?.steps.find((s) => s.name === b.step) ?? v.meshSteps.find((s) => s.name === b.step);
  return `${b.cluster ?? 'mesh'}/${b.step}/${step?.blocked?.rechecks ?? 0}`;
}

/** After an operator action, wait until the run has acted on it (re-checked, moved on, or finished). */
async function leftPause(client: Client, id: string, key: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const v = await getRolloutView(client, id);
    if (v.state !== 'paused' || pauseKey(v) !== key) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The README's first command. Runs the real stack (Temporal dev server + UI, worker, real workflows and
 * activities) against the lab, plays the operator's part when the rollout pauses, and reports what ran.
 */
export async function runDemo(io: CliIO, opts: { scenario: ScenarioName; keep: boolean; toolLatencyMs: number }): Promise<string> {
  const c = colors(io);
  const say = (text: string) => io.out(`${c.cyan('»')} ${text}\n`);
  // the demo talks for itself: the worker only logs warnings unless asked otherwise
  const quiet: CliIO = { ...io, env: { MESHPILOT_LOG_LEVEL: 'warn', ...io.env } };
  const stack = await startDevStack(quiet, { lab: true, log: (l) => io.err(`${c.dim(l)}\n`) });
  let client: Client | undefined;
  try {
    const env = loadEnv({ ...io.env, TEMPORAL_ADDRESS: stack.server.address });
    client = await connectClient(temporalSettings(env));
    const plan = await planFromFile(DEMO_BLUEPRINT);
    createLab(labDirFor(env), fleetFromPlan(plan), { scenario: opts.scenario, toolLatencyMs: opts.toolLatencyMs });
    say(`lab scenario ${c.bold(opts.scenario)}: ${SCENARIOS[opts.scenario]}`);
    const started = await startRollout(client, { plan, requestedBy: { by: 'demo', via: 'cli' }, bootOverride: 'none' });
    const url = uiLink(stack.server.uiUrl, env.TEMPORAL_NAMESPACE, started.workflowId);
    say(`rollout ${c.bold(started.workflowId)} — watch it in the Temporal UI: ${c.bold(url ?? '(headless)')}`);
    let view = await watchRollout(io, client, started.workflowId, { untilPaused: true, uiUrl: url, intervalMs: 500 });
    for (let round = 0; view.state === 'paused' && round < 3; round++) {
      const b = view.blocked!;
      say(`${c.yellow('paused')} at ${b.cluster ?? 'mesh'}/${b.step}: ${b.reason}`);
      say(`hint: ${b.hint}`);
      if (opts.scenario === 'lb-pending' && (b.step === 'lb-ipam' || b.step === 'clustermesh-address')) {
        say(`the operator fixes the pool: meshpilot amend ${started.workflowId} examples/usa-europe-pool-fixed.yaml`);
        const r = await amendRollout(client, started.workflowId, { by: 'demo', via: 'cli', reason: 'the old pool is used up; add 192.168.20.224/28', plan: await planFromFile(DEMO_FIX) });
        say(r.message);
      } else if (b.overridable) {
        say(`the operator accepts the gate: meshpilot override ${started.workflowId} --step ${b.step} --reason "..."`);
        say((await actOnStep(client, started.workflowId, 'override', { by: 'demo', via: 'cli', step: b.step, reason: 'rehearsal: accepted on purpose' })).message);
      } else {
        say(`nothing the demo can fix here; resuming once: meshpilot resume ${started.workflowId}`);
        say((await actOnStep(client, started.workflowId, 'resume', { by: 'demo', via: 'cli' })).message);
      }
      await leftPause(client, started.workflowId, pauseKey(view));
      view = await watchRollout(io, client, started.workflowId, { untilPaused: true, uiUrl: url, intervalMs: 500, after: view });
    }
    const calls = readCalls(labDirFor(env));
    say(
      `${calls.length} tool calls; talosctl bootstrap ${callsMatching(calls, 'talosctl', ['bootstrap']).filter((x) => x.exitCode === 0).length}x ` +
        `(once per cluster), helm upgrade --install ${callsMatching(calls, 'helm', ['upgrade']).length}x`,
    );
    say(`final state: ${view.state === 'completed' ? c.green(view.state) : c.red(view.state)}; UI: ${url}`);
    const reportDir = path.join(env.MESHPILOT_DATA_DIR, 'reports', started.workflowId);
    await writeOut(reportDir, rolloutReport(await fetchRolloutFacts(client, started.workflowId)).files);
    const shown = path.relative(process.cwd(), reportDir);
    say(`where the time went: ${c.bold(path.join(shown.startsWith('..') ? reportDir : shown, 'report.html'))} (meshpilot report ${started.workflowId} --out DIR)`);
    if (opts.keep) {
      say('the dev server and UI keep running; Ctrl-C to stop');
      await untilSignal();
    }
    return view.state;
  } finally {
    await client?.connection.close();
    await stack.stop();
  }
}
