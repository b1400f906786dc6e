import { Address4 } from 'ip-address';
import { z } from 'zod';
import { blocked, fatal, transient } from '../contracts/failures.ts';
import { UNKNOWN_SOURCE, type BackendSnapshot } from '../contracts/live-mesh.ts';
import type { ActivityDeps } from './deps.ts';
import { withKubeconfig, withKubeconfigs, type KubeAccess } from './kube/kubeconfig.ts';
import { diagnoseLoadBalancer } from './kube/lb-diagnosis.ts';
import { gatherLbFacts } from './kube/lb-facts.ts';
import { meshStatusSchema } from './kube/objects.ts';
import { callTool, classify, parseJson } from './kube/tool-call.ts';
import { helmArgv } from './helm/argv.ts';
import { pollWithin } from './poll.ts';

/**
 * cilium-cli adapters (v0.16): readiness, ClusterMesh status and connect, and global-service backends read
 * from the agent. Judgements come from the JSON, never from exit codes alone (`clustermesh status -o json`
 * exits 0 even when peers are down).
 */
const POLL_MS = 500;

/**
 * `cilium status -o json` of cilium-cli v0.16.24 (status/status.go; pod_state keys are capitalised: no json tags;
 * ErrorCount marshals its errors as strings). Pinned in test/conformance/fixtures/cilium-cli.ts.
 */
const statusSchema = z.object({
  pod_state: z.record(z.string(), z.object({ Type: z.string(), Desired: z.number(), Ready: z.number(), Available: z.number() })).optional(),
  errors: z
    .record(z.string(), z.record(z.string(), z.object({ Disabled: z.boolean().optional(), Errors: z.array(z.unknown()).nullish(), Warnings: z.array(z.unknown()).nullish() })))
    .optional(),
  collection_errors: z.array(z.unknown()).optional(),
  helm_chart_version: z.string().optional(),
});
type CiliumStatus = z.infer<typeof statusSchema>;

/**
 * Without --wait, cilium-cli always prints the status JSON; when it could not collect part of it (the API does
 * not answer, the agent DaemonSet does not exist) it then exits 1 with `status check failed: [e1, e2, ...]` on
 * stderr (cli/status.go). The step polls on its own, so it runs without `--wait`: a `--wait` that times out
 * prints no JSON at all, only a summary on stderr.
 */
const collectionFailure = (stderr: string) => /status check failed: \[(.*)\]\s*$/s.exec(stderr)?.[1]?.trim();
const UNREACHABLE_API = /connection refused|no route to host|i\/o timeout|TLS handshake timeout|connection reset by peer|no such host|network is unreachable|Client\.Timeout exceeded/i;
/** consecutive polls that found the cluster's API unreachable before the step pauses (each poll already retried in place) */
export const UNREACHABLE_POLLS = 3;

export async function ciliumReady(deps: ActivityDeps, i: { kubeconfigRef: string }): Promise<{ summary: string }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    let last: CiliumStatus | undefined;
    let lastCollection = '';
    let unreachable = 0;
    const describe = (s: CiliumStatus) =>
      Object.entries(s.pod_state ?? {})
        .map(([name, p]) => `${name} ${p.Ready}/${p.Desired}`)
        .join(', ');
    const ok = await pollWithin(deps.pollBudgetMs, POLL_MS, 'cilium status', async () => {
      const r = await callTool(deps, 'cilium', ['status', '-o', 'json'], { env: access.env, retries: 2 });
      const collection = r.exitCode === 1 ? collectionFailure(r.stderr) : undefined;
      if (r.exitCode !== 0 && !(collection !== undefined && r.stdout.trim().startsWith('{'))) throw classify(r, 'cilium status');
      const s = statusSchema.parse(parseJson(r));
      last = s;
      lastCollection = collection ?? '';
      if (collection && UNREACHABLE_API.test(collection)) {
        if (++unreachable >= UNREACHABLE_POLLS) {
          throw blocked({
            reason: `Cilium status: cannot reach the cluster's API (${collection.split(', ')[0]!.slice(0, 300)})`,
            hint: "the Kubernetes API of this cluster does not answer: check the control plane (`talosctl health`), the cluster endpoint and this worker's route to it, then resume",
            evidence: { polls: unreachable, error: collection.slice(0, 300) },
          });
        }
        return undefined;
      }
      unreachable = 0;
      if (collection) return undefined;
      const agents = s.pod_state?.cilium;
      const failing = Object.entries(s.errors ?? {}).filter(([, per]) => Object.values(per).some((e) => !e.Disabled && (e.Errors?.length ?? 0) > 0));
      return agents && agents.Desired > 0 && agents.Ready === agents.Desired && failing.length === 0 ? s : undefined;
    });
    if (ok) return { summary: `Cilium ${ok.helm_chart_version ?? ''} ready: ${describe(ok)}`.replace('  ', ' ') };
    const missingDs = /daemonsets\.apps "cilium" not found/.test(lastCollection);
    throw blocked({
      reason: `Cilium is not ready: ${missingDs ? 'the cilium DaemonSet does not exist' : last ? describe(last) || lastCollection || 'no agent reports' : 'no status'}`,
      hint: missingDs
        ? 'the Cilium release has no agent DaemonSet: check `helm status cilium -n kube-system` and install Cilium (re-running the rollout does)'
        : 'check `cilium status` and the agent logs (kubectl -n kube-system logs ds/cilium); on Talos the nodes stay NotReady until the agents run',
      evidence: {
        ...Object.fromEntries(Object.entries(last?.pod_state ?? {}).map(([k, p]) => [k, `${p.Ready}/${p.Desired}`])),
        ...(lastCollection ? { collectionErrors: lastCollection.slice(0, 300) } : {}),
      },
    });
  });
}

