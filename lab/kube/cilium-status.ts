import type { LabCluster, LabState } from '../state.ts';
import { agentStatus } from './agent-status.ts';
import type { KubeTarget } from './kubeconfig.ts';
import { getRelease, lastRevision } from './releases.ts';
import { getObj, type KubeObject } from './store.ts';
import { hubbleRelayKey, isReady, meshApiserverKey, operatorKey, podsOf, runningNodes, ciliumDsKey, type PodView } from './view.ts';

export const envoyDsKey = 'apps/v1|DaemonSet|kube-system|cilium-envoy';
/** the chart runs the agents and the operator in the host network (no CiliumEndpoint, not counted as pods) */
const hostNetwork = (p: PodView) => p.owner === 'DaemonSet/cilium' || p.owner === 'Deployment/cilium-operator';

/**
 * `cilium status` of cilium-cli v0.16.24 (the CLI source is vendored at
 * vendor/github.com/cilium/cilium/cilium-cli/ in cilium/cilium-cli@v0.16.24): status/k8s.go status() collects one
 * task per component, status/status.go holds the model. What the CLI then does with it (cli/status.go):
 * without `--wait` the JSON is always printed, and a non-empty collection_errors turns the exit code to 1 with
 * `status check failed: [...]` on stderr (printed bare by cmd/cilium/main.go) — JSON on stdout AND exit 1.
 */
export interface CliStatus {
  json: Record<string, unknown>;
  /** the collection errors' texts, in the order the CLI joins them */
  collectionErrors: string[];
  /** statusIsReady (status/k8s.go): no errors and, unless --ignore-warnings, no warnings */
  errors: number;
  warnings: number;
}

interface ErrorCount {
  Errors: string[];
  Warnings: string[];
  Disabled: boolean;
}

/**
 * A Go `error` value through encoding/json: its exported fields only. The lab's collection errors are of three
 * kinds: *errors.StatusError (k8s.io/apimachinery/pkg/api/errors) → {"ErrStatus": metav1.Status}; *url.Error from
 * client-go's transport → {"Op","URL","Err": *net.OpError}; fmt.Errorf wrappers → {}.
 */
type GoError = { text: string; json: Record<string, unknown> };

const notFound = (resource: string, group: string, name: string): GoError => {
  const qualified = group ? `${resource}.${group}` : resource;
  const text = `${qualified} "${name}" not found`;
  return {
    text,
    json: { ErrStatus: { metadata: {}, status: 'Failure', message: text, reason: 'NotFound', details: { name, group: group || undefined, kind: resource }, code: 404 } },
  };
};
const wrapped = (text: string): GoError => ({ text, json: {} });

class Collector {
  readonly s = {
    image_count: {} as Record<string, Record<string, number>>,
    phase_count: {} as Record<string, Record<string, number>>,
    pod_state: {} as Record<string, { Type: string; Desired: number; Ready: number; Available: number; Unavailable: number }>,
    pods_count: { all: 0, by_cilium: 0 },
    cilium_status: {} as Record<string, unknown>,
    cilium_endpoints: {} as Record<string, unknown[]>,
    errors: {} as Record<string, Record<string, ErrorCount>>,
    collection: [] as GoError[],
    helm_chart_version: '',
  };
  private count(deployment: string, pod: string): ErrorCount {
    const m = (this.s.errors[deployment] ??= {});
    return (m[pod] ??= { Errors: [], Warnings: [], Disabled: false });
  }
  error(d: string, pod: string, text: string) {
    this.count(d, pod).Errors.push(text);
  }
  warning(d: string, pod: string, text: string) {
    this.count(d, pod).Warnings.push(text);
  }
  disabled(d: string, v: boolean) {
    this.count(d, d).Disabled = v;
  }
  collectionError(e: GoError) {
    this.s.collection.push(e);
  }
  result(): CliStatus {
    const s = this.s;
    let errors = 0;
    let warnings = 0;
    for (const pods of Object.values(s.errors)) {
      for (const c of Object.values(pods)) {
        errors += c.Errors.length;
        warnings += c.Warnings.length;
      }
    }
    // struct field order of status.Status; `omitempty` drops empty maps, slices and strings (not the pods_count struct)
    const json: Record<string, unknown> = {};
    const put = (k: string, v: unknown) => {
      const empty = v === '' || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0);
      if (!empty || k === 'pods_count') json[k] = v;
    };
    put('image_count', s.image_count);
    put('phase_count', s.phase_count);
    put('pod_state', s.pod_state);
    put('pods_count', s.pods_count);
    put('cilium_status', s.cilium_status);
    put('cilium_endpoints', s.cilium_endpoints);
    put('errors', s.errors);
    put(
      'collection_errors',
      s.collection.map((e) => e.json),
    );
    put('helm_chart_version', s.helm_chart_version);
    return { json, collectionErrors: s.collection.map((e) => e.text), errors, warnings };
  }
}

