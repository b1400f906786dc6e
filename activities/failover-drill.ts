import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { failoverReportMarkdown, type ClusterObservation, type DrainedWorkload, type DrillBaseline, type DrillCluster, type FailoverReport, type RestoredWorkload, type ServiceKey } from '../contracts/failover.ts';
import { blocked, fatal } from '../contracts/failures.ts';
import { globalServiceSources } from './cilium.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { callTool, classify } from './kube/tool-call.ts';
import { pollWithin } from './poll.ts';
import { parseInput } from './talos/inputs.ts';
import { kubectlGet, onCluster } from './verify/verdicts.ts';

/**
 * The failover drill (issue #17, part 3): what it reads and changes in the clusters. Only Deployments that back a
 * drilled global Service in the drained region are ever changed, and only their replica count: down to 0, then back
 * to what the preflight recorded. Every change reads first (idempotent); what clients reach is read from each
 * cluster's own agent (`cilium-dbg service list`), the way the global-canary check does.
 */

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label');
const serviceKey = z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, 'must be namespace/name');
const cluster = z.object({ name, region: name, podCidrs: z.array(z.string()) });
const workload = z.object({ cluster: name, namespace: name, name, replicas: z.int().min(0), services: z.array(serviceKey) });
const schemas = {
  preflight: z.object({ mesh: name, region: name, clusters: z.array(cluster).min(2), services: z.array(serviceKey).min(1) }),
  scale: z.object({ mesh: name, workloads: z.array(workload), to: z.enum(['zero', 'original']) }),
  observe: z.object({ mesh: name, region: name, cluster, clusters: z.array(cluster), services: z.array(serviceKey), drainedAt: z.iso.datetime() }),
  ready: z.object({ mesh: name, workloads: z.array(workload) }),
  back: z.object({ mesh: name, cluster, clusters: z.array(cluster), expect: z.record(z.string(), z.record(z.string(), z.int())) }),
} as const;

const serviceSchema = z.object({
  metadata: z.object({ annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.object({ selector: z.record(z.string(), z.string()).optional() }).passthrough(),
});
const deploymentSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional() }),
  spec: z.object({ replicas: z.number().optional(), template: z.object({ metadata: z.object({ labels: z.record(z.string(), z.string()).optional() }).optional() }).optional() }),
  status: z.object({ readyReplicas: z.number().optional(), replicas: z.number().optional() }).passthrough().optional(),
});
const deploymentListSchema = z.object({ items: z.array(deploymentSchema) });

const isGlobal = (a: Record<string, string> | undefined) => a?.['service.cilium.io/global'] === 'true' || a?.['io.cilium/global-service'] === 'true';
const split = (s: ServiceKey) => s.split('/') as [string, string];
const ranges = (clusters: readonly DrillCluster[]) => Object.fromEntries(clusters.map((c) => [c.name, c.podCidrs]));
const kubeconfigRef = (mesh: string, c: string) => secretRefs.kubeconfig(mesh, c);
/** Backends counted under the drained region's clusters, and under the rest. */
function tally(bySource: Record<string, number>, drained: ReadonlySet<string>): { drained: number; elsewhere: number } {
  let d = 0;
  let e = 0;
  for (const [src, n] of Object.entries(bySource)) (drained.has(src) ? (d += n) : (e += n));
  return { drained: d, elsewhere: e };
}
/** A tenth of the budget, between 100 ms and 1 s: the failover time is measured to this resolution. */
const interval = (deps: ActivityDeps) => Math.min(1_000, Math.max(100, deps.pollBudgetMs / 40));

/**
 * Read-only. Every cluster's kubeconfig is stored and each drilled Service is global there; each cluster's agent's
 * backends by source cluster (the baseline the restore returns to); the Deployments behind the drained region's
 * backends with their replica counts. Refuses (fatal, nothing changed) a drill that would take a service down.
 */