export async function meshStatusOnce(deps: ActivityDeps, access: KubeAccess, context?: string) {
  const r = await callTool(deps, 'cilium', ['clustermesh', 'status', '-o', 'json', ...(context ? ['--context', context] : [])], {
    env: access.env,
    retries: 2,
  });
  return { r, status: r.exitCode === 0 ? meshStatusSchema.parse(parseJson(r)) : undefined };
}

/** A pending clustermesh-apiserver LoadBalancer, diagnosed the same way clustermeshApiserverAddress does. */
async function blockOnPendingApiserver(deps: ActivityDeps, access: KubeAccess): Promise<never> {
  const verdict = diagnoseLoadBalancer(await gatherLbFacts(deps, access, 'kube-system', 'clustermesh-apiserver'), { namespace: 'kube-system', name: 'clustermesh-apiserver' });
  if (!verdict.ok) throw blocked(verdict.details);
  throw transient('clustermesh-apiserver has an address now; cilium-cli did not see it yet');
}

/** `absentPeers`: clusters that must no longer be configured at all (a detached one); still listed → `lingering`. */
export async function clustermeshStatus(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; expectPeers: string[]; absentPeers?: string[] },
): Promise<{ connected: string[]; missing: string[]; lingering: string[]; summary: string }> {
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    let connected: string[] = [];
    let listed: string[] = [];
    let lastError = '';
    let total = 0;
    await pollWithin(deps.pollBudgetMs, POLL_MS, 'clustermesh status', async () => {
      const { r, status } = await meshStatusOnce(deps, access);
      if (!status) {
        if (/unable to derive service IPs automatically/.test(r.stderr)) await blockOnPendingApiserver(deps, access);
        if (!/is not ready|not found/.test(r.stderr)) throw classify(r, 'cilium clustermesh status');
        lastError = r.stderr.trim().split('\n').pop() ?? '';
        return undefined;
      }
      total = status.connectivity?.total ?? 0;
      const clusters = status.connectivity?.clusters ?? {};
      connected = Object.entries(clusters)
        .filter(([, c]) => total > 0 && (c.connected ?? 0) === total)
        .map(([n]) => n);
      listed = Object.keys(clusters);
      const gone = !(i.absentPeers ?? []).some((p) => listed.includes(p));
      return gone && i.expectPeers.every((p) => connected.includes(p)) ? true : undefined;
    });
    const missing = i.expectPeers.filter((p) => !connected.includes(p));
    const lingering = (i.absentPeers ?? []).filter((p) => listed.includes(p));
    if (lastError && !connected.length && missing.length) throw transient(`cilium clustermesh status: ${lastError}`);
    const summary =
      (missing.length
        ? `${connected.length}/${i.expectPeers.length} peers connected on all ${total} agents; missing: ${missing.join(', ')}`
        : `all ${i.expectPeers.length} peers connected on all ${total} agents`) + (lingering.length ? `; still configured: ${lingering.join(', ')}` : '');
    return { connected, missing, lingering, summary };
  });
}

const valuesSchema = z.object({
  cluster: z.object({ name: z.string().optional() }).optional(),
  clustermesh: z.object({ config: z.object({ clusters: z.array(z.object({ name: z.string() })).optional() }).optional() }).optional(),
});