/** The status of a cluster whose API answers. */
export function clusterStatus(state: LabState, c: LabCluster, now: number): CliStatus {
  const k = new Collector();
  const nodes = runningNodes(state, c.name);
  const pods = podsOf(state, c, now);
  const rel = getRelease(c, 'kube-system', 'cilium');
  const chartVersion = rel && lastRevision(rel).status !== 'uninstalled' ? lastRevision(rel).chartVersion : undefined;
  const image = (name: string, ds: KubeObject | undefined) =>
    String((ds?.spec?.template?.spec?.containers as { image?: string }[] | undefined)?.[0]?.image ?? `quay.io/cilium/${name}:v${chartVersion}`);

  // the agents (podStatus with AgentPodSelector and a per-pod exec of `cilium-dbg status -o json`)
  const agents = pods.filter((p) => p.namespace === 'kube-system' && p.owner === 'DaemonSet/cilium');
  const ds = c.kube[ciliumDsKey] as KubeObject | undefined;
  k.s.phase_count.cilium = agents.length ? { Running: agents.length } : {};
  k.s.image_count.cilium = agents.length ? { [image('cilium', ds)]: agents.length } : {};
  for (const p of agents) {
    const node = nodes.find((n) => n.name === p.node)!;
    const st = agentStatus(state, c, node, now) as { cilium?: { state: string; msg: string }; cluster?: { ciliumHealth?: { state: string; msg: string } } };
    k.s.cilium_status[p.name] = st;
    k.s.cilium_endpoints[p.name] = [];
    // status.go parseStatusResponse: a subsystem in state Failure is an error, Warning a warning
    for (const [subsystem, sub] of [
      ['Cilium', st.cilium],
      ['Health', st.cluster?.ciliumHealth],
    ] as const) {
      if (sub?.state === 'Failure') k.error('cilium', p.name, `${subsystem}: ${sub.msg}`);
      if (sub?.state === 'Warning') k.warning('cilium', p.name, `${subsystem}: ${sub.msg}`);
    }
  }

  // daemonSetStatus: a missing agent DaemonSet is an error AND a collection error; a missing envoy one is "disabled"
  const daemonSet = (name: string, key: string) => {
    if (!c.kube[key]) return false;
    const desired = nodes.length;
    const ready = isReady(c, key, now) ? desired : 0;
    k.s.pod_state[name] = { Type: 'DaemonSet', Desired: desired, Ready: ready, Available: ready, Unavailable: desired - ready };
    if (desired - ready > 0) k.error(name, name, `${desired - ready} pods of DaemonSet ${name} are not ready`);
    return true;
  };
  if (!daemonSet('cilium', ciliumDsKey)) {
    const e = notFound('daemonsets', 'apps', 'cilium');
    k.error('cilium', 'cilium', e.text);
    k.collectionError(e);
  }
  if (daemonSet('cilium-envoy', envoyDsKey)) {
    const envoy = c.kube[envoyDsKey] as KubeObject;
    k.s.phase_count['cilium-envoy'] = nodes.length ? { Running: nodes.length } : {};
    k.s.image_count['cilium-envoy'] = nodes.length ? { [image('cilium-envoy', envoy)]: nodes.length } : {};
  } else k.disabled('cilium-envoy', true);

  // deploymentStatus: a missing Deployment is "disabled", never an error
  const deployment = (name: string, key: string) => {
    const d = c.kube[key] as KubeObject | undefined;
    k.disabled(name, !d);
    if (!d) return;
    const desired = Number(d.spec?.replicas ?? 1);
    const ready = isReady(c, key, now) ? desired : 0;
    k.s.pod_state[name] = { Type: 'Deployment', Desired: desired, Ready: ready, Available: ready, Unavailable: desired - ready };
    if (desired - ready > 0) k.error(name, name, `${desired - ready} pods of Deployment ${name} are not ready`);
    const own = pods.filter((p) => p.owner === `Deployment/${name}`);
    k.s.phase_count[name] = own.length ? { Running: own.length } : {};
    k.s.image_count[name] = {};
    for (const p of own) for (const img of p.containers.map(() => image(name, d))) k.s.image_count[name]![img] = (k.s.image_count[name]![img] ?? 0) + 1;
  };
  deployment('cilium-operator', operatorKey);
  // the operator's podStatus runs even when the Deployment is missing (an empty phase/image count)
  k.s.phase_count['cilium-operator'] ??= {};
  k.s.image_count['cilium-operator'] ??= {};
  deployment('hubble-relay', hubbleRelayKey);
  deployment('hubble-ui', 'apps/v1|Deployment|kube-system|hubble-ui');
  deployment('clustermesh-apiserver', meshApiserverKey);

  // podCount: pods that are not host-network and Running or Pending; CiliumEndpoints once the CRD exists
  const podNetwork = pods.filter((p) => !hostNetwork(p));
  k.s.pods_count = { all: podNetwork.length, by_cilium: c.kube[ciliumDsKey] ? podNetwork.length : 0 };

  if (!getObj(c, 'v1', 'ConfigMap', 'kube-system', 'cilium-config')) {
    k.collectionError(wrapped(`unable to retrieve ConfigMap "cilium-config": ${notFound('configmaps', '', 'cilium-config').text}`));
  }
  // the Helm task's error (no release) is dropped by the worker pool: no version, no error
  if (chartVersion) k.s.helm_chart_version = chartVersion;
  return k.result();
}