export async function failoverPreflight(
  deps: ActivityDeps,
  input: { mesh: string; region: string; clusters: DrillCluster[]; services: ServiceKey[] },
): Promise<{ kubeconfigRefs: Record<string, string>; baseline: DrillBaseline }> {
  const i = parseInput(schemas.preflight, input, 'failoverPreflight');
  const drained = i.clusters.filter((c) => c.region === i.region);
  const drainedNames = new Set(drained.map((c) => c.name));
  const refs = Object.fromEntries(i.clusters.map((c) => [c.name, kubeconfigRef(i.mesh, c.name)]));
  for (const c of i.clusters) {
    if (!(await deps.secrets.has(refs[c.name]!))) throw fatal(`the secret store holds no kubeconfig of ${c.name}`, `a drill needs a rolled-out mesh: meshpilot rollout FILE first`);
  }
  const selectors: Record<ServiceKey, Record<string, string>> = {};
  const notGlobal: string[] = [];
  for (const c of i.clusters) {
    await onCluster(deps, { mesh: i.mesh, cluster: c.name }, async (access) => {
      for (const s of i.services) {
        const [ns, n] = split(s);
        const svc = await kubectlGet(deps, access, ['service', n, '-n', ns], serviceSchema);
        if (!svc || !isGlobal(svc.metadata.annotations)) notGlobal.push(`${s} ${svc ? 'is not global' : 'does not exist'} in ${c.name}`);
        else if (drainedNames.has(c.name)) selectors[s] = svc.spec.selector ?? {};
      }
    });
  }
  if (notGlobal.length) {
    throw blocked({
      reason: `not every drilled service is a global Service in every cluster: ${notGlobal.join('; ')}`,
      hint: 'meshpilot rollout FILE applies the blueprint\'s global services (apply-manifests) and the canary (global-canary); then resume, or abort',
      evidence: { problems: notGlobal.length },
    });
  }
  const backends: DrillBaseline['backends'] = {};
  for (const c of i.clusters) {
    const snap = await globalServiceSources(deps, { cluster: c.name, kubeconfigRef: refs[c.name]!, ranges: ranges(i.clusters) });
    backends[c.name] = Object.fromEntries(i.services.map((s) => [s, snap.services.find((x) => x.service === s)?.bySource ?? {}]));
  }
  // Backends a cluster serves itself, as its own agent lists them: where each service really runs.
  const own = (s: ServiceKey, c: string) => backends[c]?.[s]?.[c] ?? 0;
  const skipped: DrillBaseline['skipped'] = [];
  const drilled: ServiceKey[] = [];
  for (const s of i.services) {
    const inRegion = drained.reduce((n, c) => n + own(s, c.name), 0);
    const outside = i.clusters.filter((c) => !drainedNames.has(c.name)).reduce((n, c) => n + own(s, c.name), 0);
    if (inRegion === 0 && outside === 0) skipped.push({ service: s, why: 'no ready backend in any cluster' });
    else if (inRegion === 0) skipped.push({ service: s, why: `no backend in region ${i.region}` });
    else if (outside === 0) {
      throw fatal(
        `--region ${i.region}: region ${i.region} is the only region holding backends of ${s} (${drained.map((c) => `${own(s, c.name)} in ${c.name}`).join(', ')}); draining it would take the service down everywhere`,
        `run ${s} in another region first, or drill another region`,
      );
    } else drilled.push(s);
  }
  if (!drilled.length) throw fatal(`nothing to drill in region ${i.region}: ${skipped.map((x) => `${x.service}: ${x.why}`).join('; ')}`, 'name a global service with backends in that region (--service NAMESPACE/NAME)');
  const workloads: DrainedWorkload[] = [];
  for (const c of drained) {
    await onCluster(deps, { mesh: i.mesh, cluster: c.name }, async (access) => {
      for (const s of drilled) {
        if (own(s, c.name) === 0) continue;
        const [ns] = split(s);
        const sel = Object.entries(selectors[s] ?? {});
        const list = (await kubectlGet(deps, access, ['deployments', '-n', ns], deploymentListSchema))?.items ?? [];
        const backing = sel.length ? list.filter((d) => sel.every(([k, v]) => d.spec.template?.metadata?.labels?.[k] === v)) : [];
        if (!backing.length) {
          throw fatal(`${s} has ${own(s, c.name)} backend(s) in ${c.name} but no Deployment in ${ns} whose pods it selects`, 'the drill scales Deployments only; a StatefulSet or bare pods need a manual drill');
        }
        for (const d of backing) {
          const known = workloads.find((w) => w.cluster === c.name && w.namespace === ns && w.name === d.metadata.name);
          if (known) known.services.push(s);
          else workloads.push({ cluster: c.name, namespace: ns, name: d.metadata.name, replicas: d.spec.replicas ?? 1, services: [s] });
        }
      }
    });
  }
  return { kubeconfigRefs: refs, baseline: { workloads, backends, skipped } };
}

