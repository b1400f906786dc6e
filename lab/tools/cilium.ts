import { agentStatus } from '../kube/agent-status.ts';
import { bool, FlagError, parseDuration, parseFlags, positionals, str, type FlagSpec } from '../kube/cobra.ts';
import { apiServerUp, KubeconfigError, resolveTarget } from '../kube/kubeconfig.ts';
import { apiserverAddresses, ciliumClusterName, ciliumValues, meshLinks, numGlobalServices } from '../kube/mesh.ts';
import { reconcileCluster } from '../kube/reconcile.ts';
import { beginInstallOrUpgrade, finish, getRelease, isPending, lastRevision } from '../kube/releases.ts';
import { onCluster, pollUntil, type Refusal } from '../kube/session.ts';
import { getObj } from '../kube/store.ts';
import { KUBE_TIMING } from '../kube/timing.ts';
import { getPath, setPath, type Values } from '../kube/values.ts';
import { isReady, meshApiserverKey, podsOf, runningNodes, ciliumDsKey, operatorKey, hubbleRelayKey } from '../kube/view.ts';
import type { LabCluster, LabState } from '../state.ts';
import type { SimulatedTool, ToolIO } from './io.ts';

/**
 * Simulated cilium-cli v0.16.15 (cilium/cilium-cli@v0.16.15 cli/{cmd,status,clustermesh,version}.go,
 * status/status.go, clustermesh/clustermesh.go). Errors: cli/utils.go fatalf → "\nError: <msg>\n", exit 1.
 * No --kubeconfig flag before v0.16.20: the client reads KUBECONFIG.
 */