/**
 * The status of a cluster whose API does not answer: every task's request fails the same way, so the JSON
 * carries the aggregated errors (and warnings for the optional Deployments) and the collection errors.
 */
export function unreachableStatus(target: KubeTarget, why: 'refused' | 'flaky'): CliStatus {
  const k = new Collector();
  const [host, port] = target.hostPort.split(':');
  const base = target.server.replace(/\/$/, '');
  const fail = (path: string): GoError => {
    const url = `${base}${path}`;
    const cause = why === 'refused' ? `dial tcp ${target.hostPort}: connect: connection refused` : 'net/http: TLS handshake timeout';
    const err = why === 'refused' ? { Op: 'dial', Net: 'tcp', Source: null, Addr: { IP: host, Port: Number(port), Zone: '' }, Err: { Syscall: 'connect', Err: 111 } } : {};
    return { text: `Get "${url}": ${cause}`, json: { Op: 'Get', URL: url, Err: err } };
  };
  const ns = '/api/v1/namespaces/kube-system';
  const apps = '/apis/apps/v1/namespaces/kube-system';
  // the agents' podStatus runs before the worker pool starts
  k.collectionError(fail(`${ns}/pods?labelSelector=k8s-app%3Dcilium`));
  const ds = fail(`${apps}/daemonsets/cilium`);
  k.error('cilium', 'cilium', ds.text);
  k.collectionError(ds);
  const envoy = fail(`${apps}/daemonsets/cilium-envoy`);
  k.error('cilium-envoy', 'cilium-envoy', envoy.text);
  k.collectionError(envoy);
  k.collectionError(fail(`${ns}/pods?labelSelector=name%3Dcilium-envoy`));
  const operator = fail(`${apps}/deployments/cilium-operator`);
  k.disabled('cilium-operator', false);
  k.error('cilium-operator', 'cilium-operator', operator.text);
  k.collectionError(operator);
  for (const [name, what] of [
    ['hubble-relay', 'hubble relay'],
    ['hubble-ui', 'hubble ui'],
    ['clustermesh-apiserver', 'clustermesh'],
  ] as const) {
    k.disabled(name, false);
    k.warning(name, name, `${what} is not deployed`);
  }
  k.collectionError(fail('/api/v1/pods'));
  k.collectionError(wrapped(`unable to retrieve ConfigMap "cilium-config": ${fail(`${ns}/configmaps/cilium-config`).text}`));
  return k.result();
}