async function meshConfig(deps: ActivityDeps, access: KubeAccess, context: string): Promise<{ name?: string; peers: string[] }> {
  const r = await callTool(deps, 'helm', helmArgv.getValues(context), { env: access.env, retries: 2 });
  if (r.exitCode !== 0) throw classify(r, `helm get values cilium (${context})`, 'install Cilium in both clusters first');
  const v = valuesSchema.parse(parseJson(r) ?? {});
  return { name: v.cluster?.name, peers: (v.clustermesh?.config?.clusters ?? []).map((c) => c.name) };
}

/**
 * The `cilium clustermesh connect` method: one bidirectional connect per pair, skipped when both releases
 * already list each other (a retried activity must not roll every agent again).
 */
export async function clustermeshConnect(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; peerKubeconfigRef: string; cluster: string; peer: string },
): Promise<void> {
  await withKubeconfigs(deps, [i.kubeconfigRef, i.peerKubeconfigRef], async (access) => {
    const [ctx, peerCtx] = access.contexts as [string, string];
    if (ctx === peerCtx) throw fatal(`${i.cluster} and ${i.peer} kubeconfigs use the same context name ${ctx}`, 'give every Talos cluster a distinct name');
    const [a, b] = await Promise.all([meshConfig(deps, access, ctx), meshConfig(deps, access, peerCtx)]);
    const nameA = a.name ?? i.cluster;
    const nameB = b.name ?? i.peer;
    if (a.peers.includes(nameB) && b.peers.includes(nameA)) return;
    const r = await callTool(deps, 'cilium', ['clustermesh', 'connect', '--context', ctx, '--destination-context', peerCtx], { env: access.env, timeoutMs: 300_000 });
    if (r.exitCode === 0) return;
    if (/unable to derive service IPs automatically/.test(r.stderr)) {
      for (const ref of [i.kubeconfigRef, i.peerKubeconfigRef]) {
        await withKubeconfig(deps, ref, async (one) => {
          const verdict = diagnoseLoadBalancer(await gatherLbFacts(deps, one, 'kube-system', 'clustermesh-apiserver'), { namespace: 'kube-system', name: 'clustermesh-apiserver' });
          if (!verdict.ok) throw blocked(verdict.details);
        });
      }
      throw transient(`cilium clustermesh connect ${nameA} <-> ${nameB}: a clustermesh-apiserver had no address yet`);
    }
    if (/non-unique|out of acceptable range|default name/.test(r.stderr)) throw classify(r, 'cilium clustermesh connect', 'give every cluster a unique cluster.name and cluster.id (1-255)');
    throw classify(r, `cilium clustermesh connect ${nameA} <-> ${nameB}`);
  });
}

/** cilium-dbg service list -o json (api/v1/models/service.go) */
const serviceListSchema = z.array(
  z.object({
    spec: z.object({
      'frontend-address': z.object({ ip: z.string(), port: z.number().optional() }),
      'backend-addresses': z.array(z.object({ ip: z.string(), state: z.string().optional() })).nullish(),
      flags: z.object({ name: z.string().optional(), namespace: z.string().optional() }).passthrough().optional(),
    }),
  }),
);

export async function globalServiceBackends(
  deps: ActivityDeps,
  i: { kubeconfigRef: string; namespace: string; name: string; remotePodCidrs: string[] },
): Promise<{ local: number; remote: number }> {
  let nets: Address4[];
  try {
    nets = i.remotePodCidrs.filter((c) => !c.includes(':')).map((c) => new Address4(c));
  } catch {
    throw fatal(`remotePodCidrs ${JSON.stringify(i.remotePodCidrs)} holds an invalid CIDR`);
  }
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    const svc = await callTool(deps, 'kubectl', ['get', 'service', i.name, '-n', i.namespace, '-o', 'json'], { env: access.env, retries: 2 });
    if (svc.exitCode !== 0) {
      if (/\(NotFound\)/.test(svc.stderr)) return { local: 0, remote: 0 };
      throw classify(svc, `kubectl get service ${i.namespace}/${i.name}`);
    }
    const clusterIP = z.object({ spec: z.object({ clusterIP: z.string().optional() }) }).parse(parseJson(svc)).spec.clusterIP;
    const r = await callTool(
      deps,
      'kubectl',
      ['exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'cilium-dbg', 'service', 'list', '-o', 'json'],
      { env: access.env, retries: 2 },
    );
    if (r.exitCode !== 0) throw classify(r, 'cilium-dbg service list');
    const list = serviceListSchema.safeParse(parseJson(r));
    if (!list.success) throw fatal(`cilium-dbg service list -o json has an unexpected shape: ${list.error.issues[0]?.message}`);
    // Backends carry no cluster id: the frontend is the Service's ClusterIP, remote backends sit in the peers' pod CIDRs.
    const entry = list.data.find(
      (e) => e.spec['frontend-address'].ip === clusterIP && (e.spec.flags?.name === undefined || (e.spec.flags.name === i.name && e.spec.flags.namespace === i.namespace)),
    );
    let local = 0;
    let remote = 0;
    for (const b of entry?.spec['backend-addresses'] ?? []) {
      if (b.state && b.state !== 'active') continue;
      let isRemote = false;
      try {
        const ip = new Address4(b.ip);
        isRemote = nets.some((n) => ip.isInSubnet(n));
      } catch {
        isRemote = false;
      }
      if (isRemote) remote++;
      else local++;
    }
    return { local, remote };
  });
}

