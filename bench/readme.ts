// bench/README.md: the method (fixed text) and the latest run (table, targets, machine), rewritten by each run.
import { CHART_FILES } from './charts.ts';
import type { BenchResult } from './report.ts';
import { table, targets } from './report.ts';
import { capacitySectionOf } from './capacity-report.ts';

/** The upgrade rows' own section (bench/upgrade-run.ts writes it; `--upgrade-only` rewrites only it). */
export const UPGRADE_BEGIN = '<!-- upgrade-bench:begin -->';
export const UPGRADE_END = '<!-- upgrade-bench:end -->';
export function upgradeSectionOf(text: string): string | undefined {
  const i = text.indexOf(UPGRADE_BEGIN);
  const j = text.indexOf(UPGRADE_END);
  return i >= 0 && j > i ? text.slice(i, j + UPGRADE_END.length) : undefined;
}

const METHOD = `## What is measured

\`npm run bench\` (not a test: it never fails on a figure) starts one Temporal dev server and, for each mesh size,
measures side by side in the same run:

- **(a) meshpilot**: the real worker (real workflows and activities) on a fresh lab, rolling out an N-cluster
  blueprint. Wall time = the parent workflow's start → close time on the server's clock.
- **(b) the seed's runbook** as a plain sequential script (\`bench/sequential-runbook.ts\`) on its own fresh lab,
  calling the same simulated tools through execa with the worker's PATH and environment: per cluster, one after
  another, \`talosctl gen secrets\`, \`gen config\`, \`apply-config\` per node, poll until every node runs,
  \`bootstrap\`, \`kubeconfig\`, \`helm upgrade --install cilium\`, poll \`cilium status\`, the LB-IPAM CRDs, pool
  and L2 policy (the seed's bare-metal note), \`cilium clustermesh enable --service-type LoadBalancer\`; then
  \`cilium clustermesh connect\` for every pair and \`cilium clustermesh status --wait\` on each. It polls every
  200 ms and does none of meshpilot's checks (preflight, validate, etcd gate, LB canary, global canary, manifests),
  so it makes fewer calls: it is what an engineer typing the seed would do, not an equivalent rollout.
- **(c) the critical path of tool time**, from the lab's call log of meshpilot's own run (\`lab/call-log.ts\`:
  every call's start and duration, measured by the lab where it runs the call — in the worker's lab tool server,
  \`lab/server/\` — so it includes the fixed latency and the tool's work but not the shim's start-up or the
  activity's scheduling). Each call before the first mesh step is given to its
  cluster (talosctl by \`-n\`/\`gen config\` name; kubectl/helm/cilium by the API server of their KUBECONFIG, noted
  by a tiny PATH shim that keeps the pid — \`bench/tool-shims.ts\`; version checks and \`gen secrets\` by the
  cluster step running at that moment). Per cluster, the union of its call intervals is its tool time (calls
  that ran in parallel count once); the slowest cluster's is the cluster phase. The mesh phase is the union of
  every call from the first mesh step on. Critical path = cluster phase + mesh phase. Time the lab spends
  "installing" or "booting" between polls is not tool time, so the ratio also charges meshpilot for its poll
  gaps.
- **History events**: \`fetchHistory()\` length of the parent and of every cluster child (latest run), max.
- **Resume latency**: a 2-cluster rollout with \`node-unreachable\` pauses; the bench heals the lab and sends
  \`resume\` (\`actOnStep\`); measured on the server's clock from the update's Accepted event to the next
  ActivityTaskScheduled and ActivityTaskStarted in that child's history, and as a client sees it (resume sent →
  the view no longer shows the step blocked, polled every 20 ms; the step stays "blocked" until its re-check
  activity returns, so this includes the re-check's own tool calls).
- **CPU**: seconds of this process (worker + workflow sandbox + lab tool server) plus its reaped children
  (every tool shim), and of the Temporal dev server, from \`/proc\`.

How the targets were reached: the first full run (every simulated call its own \`node\` process that loaded the
simulator and parsed the whole fleet) measured 1.52–1.94× the critical path and 2.99× from 2 to 16 clusters,
with both cores saturated (217 CPU-s in 116 s at 16 clusters). Three changes: the lab worker answers calls
from one process through a Go shim, reusing the parsed fleet while the file is unchanged (CPU per call down
~10×); activities poll at a fixed rate instead of sleeping a full interval after a check that already took it;
and the bench waits on the rollout's result instead of querying the parent and every child four times a second
(at 16 clusters, 68 queries/s that the worker under test had to answer).

Blueprints are generated from \`examples/usa-europe.yaml\` (\`bench/blueprint.ts\`): cluster i = \`bench-cNN\`,
ID i, its own region and site, pods 10.i.0.0/16, services 10.(96+i).0.0/16, nodes 192.168.i.0/24, LB pool
192.168.i.240/28, **one control plane and one worker** per cluster (a 3-CP fleet adds tool processes per
cluster on a 2-core machine without exercising any other code path).

Options: \`npm run bench -- --sizes 2,4 --latency 500 --poll-budget 8000 --no-readme\`. Raw figures of the last
run: \`bench/results/latest.json\`. The charts (\`bench/charts/\`, Vega-Lite rendered to SVG in Node by \`bench/charts.ts\`)
are drawn from the same figures; \`npm run bench -- --charts-only\` redraws them and this file from latest.json
without running anything.
`;

export function renderReadme(r: BenchResult, previous: string): string {
  const capacity = capacitySectionOf(previous);
  const upgrade = upgradeSectionOf(previous);
  return [
    '# meshpilot benchmark',
    '',
    `Latest run: ${r.at}, ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}; fixed tool latency ${r.toolLatencyMs} ms per call; poll budget ${r.pollBudgetMs} ms; whole bench ${(r.totalMs / 60_000).toFixed(1)} min; load average (1 min) at the end ${r.machine.loadAvg1m ?? 'not recorded'}${(r.machine.loadAvg1m ?? 0) > r.machine.cores ? ' — the machine was shared with other work during this run, so absolute times are inflated; the ratios were measured side by side' : ''}.`,
    '',
    table(r),
    '',
    `![Wall time of a rollout against mesh size: meshpilot, the runbook script and the critical path](${CHART_FILES.wallTime})`,
    '',
    `![Wall time as a ratio to the critical path, with the 1.15× target](${CHART_FILES.ratio})`,
    '',
    '## Targets',
    '',
    ...targets(r),
    '',
    METHOD,
    ...(capacity ? [capacity, ''] : []),
    ...(upgrade ? [upgrade, ''] : []),
  ].join('\n');
}