/** `kubectl scale` each workload to 0 (`zero`) or back to its recorded count (`original`); one already there is left alone. */
export async function scaleWorkloads(
  deps: ActivityDeps,
  input: { mesh: string; workloads: DrainedWorkload[]; to: 'zero' | 'original' },
): Promise<{ at: string; scaled: string[] }> {
  const i = parseInput(schemas.scale, input, 'scaleWorkloads');
  const scaled: string[] = [];
  for (const w of i.workloads) {
    const want = i.to === 'zero' ? 0 : w.replicas;
    await onCluster(deps, { mesh: i.mesh, cluster: w.cluster }, async (access) => {
      const d = await kubectlGet(deps, access, ['deployment', w.name, '-n', w.namespace], deploymentSchema);
      if (!d && i.to === 'zero') throw fatal(`deployment ${w.namespace}/${w.name} is gone from ${w.cluster}`, 'someone deleted it since the preflight: start the drill again');
      if (!d) {
        // the restore never gives up: it pauses until someone puts the Deployment back
        throw blocked({
          reason: `deployment ${w.namespace}/${w.name} is gone from ${w.cluster}: the restore cannot scale it back to ${w.replicas} replica(s)`,
          hint: `someone deleted it during the drill: re-create it (it ran ${w.replicas} replica(s)), then resume`,
          evidence: { cluster: w.cluster, deployment: `${w.namespace}/${w.name}`, replicas: w.replicas },
        });
      }
      if ((d.spec.replicas ?? 1) === want) return;
      const r = await callTool(deps, 'kubectl', ['scale', `deployment/${w.name}`, `--replicas=${want}`, '-n', w.namespace], { env: access.env, retries: 2 });
      if (r.exitCode !== 0) throw classify(r, `kubectl scale deployment/${w.name} -n ${w.namespace} (${w.cluster})`);
      scaled.push(`${w.cluster}:${w.namespace}/${w.name}=${want}`);
    });
  }
  return { at: new Date().toISOString(), scaled };
}

/**
 * One cluster's agent, polled from the drain on: for each service, the first poll where no backend of the drained
 * region is left and healthy ones elsewhere are is the failover moment. Never pauses: a service that does not fail
 * over within the budget is a finding for the report, and the drill must not hold a region out of service waiting.
 */
export async function observeFailover(
  deps: ActivityDeps,
  input: { mesh: string; region: string; cluster: DrillCluster; clusters: DrillCluster[]; services: ServiceKey[]; drainedAt: string },
): Promise<ClusterObservation[]> {
  const i = parseInput(schemas.observe, input, 'observeFailover');
  const drained = new Set(i.clusters.filter((c) => c.region === i.region).map((c) => c.name));
  const role = drained.has(i.cluster.name) ? 'drained' : 'surviving';
  const drainedAt = Date.parse(i.drainedAt);
  const seen = new Map<ServiceKey, { at: number; bySource: Record<string, number> }>();
  const last = new Map<ServiceKey, Record<string, number>>();
  let firstLook: number | undefined;
  await pollWithin(deps.pollBudgetMs, interval(deps), `${i.cluster.name}: backends of ${i.services.join(', ')} after the drain`, async () => {
    const snap = await globalServiceSources(deps, { cluster: i.cluster.name, kubeconfigRef: kubeconfigRef(i.mesh, i.cluster.name), ranges: ranges(i.clusters) });
    const at = Date.now();
    firstLook ??= at;
    for (const s of i.services) {
      const bySource = snap.services.find((x) => x.service === s)?.bySource ?? {};
      last.set(s, bySource);
      const t = tally(bySource, drained);
      if (!seen.has(s) && t.drained === 0 && t.elsewhere > 0) seen.set(s, { at, bySource });
    }
    return seen.size === i.services.length ? true : undefined;
  });
  return i.services.map((s): ClusterObservation => {
    const hit = seen.get(s);
    const base = { cluster: i.cluster.name, region: i.cluster.region, role, service: s } as const;
    if (hit) {
      const note = role === 'drained' ? `its clients reach ${tally(hit.bySource, drained).elsewhere} backend(s) in other regions` : 'fails over';
      return { ...base, failoverMs: Math.max(0, hit.at - drainedAt), ...(hit.at === firstLook ? { atFirstLook: true } : {}), bySource: hit.bySource, ok: true, note };
    }
    const bySource = last.get(s) ?? {};
    const t = tally(bySource, drained);
    const note =
      t.elsewhere === 0
        ? role === 'drained'
          ? 'its clients reach no backend: no remote backend is served here (service.cilium.io/shared "false" in the peers, or the peers are not connected)'
          : 'no healthy backend left'
        : `${t.drained} backend(s) of region ${i.region} still listed`;
    return { ...base, bySource, ok: false, note };
  });
}

