// Workflow-safe: the failover drill's model (issue #17, part 3). A drill takes one region's backends of global
// Services out of service, watches every cluster's agent until clients reach the other regions' backends, puts
// the backends back exactly as they were, and reports. Plain data: it travels through history and the report.
import type { ActorInput } from './messages.ts';
import type { OperatorAction, RunState, StepStatus } from './status.ts';
import type { PauseLimits } from './steps.ts';

/** `namespace/name` of a Service. */
export type ServiceKey = string;

/** A cluster of the mesh as the drill sees it. */
export interface DrillCluster {
  name: string;
  region: string;
  /** the cluster's pod ranges: backends carry no cluster id, their address tells where they live */
  podCidrs: string[];
}

export interface FailoverDrillInput {
  mesh: string;
  revision: string;
  /** the blueprint's cluster `region` being drained */
  region: string;
  /** every cluster of the mesh (the drained region's and the others) */
  clusters: DrillCluster[];
  /** global Services drilled (`namespace/name`): `--service`, or the canary and every blueprint global Service */
  services: ServiceKey[];
  requestedBy: ActorInput;
  limits?: PauseLimits;
  /** carried through continue-as-new while paused */
  carried?: FailoverCarried;
}

/** A Deployment backing a drilled Service in a drained cluster, with what it ran before the drill. */
export interface DrainedWorkload {
  cluster: string;
  namespace: string;
  name: string;
  /** spec.replicas before the drill: what the restore puts back */
  replicas: number;
  /** the drilled Services it backs */
  services: ServiceKey[];
}

/** What the preflight found (read-only): the workloads to drain and each cluster's backends by source cluster. */
export interface DrillBaseline {
  workloads: DrainedWorkload[];
  /** cluster → service → source cluster → active backends */
  backends: Record<string, Record<ServiceKey, Record<string, number>>>;
  /** Services left out because no cluster serves a backend of them (nothing to fail over) */
  skipped: Array<{ service: ServiceKey; why: string }>;
}

/** One cluster's agent after the drain: do its clients reach healthy backends, and from where? */
export interface ClusterObservation {
  cluster: string;
  region: string;
  /** `surviving`: a cluster of another region; `drained`: a cluster of the drained region (its clients lost their local backends) */
  role: 'surviving' | 'drained';
  service: ServiceKey;
  /** the drain's end to the first poll that saw the drained region's backends gone and healthy ones left (ms); absent if never */
  failoverMs?: number;
  /** already so at the watch's first poll: the failover took at most `failoverMs` (the watch starts a little after the drain) */
  atFirstLook?: boolean;
  /** active backends by source cluster at that moment (or when the watch gave up) */
  bySource: Record<string, number>;
  /** healthy backends outside the drained region are reachable (the service fails over for these clients) */
  ok: boolean;
  note: string;
}

export interface RestoredWorkload extends DrainedWorkload {
  readyReplicas: number;
}

export interface FailoverCarried {
  startedAt: string;
  runner: { steps: StepStatus[]; actions: OperatorAction[]; abortedBy?: ActorInput & { reason: string } };
  baseline?: DrillBaseline;
  /** secret-store references (names, never the kubeconfigs) the preflight checked */
  kubeconfigRefs?: Record<string, string>;
  drainStarted: boolean;
  drainedAt?: string;
  observations?: ClusterObservation[];
  restored?: RestoredWorkload[];
  aborted?: boolean;
  /** `restore`: the drill part had ended (done, aborted or failed) when the run continued as new */
  phase?: 'drill' | 'restore';
  error?: string;
}

/** The report: everything the markdown and the JSON say, built from the run's own state. */
export interface FailoverReport {
  id: string;
  mesh: string;
  region: string;
  state: RunState;
  /** `passed`: every cluster's clients reached healthy backends elsewhere; `failed`: some did not; `incomplete`: aborted or failed before the watch ended */
  verdict: 'passed' | 'failed' | 'incomplete';
  startedAt: string;
  endedAt: string;
  requestedBy: { by: string; via: string };
  services: ServiceKey[];
  skipped: Array<{ service: ServiceKey; why: string }>;
  drainedAt?: string;
  /** the slowest cluster's time to fail over, over every drilled Service (ms) */
  slowestFailoverMs?: number;
  regions: Array<{ region: string; clusters: string[]; role: 'surviving' | 'drained'; observations: ClusterObservation[] }>;
  workloads: Array<DrainedWorkload & { restoredReplicas?: number; readyReplicas?: number }>;
  /** every workload back at its original replica count, ready */
  restored: boolean;
  steps: Array<{ name: string; state: string; note?: string }>;
  actions: OperatorAction[];
  /** where the worker wrote report.md and report.json */
  files?: { markdown: string; json: string };
  error?: string;
}

export interface FailoverDrillResult {
  id: string;
  mesh: string;
  region: string;
  state: RunState;
  report: FailoverReport;
}

const ms = (n: number | undefined) => (n === undefined ? 'never' : n < 10_000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);
const sources = (b: Record<string, number>) =>
  Object.entries(b)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${n} in ${c}`)
    .join(', ') || 'none';

/** The report as markdown: the UI details, report.md and the chat post all show this. */
export function failoverReportMarkdown(r: FailoverReport): string {
  const lines = [
    `# Failover drill: region ${r.region} of mesh ${r.mesh}: ${r.verdict.toUpperCase()}`,
    '',
    `Run \`${r.id}\` (${r.state}), requested by ${r.requestedBy.by} via ${r.requestedBy.via}; ${r.startedAt} to ${r.endedAt}.`,
    '',
    `- **services**: ${r.services.join(', ') || 'none'}${r.skipped.length ? `; not drilled: ${r.skipped.map((s) => `${s.service} (${s.why})`).join(', ')}` : ''}`,
    `- **drained**: ${r.drainedAt ? `at ${r.drainedAt}` : 'not yet'}; slowest failover **${ms(r.slowestFailoverMs)}**`,
    `- **restored**: ${r.restored ? 'every workload is back at its original replica count and ready' : 'NOT every workload is back (see the table)'}`,
    ...(r.error ? [`- **error**: ${r.error}`] : []),
    '',
    '## Per region',
    '',
    '| region | role | cluster | service | fails over in | backends reached | verdict |',
    '|---|---|---|---|---|---|---|',
    ...r.regions.flatMap((g) =>
      g.observations.length
        ? g.observations.map((o) => `| ${g.region} | ${g.role} | ${o.cluster} | ${o.service} | ${o.atFirstLook ? '≤ ' : ''}${ms(o.failoverMs)} | ${sources(o.bySource)} | ${o.ok ? 'ok' : `**${o.note}**`} |`)
        : [`| ${g.region} | ${g.role} | ${g.clusters.join(', ')} | - | - | - | not observed |`],
    ),
    '',
    '## Workloads drained and restored',
    '',
    '| cluster | deployment | replicas before | restored to | ready |',
    '|---|---|---|---|---|',
    ...r.workloads.map((w) => `| ${w.cluster} | ${w.namespace}/${w.name} | ${w.replicas} | ${w.restoredReplicas ?? '-'} | ${w.readyReplicas ?? '-'} |`),
    '',
    '## Steps',
    '',
    ...r.steps.map((s) => `- ${s.name}: ${s.state}${s.note ? ` (${s.note})` : ''}`),
    ...(r.actions.length ? ['', '## Operator actions', '', ...r.actions.map((a) => `- ${a.at} ${a.action} by ${a.by} via ${a.via}${a.reason ? `: ${a.reason}` : ''}`)] : []),
    '',
  ];
  return lines.join('\n');
}
