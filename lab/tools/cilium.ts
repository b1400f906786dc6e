import { clusterStatus, unreachableStatus, type CliStatus } from '../kube/cilium-status.ts';
import { bool, FlagError, parseDuration, parseFlags, positionals, str, type FlagSpec } from '../kube/cobra.ts';
import { apiServerUp, KubeconfigError, resolveTarget } from '../kube/kubeconfig.ts';
import { apiserverAddresses, ciliumClusterName, ciliumValues, meshLinks, numGlobalServices, type PeerLink } from '../kube/mesh.ts';
import { reconcileCluster } from '../kube/reconcile.ts';
import { beginInstallOrUpgrade, finish, getRelease, isPending, lastRevision } from '../kube/releases.ts';
import { onCluster, peekState, pollUntil, type Refusal } from '../kube/session.ts';
import { getObj } from '../kube/store.ts';
import { KUBE_TIMING } from '../kube/timing.ts';
import { getPath, setPath, type Values } from '../kube/values.ts';
import { isReady, meshApiserverKey, podsOf } from '../kube/view.ts';
import type { LabCluster, LabState } from '../state.ts';
import type { SimulatedTool, ToolIO } from './io.ts';

/**
 * Simulated cilium-cli v0.16.24, the last 0.16 release. From v0.16.20 on its source is vendored from
 * cilium/cilium at vendor/github.com/cilium/cilium/cilium-cli/ (cli/{cmd,status,clustermesh,version}.go,
 * status/{k8s,status}.go, clustermesh/clustermesh.go). Errors: cli/utils.go fatalf → "\nError: <msg>\n", exit 1;
 * an error a command returns is printed bare by cmd/cilium/main.go, exit 1. The outputs meshpilot reads are pinned
 * in test/conformance/fixtures/cilium-cli.ts, each with its source line.
 */
const CLI_VERSION = 'v0.16.24';
/** client-go's default when no kubeconfig is found (clientcmd.ClusterDefaults) */
const NO_KUBECONFIG = { context: '', hostPort: '127.0.0.1:8080', server: 'http://localhost:8080' };
const GLOBAL: FlagSpec[] = [
  { name: 'context', kind: 'string' },
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'helm-release-name', kind: 'string' },
  { name: 'kubeconfig', kind: 'string' },
  { name: 'as', kind: 'string' },
  { name: 'as-group', kind: 'strings' },
];
const STATUS_FLAGS: FlagSpec[] = [
  { name: 'wait', kind: 'bool' },
  { name: 'wait-duration', kind: 'duration' },
  { name: 'output', short: 'o', kind: 'string' },
];
const COMMANDS: Record<string, FlagSpec[]> = {
  version: [{ name: 'client', kind: 'bool' }],
  status: [...STATUS_FLAGS, { name: 'ignore-warnings', kind: 'bool' }, { name: 'interactive', kind: 'bool' }, { name: 'worker-count', kind: 'int' }],
  'clustermesh status': STATUS_FLAGS,
  'clustermesh enable': [
    { name: 'service-type', kind: 'string' },
    { name: 'enable-kvstoremesh', kind: 'bool' },
    { name: 'enable-external-workloads', kind: 'bool' },
  ],
  'clustermesh disable': [],
  'clustermesh connect': [
    { name: 'destination-context', kind: 'string' },
    { name: 'destination-endpoint', kind: 'strings' },
    { name: 'source-endpoint', kind: 'strings' },
  ],
  'clustermesh disconnect': [{ name: 'destination-context', kind: 'string' }],
};

const fatal = (io: ToolIO, msg: string) => {
  io.err(`\nError: ${msg}\n`);
  return 1;
};
/** cilium-cli prints JSON with json.MarshalIndent(v, "", " ") */
const json = (v: unknown) => `${JSON.stringify(v, null, 1)}\n`;

function refusalMessage(r: Refusal, what: string): string {
  if (r.kind === 'kubeconfig') return `Unable to create Kubernetes client: ${r.message}`;
  const server = r.target?.server ?? 'http://localhost:8080';
  const why = r.kind === 'flaky' ? 'net/http: TLS handshake timeout' : `dial tcp ${r.target.hostPort}: connect: connection refused`;
  return `${what}Get "${server.replace(/\/$/, '')}/apis/apps/v1/namespaces/kube-system/daemonsets/cilium": ${why}`;
}