/** The drained Deployments are back at their recorded replica count and every pod is ready; pauses when they are not. */
export async function awaitWorkloadsReady(deps: ActivityDeps, input: { mesh: string; workloads: DrainedWorkload[] }): Promise<RestoredWorkload[]> {
  const i = parseInput(schemas.ready, input, 'awaitWorkloadsReady');
  let state: RestoredWorkload[] = [];
  const ok = await pollWithin(deps.pollBudgetMs, interval(deps), 'restored deployments ready', async () => {
    state = [];
    for (const w of i.workloads) {
      const d = await onCluster(deps, { mesh: i.mesh, cluster: w.cluster }, (access) => kubectlGet(deps, access, ['deployment', w.name, '-n', w.namespace], deploymentSchema));
      state.push({ ...w, readyReplicas: d?.spec.replicas === w.replicas ? (d.status?.readyReplicas ?? 0) : -1 });
    }
    return state.every((w) => w.readyReplicas === w.replicas) ? state : undefined;
  });
  if (ok) return ok;
  const late = state.filter((w) => w.readyReplicas !== w.replicas);
  throw blocked({
    reason: `not every drained deployment is back: ${late.map((w) => `${w.cluster} ${w.namespace}/${w.name} ${w.readyReplicas < 0 ? 'is not at' : `has ${w.readyReplicas}/`}${w.replicas} replica(s)${w.readyReplicas < 0 ? '' : ' ready'}`).join('; ')}`,
    hint: 'check the pods (kubectl get pods -n NAMESPACE, kubectl describe deployment NAME): image pulls, quotas, node capacity; resume re-checks (and scales again), the drill does not end until they are back',
    evidence: Object.fromEntries(late.map((w) => [`${w.cluster}/${w.namespace}/${w.name}`, `${w.readyReplicas}/${w.replicas}`])),
  });
}

/** One cluster's agent lists at least the backends it listed before the drill, per service and source cluster. */
export async function awaitBackendsReturned(
  deps: ActivityDeps,
  input: { mesh: string; cluster: DrillCluster; clusters: DrillCluster[]; expect: Record<ServiceKey, Record<string, number>> },
): Promise<Record<ServiceKey, Record<string, number>>> {
  const i = parseInput(schemas.back, input, 'awaitBackendsReturned');
  let last: Record<ServiceKey, Record<string, number>> = {};
  const short = () =>
    Object.entries(i.expect).flatMap(([s, want]) => Object.entries(want).filter(([src, n]) => (last[s]?.[src] ?? 0) < n).map(([src, n]) => `${s}: ${last[s]?.[src] ?? 0}/${n} from ${src}`));
  const ok = await pollWithin(deps.pollBudgetMs, interval(deps), `${i.cluster.name}: backends back`, async () => {
    const snap = await globalServiceSources(deps, { cluster: i.cluster.name, kubeconfigRef: kubeconfigRef(i.mesh, i.cluster.name), ranges: ranges(i.clusters) });
    last = Object.fromEntries(Object.keys(i.expect).map((s) => [s, snap.services.find((x) => x.service === s)?.bySource ?? {}]));
    return short().length === 0 ? last : undefined;
  });
  if (ok) return ok;
  throw blocked({
    reason: `${i.cluster.name} does not serve every backend it served before the drill: ${short().join('; ')}`,
    hint: 'the pods are ready, so the agent has not picked them up: check `cilium clustermesh status` and the agent (cilium-dbg service list); resume re-checks',
    evidence: { cluster: i.cluster.name, missing: short().length },
  });
}

const REPORT_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** report.md and report.json under the worker's work dir (`drills/<run id>/`), each written whole (temp file, rename). */
export async function writeFailoverReport(deps: ActivityDeps, input: { report: FailoverReport }): Promise<{ markdown: string; json: string }> {
  const { report } = input;
  if (!REPORT_ID.test(report.id)) throw fatal(`writeFailoverReport: ${JSON.stringify(report.id)} is not a run id`);
  const dir = path.join(deps.workDir, 'drills', report.id);
  await mkdir(dir, { recursive: true });
  const files = { markdown: path.join(dir, 'report.md'), json: path.join(dir, 'report.json') };
  const full = { ...report, files };
  for (const [file, text] of [
    [files.markdown, failoverReportMarkdown(full)],
    [files.json, `${JSON.stringify(full, null, 2)}\n`],
  ] as const) {
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, file);
  }
  return files;
}