const CLI_VERSION = 'v0.16.15';
const GLOBAL: FlagSpec[] = [
  { name: 'context', kind: 'string' },
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'helm-release-name', kind: 'string' },
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
  const open = { tool: 'cilium', context: str(flags, 'context'), env: io.env };
  switch (cmd) {
    case 'version':
      // cli/version.go
      io.out(`cilium-cli: ${CLI_VERSION} compiled with go1.22.5 on linux/amd64\ncilium image (default): v1.16.0\ncilium image (stable): unknown\n`);
      if (!bool(flags, 'client')) {
        const r = await onCluster(io.labDir, open, (_s, c) => {
          const rel = getRelease(c, 'kube-system', 'cilium');
          return rel ? `v${lastRevision(rel).chartVersion}` : undefined;
        });
        io.out(r.ok && r.value ? `cilium image (running): ${r.value}\n` : `cilium image (running): unknown. Unable to obtain cilium version. Reason: release: not found\n`);
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

type Open = { tool: string; context?: string; env: NodeJS.ProcessEnv };
type Flags = ReturnType<typeof parseFlags>['flags'];

/** status/status.go Status, marshalled: capitalised pod_state keys, Go errors as {} */
function ciliumStatus(state: LabState, c: LabCluster, now: number) {
  const nodes = runningNodes(state, c.name);
  const pods = podsOf(state, c, now);
  const rel = getRelease(c, 'kube-system', 'cilium');
  const version = rel ? lastRevision(rel).chartVersion : undefined;
  const out: Record<string, any> = { image_count: {}, phase_count: {}, pod_state: {}, pods_count: { all: pods.length + nodes.length * 2, by_cilium: 0 }, cilium_status: {}, errors: {} };
  const component = (name: string, type: 'DaemonSet' | 'Deployment', key: string, image: string, desired: number) => {
    if (!c.kube[key]) {
      if (name === 'cilium') out.errors[name] = { [name]: { Errors: [{}], Warnings: null, Disabled: false } };
      else out.errors[name] = { [name]: { Errors: null, Warnings: null, Disabled: true } };
      return true;
    }
    const ready = isReady(c, key, now) ? desired : 0;
    out.image_count[name] = { [`quay.io/cilium/${image}:v${version}`]: desired };
    out.phase_count[name] = { Running: desired };
    out.pod_state[name] = { Type: type, Desired: desired, Ready: ready, Available: ready, Unavailable: desired - ready };
    if (ready < desired) out.errors[name] = { [name]: { Errors: [{}], Warnings: null, Disabled: false } };
    return ready === desired;
  };
  const operatorReplicas = Number((c.kube[operatorKey] as any)?.spec?.replicas ?? 0);
  const ok = [
    component('cilium', 'DaemonSet', ciliumDsKey, 'cilium', nodes.length),
    component('cilium-operator', 'Deployment', operatorKey, 'operator-generic', operatorReplicas),
    component('clustermesh-apiserver', 'Deployment', meshApiserverKey, 'clustermesh-apiserver', Number((c.kube[meshApiserverKey] as any)?.spec?.replicas ?? 1)),
    component('hubble-relay', 'Deployment', hubbleRelayKey, 'hubble-relay', Number((c.kube[hubbleRelayKey] as any)?.spec?.replicas ?? 1)),
  ].every(Boolean) && Boolean(c.kube[ciliumDsKey]);
  for (const d of ['hubble-ui', 'cilium-envoy']) out.errors[d] = { [d]: { Errors: null, Warnings: null, Disabled: true } };
  for (const p of pods.filter((p) => p.namespace === 'kube-system' && p.owner === 'DaemonSet/cilium')) {
    out.cilium_status[p.name] = agentStatus(state, c, nodes.find((n) => n.name === p.node)!, now);
  }
  out.pods_count.by_cilium = pods.filter((p) => p.namespace !== 'kube-system').length;
  if (version) out.helm_chart_version = version;
  return { ok, json: out };
}

function statusSummary(s: Record<string, any>): string {
  const word = (n: string) => (s.errors[n]?.[n]?.Disabled ? 'disabled' : s.errors[n] ? `${s.errors[n][n].Errors?.length ?? 0} errors` : 'OK');
  const lines = [
    `    /¯¯\\`,
    ` /¯¯\\__/¯¯\\    Cilium:             ${word('cilium')}`,
    ` \\__/¯¯\\__/    Operator:           ${word('cilium-operator')}`,
    ` /¯¯\\__/¯¯\\    Envoy DaemonSet:    disabled (using embedded mode)`,
    ` \\__/¯¯\\__/    Hubble Relay:       ${word('hubble-relay')}`,
    `    \\__/       ClusterMesh:        ${word('clustermesh-apiserver')}`,
    '',
  ];
  for (const [name, ps] of Object.entries(s.pod_state as Record<string, any>)) {
    lines.push(`${ps.Type.padEnd(23)}${name.padEnd(25)}Desired: ${ps.Desired}, Ready: ${ps.Ready}/${ps.Desired}, Available: ${ps.Available}/${ps.Desired}${ps.Unavailable ? `, Unavailable: ${ps.Unavailable}/${ps.Desired}` : ''}`);
  }
  for (const [name, e] of Object.entries(s.errors as Record<string, any>)) {
    if (!e[name].Disabled && name === 'cilium' && !s.pod_state.cilium) lines.push(`Errors:                cilium             cilium          daemonsets.apps "cilium" not found`);
    else if (!e[name].Disabled) lines.push(`Errors:                ${name.padEnd(18)} ${name.padEnd(15)} ${s.pod_state[name]?.Unavailable ?? 1} pods of ${s.pod_state[name]?.Type ?? 'DaemonSet'} ${name} are not ready`);
  }
  return `${lines.join('\n')}\n`;
}

async function status(io: ToolIO, open: Open, flags: Flags): Promise<number> {
  let waitMs: number;
  try {
    waitMs = bool(flags, 'wait') ? parseDuration(str(flags, 'wait-duration') ?? '5m') : 0;
  } catch (err) {
    io.err(`Error: invalid argument: ${(err as Error).message}\n`);
    return 1;
  }
  let refusal: Refusal | undefined;
  let last: { ok: boolean; json: Record<string, unknown> } | undefined;
  const done = await pollUntil(Date.now() + waitMs, async (first) => {
    const r = await onCluster(io.labDir, { ...open, countFlaky: first }, (s, c, now) => ciliumStatus(s, c, now));
    if (!r.ok) {
      refusal = r.refusal;
      return true;
    }
    last = r.value;
    return !bool(flags, 'wait') || r.value.ok ? true : undefined;
  });
  if (refusal) return fatal(io, refusalMessage(refusal, 'Unable to determine status:  '));
  if (!done) {
    io.err(statusSummary(last!.json));
    return fatal(io, 'Unable to determine status:  timeout while waiting for status to become successful: context deadline exceeded');
  }
  io.out(str(flags, 'output') === 'json' ? json(last!.json) : statusSummary(last!.json));
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

const stats = (xs: number[]) => {
  if (!xs.length) return {};
  const o: Record<string, number> = { min: Math.min(...xs), avg: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) };
  for (const k of Object.keys(o)) if (!o[k]) delete o[k];
  return o;
};

/** ConnectivityStatus (clustermesh/clustermesh.go): per agent, which configured clusters it is connected to. */
function connectivity(state: LabState, c: LabCluster, now: number) {
  const agents = podsOf(state, c, now).filter((p) => p.owner === 'DaemonSet/cilium');
  const links = meshLinks(state, c, now);
  const clusters: Record<string, { configured?: number; connected?: number }> = {};
  const errors: Record<string, Record<string, unknown>> = {};
  let notReady = 0;
  for (const a of agents) {
    for (const l of links) {
      const e = (clusters[l.name] ??= {});
      e.configured = (e.configured ?? 0) + 1;
      if (l.connected) e.connected = (e.connected ?? 0) + 1;
      else (errors[a.name] ??= {})[l.name] = { Errors: [{}], Warnings: null, Disabled: false };
    }
    if (links.some((l) => !l.connected)) notReady++;
  }
  const connectedCount = links.filter((l) => l.connected).length;
  const out: Record<string, unknown> = {
    global_services: stats(agents.map(() => numGlobalServices(c))),
    connected: stats(agents.map(() => connectedCount)),
    clusters,
  };
  if (agents.length) out.total = agents.length;
  if (notReady) out.not_ready = notReady;
  if (Object.keys(errors).length) out.errors = errors;
  return { json: out, links, agents: agents.length, notReady };
}

async function meshStatus(io: ToolIO, open: Open, flags: Flags): Promise<number> {
  const wait = bool(flags, 'wait');
  const asJson = str(flags, 'output') === 'json';
  const log = (t: string) => (asJson ? io.err(t) : io.out(t));
  let waitMs: number;
  try {
    waitMs = wait ? parseDuration(str(flags, 'wait-duration') ?? '15m') : 0;
  } catch (err) {
    io.err(`Error: invalid argument: ${(err as Error).message}\n`);
    return 1;
  }
  const started = Date.now();
  let lastLogged = started;
  let refusal: Refusal | undefined;
  let lastErr = '';
  type Result = { access: Record<string, unknown>; conn: ReturnType<typeof connectivity>; kvstoremesh: boolean };
  let lastResult: Result | undefined;
  // utils/wait/wait.go: retry every 2 s; "⌛ Waiting (Ns) for <what>: <last error>" every 10 s
  const res = await pollUntil(started + waitMs, async (first) => {
    const r = await onCluster(io.labDir, { ...open, countFlaky: first }, (s, c, now): { err: string; what: string } | Result => {
      const a = accessInfo(s, c);
      if ('err' in a) return { err: a.err, what: 'access information' };
      if (!isReady(c, meshApiserverKey, now)) return { err: 'deployment clustermesh-apiserver is not ready', what: 'deployment clustermesh-apiserver to become ready' };
      return { access: a.info, conn: connectivity(s, c, now), kvstoremesh: getPath(ciliumValues(c), 'clustermesh.apiserver.kvstoremesh.enabled') !== false };
    });
    if (!r.ok) {
      refusal = r.refusal;
      return true;
    }
    const v = r.value;
    if ('err' in v) {
      lastErr = v.err;
      if (Date.now() - lastLogged >= 10 * KUBE_TIMING.pollMs) {
        lastLogged = Date.now();
        log(`⌛ Waiting (${Math.round((Date.now() - started) / 1000)}s) for ${v.what}: ${v.err}\n`);
      }
      return wait ? undefined : true;
    }
    lastResult = v;
    return !wait || v.conn.notReady === 0 ? true : undefined;
  });
  if (refusal) return fatal(io, refusalMessage(refusal, 'Unable to determine status:  '));
  if (!lastResult) {
    return fatal(io, wait && !res ? `Unable to determine status:  timeout while waiting for condition, last error: ${lastErr}` : `Unable to determine status:  ${lastErr}`);
  }
  const { access, conn, kvstoremesh } = lastResult;
  if (asJson) {
    io.out(json({ access_information: access, connectivity: conn.json, kvstoremesh: { enabled: kvstoremesh } }));
    return 0; // connectivity problems do not change the exit code in JSON mode
  }
  const lines = [
    `✅ Service "clustermesh-apiserver" of type "${access.service_type}" found`,
    `✅ Cluster access information is available:`,
    `  - ${(access.service_ips as string[])[0]}:${access.service_port}`,
    `✅ Deployment clustermesh-apiserver is ready`,
  ];
  if (conn.notReady === 0) lines.push(`✅ All ${conn.agents} nodes are connected to all clusters`);
  else lines.push(`⚠️  ${conn.notReady}/${conn.agents} nodes are not connected to all clusters`);
  lines.push('🔌 Cluster Connections:');
  for (const l of conn.links) lines.push(`  - ${l.name}: ${conn.agents}/${conn.agents} configured, ${l.connected ? conn.agents : 0}/${conn.agents} connected`);
  const bad = conn.links.filter((l) => !l.connected);
  if (bad.length) {
    lines.push(`❌ ${bad.length * conn.agents} Errors:`);
    for (const l of bad) lines.push(`  ❌ ${l.name} is not connected: ${l.status}`);
  }
  io.out(`${lines.join('\n')}\n`);
  return bad.length ? 1 : 0;
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