export const cilium: SimulatedTool = async (io) => {
  const all = [...GLOBAL, ...Object.values(COMMANDS).flat()];
  const pos = positionals(io.argv, all);
  const cmd = pos[0] === 'clustermesh' ? `clustermesh ${pos[1] ?? ''}`.trim() : pos[0];
  if (!cmd) {
    io.out('CLI to install, manage, & troubleshooting Cilium clusters running Kubernetes.\n');
    return 0;
  }
  const specs = COMMANDS[cmd];
  if (!specs) {
    const [parent, child] = cmd.split(' ');
    io.err(child ? `Error: unknown command "${child}" for "cilium ${parent}"\nRun 'cilium ${parent} --help' for usage.\n` : `Error: unknown command "${cmd}" for "cilium"\nRun 'cilium --help' for usage.\n`);
    return 1;
  }
  let flags: ReturnType<typeof parseFlags>['flags'];
  try {
    flags = parseFlags(io.argv, [...GLOBAL, ...specs]).flags;
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.err(`Error: ${err.message}\nRun 'cilium ${cmd} --help' for usage.\n`);
    return 1;
  }
  const open = { tool: 'cilium', kubeconfig: str(flags, 'kubeconfig'), context: str(flags, 'context'), env: io.env };
  // cli/cmd.go PersistentPreRunE builds the Kubernetes client before any command but `version --client`
  if (!(cmd === 'version' && bool(flags, 'client'))) {
    try {
      resolveTarget(peekState(io.labDir), io.env, open.kubeconfig, open.context);
    } catch (err) {
      if (!(err instanceof KubeconfigError)) throw err;
      io.err(`unable to create Kubernetes client: ${err.message}\n`);
      return 1;
    }
  }
  switch (cmd) {
    case 'version':
      // cli/version.go: the Go of the release build (.github/workflows/release.yaml go-version 1.23.5); the default
      // image is the newest chart vendored (github.com/cilium/charts cilium-1.16.6.tgz); "stable" needs the internet
      io.out(`cilium-cli: ${CLI_VERSION} compiled with go1.23.5 on linux/amd64\ncilium image (default): v1.16.6\ncilium image (stable): unknown\n`);
      if (!bool(flags, 'client')) {
        // k8s/client.go GetRunningCiliumVersion: the release's chart version, without a "v"
        const r = await onCluster(io.labDir, open, (_s, c) => {
          const rel = getRelease(c, 'kube-system', 'cilium');
          return rel && lastRevision(rel).status !== 'uninstalled' ? lastRevision(rel).chartVersion : undefined;
        });
        const reason = r.ok ? 'release: not found' : refusalMessage(r.refusal, '').replace(/\/apis\/apps.*?":/, '/api/v1/namespaces/kube-system/secrets?labelSelector=name%3Dcilium%2Cowner%3Dhelm":');
        io.out(r.ok && r.value ? `cilium image (running): ${r.value}\n` : `cilium image (running): unknown. Unable to obtain cilium version. Reason: ${reason}\n`);
      }
      return 0;
    case 'status':
      return status(io, open, flags);
    case 'clustermesh status':
      return meshStatus(io, open, flags);
    case 'clustermesh enable':
    case 'clustermesh disable':
      return enableDisable(io, open, flags, cmd === 'clustermesh enable');
    case 'clustermesh connect':
    case 'clustermesh disconnect':
      return connect(io, open, flags, cmd === 'clustermesh connect');
  }
  return 1;
};

type Open = { tool: string; kubeconfig?: string; context?: string; env: NodeJS.ProcessEnv };
type Flags = ReturnType<typeof parseFlags>['flags'];

function statusSummary(s: Record<string, any>): string {
  const errors = (s.errors ?? {}) as Record<string, Record<string, { Errors: string[]; Warnings: string[]; Disabled: boolean }>>;
  const word = (n: string) => {
    const per = Object.values(errors[n] ?? {});
    if (per.some((e) => e.Disabled)) return 'disabled';
    const e = per.reduce((a, x) => a + x.Errors.length, 0);
    const w = per.reduce((a, x) => a + x.Warnings.length, 0);
    return e ? `${e} errors` : w ? `${w} warnings` : 'OK';
  };
  const lines = [
    `    /¯¯\\`,
    ` /¯¯\\__/¯¯\\    Cilium:             ${word('cilium')}`,
    ` \\__/¯¯\\__/    Operator:           ${word('cilium-operator')}`,
    ` /¯¯\\__/¯¯\\    Envoy DaemonSet:    ${word('cilium-envoy')}`,
    ` \\__/¯¯\\__/    Hubble Relay:       ${word('hubble-relay')}`,
    `    \\__/       ClusterMesh:        ${word('clustermesh-apiserver')}`,
    '',
  ];
  for (const [name, ps] of Object.entries((s.pod_state ?? {}) as Record<string, any>)) {
    lines.push(`${ps.Type.padEnd(23)}${name.padEnd(25)}Desired: ${ps.Desired}, Ready: ${ps.Ready}/${ps.Desired}, Available: ${ps.Available}/${ps.Desired}${ps.Unavailable ? `, Unavailable: ${ps.Unavailable}/${ps.Desired}` : ''}`);
  }
  for (const [name, per] of Object.entries(errors)) {
    for (const [pod, e] of Object.entries(per)) {
      for (const text of e.Errors) lines.push(`Errors:                ${name.padEnd(18)} ${pod.padEnd(15)} ${text}`);
      for (const text of e.Warnings) lines.push(`Warnings:              ${name.padEnd(18)} ${pod.padEnd(15)} ${text}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * cli/status.go over status/k8s.go Status(): without --wait one collection, JSON (or the summary) printed, then
 * exit 1 with `status check failed: [...]` when collection errors were recorded; with --wait, a retry every 2 s
 * until ready, and on timeout the summary on stderr and a fatal error, no JSON.
 */
async function status(io: ToolIO, open: Open, flags: Flags): Promise<number> {
  let waitMs: number;
  try {
    waitMs = parseDuration(str(flags, 'wait-duration') ?? '5m');
  } catch (err) {
    io.err(`Error: invalid argument: ${(err as Error).message}\n`);
    return 1;
  }
  const wait = bool(flags, 'wait');
  const ignoreWarnings = bool(flags, 'ignore-warnings');
  let last: CliStatus | undefined;
  let kubeconfigError: string | undefined;
  const ready = (s: CliStatus) => s.errors === 0 && (ignoreWarnings || s.warnings === 0);
  const done = await pollUntil(Date.now() + (wait ? waitMs : 0), async (first) => {
    const r = await onCluster(io.labDir, { ...open, countFlaky: first }, (s, c, now) => clusterStatus(s, c, now));
    if (!r.ok && r.refusal.kind === 'kubeconfig') {
      kubeconfigError = r.refusal.message;
      return true;
    }
    const now: CliStatus = r.ok ? r.value : r.refusal.kind === 'kubeconfig' ? unreachableStatus(NO_KUBECONFIG, 'refused') : unreachableStatus(r.refusal.target ?? NO_KUBECONFIG, r.refusal.kind);
    last = now;
    return !wait || ready(now) ? true : undefined;
  });
  // cli/cmd.go PersistentPreRunE: the client is built before the command runs; main.go prints the error bare
  if (kubeconfigError) {
    io.err(`unable to create Kubernetes client: ${kubeconfigError}\n`);
    return 1;
  }
  if (!done) {
    io.err(statusSummary(last!.json));
    return fatal(io, 'Unable to determine status:  timeout while waiting for status to become successful: context deadline exceeded');
  }
  io.out(str(flags, 'output') === 'json' ? json(last!.json) : statusSummary(last!.json));
  if (last!.collectionErrors.length) {
    io.err(`status check failed: [${last!.collectionErrors.join(', ')}]\n`);
    return 1;
  }
  return 0;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** clustermesh/clustermesh.go statusAccessInformation; the error strings are the real ones. */
function accessInfo(state: LabState, c: LabCluster): { err: string } | { info: Record<string, unknown> } {
  if (!getObj(c, 'v1', 'ConfigMap', 'kube-system', 'cilium-config')) return { err: 'unable to retrieve ConfigMap "cilium-config": configmaps "cilium-config" not found' };
  const svc = getObj(c, 'v1', 'Service', 'kube-system', 'clustermesh-apiserver');
  if (!svc) return { err: 'unable to get clustermesh service "clustermesh-apiserver": services "clustermesh-apiserver" not found' };
  const addr = apiserverAddresses(state, c)!;
  if (!addr.ips.length) return { err: 'unable to derive service IPs automatically' };
  const v = ciliumValues(c) ?? {};
  const ca = getPath(v, 'tls.ca.cert') as string | undefined;
  return {
    info: {
      service_type: addr.type,
      service_ips: addr.ips,
      service_port: addr.port,
      cluster_id: String(getPath(v, 'cluster.id') ?? 0),
      cluster_name: ciliumClusterName(c),
      ca: ca ?? b64(`-----BEGIN CERTIFICATE-----\nlab-generated-ca-${c.name}\n-----END CERTIFICATE-----\n`),
      client_cert: b64(`-----BEGIN CERTIFICATE-----\nlab-remote-client-${c.name}\n-----END CERTIFICATE-----\n`),
      client_key: b64(`-----BEGIN EC PRIVATE KEY-----\nlab-remote-client-key-${c.name}\n-----END EC PRIVATE KEY-----\n`),
      tunnel: String(getPath(v, 'routingMode') === 'native' ? 'disabled' : (getPath(v, 'tunnelProtocol') ?? 'vxlan')),
      max_connected_clusters: Number(getPath(v, 'clustermesh.maxConnectedClusters') ?? 255),
    },
  };
}

/** StatisticalStatus: min starts at -1 (so a mesh without pods reports -1); every field is omitempty */
const stats = (xs: number[]) => {
  const o: Record<string, number> = xs.length
    ? { min: Math.min(...xs), avg: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) }
    : { min: -1, avg: 0, max: 0 };
  for (const k of Object.keys(o)) if (!o[k]) delete o[k];
  return o;
};

/**
 * ConnectivityStatus (clustermesh/clustermesh.go determineStatusConnectivity/parseAgentStatus): per pod (agents,
 * or clustermesh-apiserver replicas for KVStoreMesh), which of the expected clusters it reaches. Errors carry the
 * text of remoteClusterStatusToError, marshalled as strings (status/status.go ErrorCount.MarshalJSON).
 */
function connectivityOf(pods: string[], links: PeerLink[], globalServices: number) {
  const clusters: Record<string, { configured?: number; connected?: number }> = {};
  const errors: Record<string, Record<string, { Errors: string[]; Warnings: string[]; Disabled: boolean }>> = {};
  let notReady = 0;
  for (const l of links) clusters[l.name] = {};
  for (const pod of pods) {
    for (const l of links) {
      const e = clusters[l.name]!;
      e.configured = (e.configured ?? 0) + 1;
      if (l.connected) e.connected = (e.connected ?? 0) + 1;
      else (errors[pod] ??= {})[l.name] = { Errors: [l.status], Warnings: [], Disabled: false };
    }
    if (links.some((l) => !l.connected)) notReady++;
  }
  const connectedCount = links.filter((l) => l.connected).length;
  const out: Record<string, unknown> = {
    global_services: stats(pods.map(() => globalServices)),
    connected: stats(pods.map(() => connectedCount)),
  };
  if (Object.keys(clusters).length) out.clusters = clusters;
  if (pods.length) out.total = pods.length;
  if (notReady) out.not_ready = notReady;
  if (Object.keys(errors).length) out.errors = errors;
  return { json: out, links, pods: pods.length, notReady, connectedCount };
}

function connectivity(state: LabState, c: LabCluster, now: number) {
  const agents = podsOf(state, c, now).filter((p) => p.owner === 'DaemonSet/cilium').map((p) => p.name);
  return connectivityOf(agents, meshLinks(state, c, now), numGlobalServices(c));
}

/** KVStoreMesh's view from the clustermesh-apiserver replicas (`kvstoremesh-dbg status -o json` in each) */
function kvstoremeshConnectivity(state: LabState, c: LabCluster, now: number) {
  const replicas = podsOf(state, c, now).filter((p) => p.owner === 'Deployment/clustermesh-apiserver').map((p) => p.name);
  return connectivityOf(replicas, meshLinks(state, c, now), 0);
}

type Conn = ReturnType<typeof connectivity>;

/**
 * clustermesh/clustermesh.go Status: cilium-config, the access information, the Deployment, KVStoreMesh, then
 * the connectivity of agents (and KVStoreMesh). With `-o json` the log lines go to stderr and the JSON is printed
 * whatever the connectivity, exit 0 — even after a `--wait` that timed out on "N nodes are not ready".
 */
async function meshStatus(io: ToolIO, open: Open, flags: Flags): Promise<number> {
  const wait = bool(flags, 'wait');
  const asJson = str(flags, 'output') === 'json';
  const log = (t: string) => (asJson ? io.err(`${t}\n`) : io.out(`${t}\n`));
  let waitMs: number;
  try {
    waitMs = parseDuration(str(flags, 'wait-duration') ?? '15m');
  } catch (err) {
    io.err(`Error: invalid argument: ${(err as Error).message}\n`);
    return 1;
  }
  const started = Date.now();
  const deadline = started + (wait ? waitMs : 0);
  let refusal: Refusal | undefined;
  // one command is one flaky-tools draw, however many phases it has (else every call of a long status would fail)
  let flakyDrawn = false;
  // utils/wait/wait.go Observer.Retry: logs on the first retry, then every 10 s; retries every 2 s
  let lastLogged = -Infinity;
  const retryLog = (what: string, err: string) => {
    if (Date.now() - lastLogged < 10 * KUBE_TIMING.pollMs) return;
    lastLogged = Date.now();
    log(`⌛ Waiting (${Math.floor((Date.now() - started) / 1000)}s) for ${what}: ${err}`);
  };
  /** one phase of Status(): retried while --wait and the deadline allow */
  async function phase<T>(what: string | undefined, step: (s: LabState, c: LabCluster, now: number) => { err: string } | { ok: T }): Promise<{ ok: T } | { err: string }> {
    let lastErr = '';
    const r = await pollUntil(deadline, async (first) => {
      const countFlaky = first && !flakyDrawn;
      flakyDrawn = true;
      const x = await onCluster(io.labDir, { ...open, countFlaky }, step);
      if (!x.ok) {
        refusal = x.refusal;
        return { err: '' };
      }
      if ('ok' in x.value || !wait || !what) return x.value;
      lastErr = x.value.err;
      retryLog(what, lastErr);
      return undefined;
    });
    return r ?? { err: `timeout while waiting for condition, last error: ${lastErr}` };
  }
  const fail = (err: string) => (refusal ? fatal(io, refusalMessage(refusal, 'Unable to determine status:  ')) : fatal(io, `Unable to determine status:  ${err}`));

  const config = await phase<{ name: string; id: string }>(undefined, (_s, c) => {
    const cm = getObj(c, 'v1', 'ConfigMap', 'kube-system', 'cilium-config');
    if (!cm) return { err: 'unable to retrieve ConfigMap "cilium-config": configmaps "cilium-config" not found' };
    return { ok: { name: cm.data?.['cluster-name'] || 'default', id: cm.data?.['cluster-id'] || '0' } };
  });
  if ('err' in config) return fail(config.err);
  if (config.ok.id === '0' || config.ok.name === 'default') {
    log("⚠️  Cluster not configured for clustermesh, use '--set cluster.id' and '--set cluster.name' with 'cilium install'. External workloads may still be configured.");
  }
  const access = await phase<Record<string, unknown>>('access information', (s, c) => {
    const a = accessInfo(s, c);
    return 'err' in a ? a : { ok: a.info };
  });
  if ('err' in access) return fail(access.err);
  log(`✅ Service "clustermesh-apiserver" of type "${access.ok.service_type}" found`);
  log('✅ Cluster access information is available:');
  for (const ip of access.ok.service_ips as string[]) log(`  - ${ip}:${access.ok.service_port}`);
  const deployment = await phase<boolean>('deployment clustermesh-apiserver to become ready', (_s, c, now) => {
    const d = c.kube[meshApiserverKey] as { spec?: { replicas?: number } } | undefined;
    if (!d) return { err: 'deployments.apps "clustermesh-apiserver" not found' };
    const replicas = Number(d.spec?.replicas ?? 1);
    // k8s/client.go CheckDeploymentStatus
    if (!isReady(c, meshApiserverKey, now)) return { err: `only 0 of ${replicas} replicas are available` };
    return { ok: true };
  });
  if ('err' in deployment) return fail(deployment.err.startsWith('timeout') ? deployment.err : `deployment clustermesh-apiserver is not ready: ${deployment.err}`);
  log('✅ Deployment clustermesh-apiserver is ready');
  const kvstoremesh = await phase<boolean>(undefined, (_s, c) => ({
    ok: ((c.kube[meshApiserverKey] as any)?.spec?.template?.spec?.containers ?? []).some((x: { name: string }) => x.name === 'kvstoremesh') as boolean,
  }));
  if ('err' in kvstoremesh) return fail(kvstoremesh.err);
  log(`ℹ️  KVStoreMesh is ${kvstoremesh.ok ? 'enabled' : 'disabled'}`);

  let conn: { agents: Conn; kvstoremesh?: Conn } | undefined;
  const connected = await pollUntil(deadline, async (first) => {
    const countFlaky = first && !flakyDrawn;
    flakyDrawn = true;
    const x = await onCluster(io.labDir, { ...open, countFlaky }, (s, c, now) => ({
      agents: connectivity(s, c, now),
      ...(kvstoremesh.ok ? { kvstoremesh: kvstoremeshConnectivity(s, c, now) } : {}),
    }));
    if (!x.ok) {
      refusal = x.refusal;
      return true;
    }
    conn = x.value;
    if (!wait) return true;
    const notReady = conn.kvstoremesh?.notReady ? `${conn.kvstoremesh.notReady} KVStoreMesh replicas are not ready` : conn.agents.notReady ? `${conn.agents.notReady} nodes are not ready` : '';
    if (!notReady) return true;
    retryLog('clusters to be connected', notReady);
    return undefined;
  });
  if (refusal || !conn) return fail('');
  if (asJson) {
    io.out(json({ access_information: access.ok, connectivity: conn.agents.json, kvstoremesh: { enabled: kvstoremesh.ok, ...(conn.kvstoremesh ? { status: conn.kvstoremesh.json } : {}) } }));
    return 0; // connectivity problems, even a --wait that timed out, do not change the exit code in JSON mode
  }
  const a = conn.agents;
  const range = (x: Conn) => {
    const j = x.json.connected as { min?: number; avg?: number; max?: number };
    return `[min:${j.min ?? 0} / avg:${(j.avg ?? 0).toFixed(1)} / max:${j.max ?? 0}]`;
  };
  const ready = (x: Conn, what: string) => {
    if (x.notReady) log(`⚠️  ${x.notReady}/${x.pods} ${what} are not connected to all clusters ${range(x)}`);
    else if (x.links.length) log(`✅ All ${x.pods} ${what} are connected to all clusters ${range(x)}`);
  };
  log('');
  ready(a, 'nodes');
  if (conn.kvstoremesh) ready(conn.kvstoremesh, 'KVStoreMesh replicas');
  log('');
  if (a.links.length) {
    log('🔌 Cluster Connections:');
    for (const l of [...a.links].sort((x, y) => x.name.localeCompare(y.name))) {
      const kv = conn.kvstoremesh ? ` - KVStoreMesh: ${conn.kvstoremesh.pods}/${conn.kvstoremesh.pods} configured, ${l.connected ? conn.kvstoremesh.pods : 0}/${conn.kvstoremesh.pods} connected` : '';
      log(`  - ${l.name}: ${a.pods}/${a.pods} configured, ${l.connected ? a.pods : 0}/${a.pods} connected${kv}`);
    }
  } else log('🔌 No cluster connected');
  log('');
  const gs = a.json.global_services as { min?: number; avg?: number; max?: number };
  log(`🔀 Global services: [ min:${gs.min ?? 0} / avg:${(gs.avg ?? 0).toFixed(1)} / max:${gs.max ?? 0} ]`);
  log('');
  const bad = a.links.filter((l) => !l.connected);
  const errCount = (a.notReady ? Object.keys(a.json.errors as object).length : 0) + (conn.kvstoremesh?.notReady ? Object.keys(conn.kvstoremesh.json.errors as object).length : 0);
  if (errCount) {
    log(`❌ ${errCount} Errors:`);
    for (const l of bad) log(`  ❌ ${l.name} is not connected: ${l.status}`);
  }
  // summary mode: a --wait that timed out is fatal; without --wait the connectivity never changes the exit code
  if (wait && !connected) return fatal(io, `Unable to determine status:  timeout while waiting for condition, last error: ${conn.kvstoremesh?.notReady ? `${conn.kvstoremesh.notReady} KVStoreMesh replicas` : `${a.notReady} nodes`} are not ready`);
  return 0;
}

/** A cilium-cli values change: helm upgrade of the existing release with ReuseValues, no wait. */
function reuseUpgrade(c: LabCluster, ns: string, release: string, change: (v: Values) => Values, now: number): string | undefined {
  const rel = getRelease(c, ns, release);
  if (!rel || lastRevision(rel).status === 'uninstalled') return 'release: not found';
  const last = lastRevision(rel);
  if (isPending(last.status)) return 'another operation (install/upgrade/rollback) is in progress';
  const { rev } = beginInstallOrUpgrade(c, ns, release, last.chartVersion, change(structuredClone(last.config)), now);
  finish(c, ns, release, rev.revision, true, now);
  return undefined;
}

async function enableDisable(io: ToolIO, open: Open, flags: Flags, enable: boolean): Promise<number> {
  const type = str(flags, 'service-type') ?? '';
  const what = enable ? 'Unable to enable ClusterMesh: ' : 'Unable to disable ClusterMesh: ';
  if (enable && !type) return fatal(io, `${what}cannot auto-detect service type, please specify using '--service-type' option`);
  if (enable && type !== 'LoadBalancer' && type !== 'NodePort') return fatal(io, `${what}service type "${type}" is not valid`);
  const ns = str(flags, 'namespace') ?? 'kube-system';
  const release = str(flags, 'helm-release-name') ?? 'cilium';
  const r = await onCluster(io.labDir, open, (_s, c, now) =>
    reuseUpgrade(
      c,
      ns,
      release,
      (v) => {
        // clustermesh/clustermesh.go generateEnableHelmValues / DisableWithHelm
        let out = v;
        if (enable) {
          out = setPath(out, 'clustermesh.useAPIServer', true);
          out = setPath(out, 'clustermesh.apiserver.service.type', type);
          out = setPath(out, 'clustermesh.apiserver.tls.auto', { enabled: true, method: 'cronJob', schedule: '0 0 1 */4 *' });
          out = setPath(out, 'externalWorkloads.enabled', bool(flags, 'enable-external-workloads'));
          if (flags['enable-kvstoremesh'] !== undefined) out = setPath(out, 'clustermesh.apiserver.kvstoremesh.enabled', bool(flags, 'enable-kvstoremesh'));
        } else {
          out = setPath(out, 'clustermesh.useAPIServer', false);
          out = setPath(out, 'clustermesh.config.enabled', false);
          out = setPath(out, 'clustermesh.config.clusters', []);
          out = setPath(out, 'externalWorkloads.enabled', false);
        }
        return out;
      },
      now,
    ),
  );
  if (!r.ok) return fatal(io, refusalMessage(r.refusal, what));
  if (r.value) return fatal(io, `${what}${r.value}`);
  if (enable && type === 'NodePort') io.out('⚠️  Using service type NodePort may fail when nodes are removed from the cluster!\n');
  return 0;
}

/** clustermesh/clustermesh.go ConnectWithHelm / DisconnectWithHelm (bidirectional). */
async function connect(io: ToolIO, open: Open, flags: Flags, doConnect: boolean): Promise<number> {
  const what = doConnect ? 'Unable to connect cluster: ' : 'Unable to disconnect clusters: ';
  const dest = str(flags, 'destination-context');
  if (!dest && !(flags['destination-endpoint'] as string[] | undefined)?.length) return fatal(io, `${what}destination context or endpoint is required`);
  const ns = str(flags, 'namespace') ?? 'kube-system';
  const release = str(flags, 'helm-release-name') ?? 'cilium';
  const r = await onCluster(io.labDir, open, (s, c, now): { err: string } | { out: string } => {
    let remote: LabCluster | undefined;
    try {
      const t = resolveTarget(s, io.env, undefined, dest);
      if (!apiServerUp(t.cluster, now)) return { err: `Get "${t.server}/api/v1/namespaces/${ns}/secrets/cilium-ca": dial tcp ${t.hostPort}: connect: connection refused` };
      remote = t.cluster;
    } catch (err) {
      if (err instanceof KubeconfigError) return { err: `unable to create Kubernetes client for destination: ${err.message}` };
      throw err;
    }
    reconcileCluster(s, remote, now);
    for (const x of [c, remote]) if (!getRelease(x, ns, release)) return { err: `❌ Unable to find Helm release for the ${x === c ? 'source' : 'target'} cluster: release: not found` };
    const localName = ciliumClusterName(c);
    const remoteName = ciliumClusterName(remote);
    if (!doConnect) {
      const drop = (name: string) => (v: Values) =>
        setPath(v, 'clustermesh.config.clusters', ((getPath(v, 'clustermesh.config.clusters') as { name: string }[] | undefined) ?? []).filter((e) => e.name !== name));
      const e1 = reuseUpgrade(c, ns, release, drop(remoteName), now) ?? reuseUpgrade(remote, ns, release, drop(localName), now);
      return e1 ? { err: e1 } : { out: `✅ Disconnected clusters ${localName} and ${remoteName}!\n` };
    }
    const aLocal = accessInfo(s, c);
    if ('err' in aLocal) return { err: aLocal.err };
    const aRemote = accessInfo(s, remote);
    if ('err' in aRemote) return { err: aRemote.err };
    const idL = Number(aLocal.info.cluster_id);
    const idR = Number(aRemote.info.cluster_id);
    if (localName === 'default' || idL === 0) return { err: `local cluster has the default name (cluster name: ${localName}) and/or ID 0 (cluster ID: ${idL})` };
    if (idR < 1 || idR > Number(aRemote.info.max_connected_clusters)) return { err: `remote cluster has cluster ID ${idR} out of acceptable range (1-${aRemote.info.max_connected_clusters})` };
    if (localName === remoteName) return { err: `remote and local cluster have the same, non-unique name: ${localName}` };
    if (idL === idR) return { err: `remote and local cluster have the same, non-unique ID: ${idL}` };
    const caMatch = Boolean(getPath(ciliumValues(c), 'tls.ca.cert')) && getPath(ciliumValues(c), 'tls.ca.cert') === getPath(ciliumValues(remote), 'tls.ca.cert');
    let out = '';
    if (!caMatch) out += '⚠️ Cilium CA certificates do not match between clusters. Multicluster features will be limited!\n';
    const add = (name: string, info: Record<string, unknown>) => (v: Values) => {
      const entries = ((getPath(v, 'clustermesh.config.clusters') as { name: string }[] | undefined) ?? []).filter((e) => e.name !== name);
      const entry: Record<string, unknown> = { name, ips: [(info.service_ips as string[])[0]], port: info.service_port };
      if (!caMatch) entry.tls = { cert: info.client_cert, key: info.client_key, caCert: info.ca };
      return setPath(setPath(v, 'clustermesh.config.enabled', true), 'clustermesh.config.clusters', [...entries, entry]);
    };
    const e = reuseUpgrade(c, ns, release, add(remoteName, aRemote.info), now) ?? reuseUpgrade(remote, ns, release, add(localName, aLocal.info), now);
    if (e) return { err: e };
    return { out: `${out}✅ Connected cluster ${localName} and ${remoteName}!\n` };
  });
  if (!r.ok) return fatal(io, refusalMessage(r.refusal, what));
  if ('err' in r.value) return fatal(io, `${what}${r.value.err}`);
  io.out(r.value.out);
  return 0;
}