const globalServiceSchema = z.object({
  metadata: z.object({ name: z.string(), namespace: z.string().optional(), annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.object({ clusterIP: z.string().optional() }).passthrough().default({}),
});
const isGlobalService = (s: z.infer<typeof globalServiceSchema>) => ['service.cilium.io/global', 'io.cilium/global-service'].some((a) => s.metadata.annotations?.[a] === 'true');

/**
 * Every global Service of one cluster as its agent serves it (`cilium-dbg service list`), each backend counted
 * under the cluster whose pod range holds it (`ranges`: cluster → pod CIDRs; anything else under UNKNOWN_SOURCE).
 * Backends carry no cluster ID in the agent's list, so the pod ranges are what tell them apart.
 */
export async function globalServiceSources(
  deps: ActivityDeps,
  i: { cluster: string; kubeconfigRef: string; ranges: Record<string, string[]> },
): Promise<BackendSnapshot> {
  const nets = Object.entries(i.ranges).flatMap(([cluster, cidrs]) =>
    cidrs.filter((c) => !c.includes(':')).map((c) => {
      try {
        return { cluster, net: new Address4(c) };
      } catch {
        throw fatal(`ranges of ${cluster}: ${JSON.stringify(c)} is not an IPv4 CIDR`);
      }
    }),
  );
  const sourceOf = (ip: string) => {
    try {
      const a = new Address4(ip);
      return nets.find((n) => a.isInSubnet(n.net))?.cluster ?? UNKNOWN_SOURCE;
    } catch {
      return UNKNOWN_SOURCE;
    }
  };
  return withKubeconfig(deps, i.kubeconfigRef, async (access) => {
    const svcs = await callTool(deps, 'kubectl', ['get', 'services', '-A', '-o', 'json'], { env: access.env, retries: 2 });
    if (svcs.exitCode !== 0) throw classify(svcs, 'kubectl get services -A');
    const globals = z.object({ items: z.array(globalServiceSchema) }).parse(parseJson(svcs)).items.filter(isGlobalService);
    if (globals.length === 0) return { cluster: i.cluster, services: [] };
    const r = await callTool(deps, 'kubectl', ['exec', '-n', 'kube-system', 'ds/cilium', '-c', 'cilium-agent', '--', 'cilium-dbg', 'service', 'list', '-o', 'json'], { env: access.env, retries: 2 });
    if (r.exitCode !== 0) throw classify(r, 'cilium-dbg service list');
    const list = serviceListSchema.safeParse(parseJson(r));
    if (!list.success) throw fatal(`cilium-dbg service list -o json has an unexpected shape: ${list.error.issues[0]?.message}`);
    const services = globals
      .map((s) => {
        const ns = s.metadata.namespace ?? 'default';
        const entry = list.data.find(
          (e) => e.spec['frontend-address'].ip === s.spec.clusterIP && (e.spec.flags?.name === undefined || (e.spec.flags.name === s.metadata.name && e.spec.flags.namespace === ns)),
        );
        const bySource: Record<string, number> = {};
        for (const b of entry?.spec['backend-addresses'] ?? []) {
          if (b.state && b.state !== 'active') continue;
          const src = sourceOf(b.ip);
          bySource[src] = (bySource[src] ?? 0) + 1;
        }
        return { service: `${ns}/${s.metadata.name}`, bySource };
      })
      .sort((a, b) => a.service.localeCompare(b.service));
    return { cluster: i.cluster, services };
  });
}
