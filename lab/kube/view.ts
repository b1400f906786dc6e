import { EXCLUDE_LB_LABEL } from '../../blueprint/announcers.ts';
import type { LabCluster, LabNode, LabState } from '../state.ts';
import { withEditedClusterId } from './faults.ts';
import { intToIp, parseCidr } from './ipv4.ts';
import { CILIUM_BGP_CRDS, CILIUM_CRDS } from './resources.ts';
import { getObj, isoTime, k8sLab, keyOf, listObjs, podSuffix, type KubeObject } from './store.ts';
import { KUBE_TIMING } from './timing.ts';
import { kubeletVersionOf, talosVersionOf } from '../talos/versions.ts';

/**
 * Objects the lab derives on read instead of storing: Nodes (from the fleet), Pods (from the workloads),
 * and the status of DaemonSets, Deployments and CRDs (from the ready-at clocks).
 */
export { EXCLUDE_LB_LABEL } from '../../blueprint/announcers.ts';

export function runningNodes(state: LabState, cluster: string): LabNode[] {
  return Object.values(state.nodes)
    .filter((n) => n.cluster === cluster && n.stage === 'running')
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Node labels as the kubelet registers them; the cp-only-excluded fault pins Talos' exclusion label on CPs. */
export function nodeLabels(state: LabState, n: LabNode): Record<string, string> {
  const labels: Record<string, string> = {
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    ...(n.role === 'controlplane' ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
    ...n.labels,
  };
  if (n.role === 'controlplane' && state.faults.keepCpExcludeLabel) labels[EXCLUDE_LB_LABEL] = '';
  return labels;
}

export const readyAt = (cluster: LabCluster, key: string) => k8sLab(cluster).readyAt[key];
export const isReady = (cluster: LabCluster, key: string, now: number) => {
  const at = readyAt(cluster, key);
  return at !== undefined && now >= at;
};

export const ciliumDsKey = 'apps/v1|DaemonSet|kube-system|cilium';
export const operatorKey = 'apps/v1|Deployment|kube-system|cilium-operator';
export const meshApiserverKey = 'apps/v1|Deployment|kube-system|clustermesh-apiserver';
export const hubbleRelayKey = 'apps/v1|Deployment|kube-system|hubble-relay';

export const agentsReady = (c: LabCluster, now: number) => Boolean(c.kube[ciliumDsKey]) && isReady(c, ciliumDsKey, now);
export const operatorReady = (c: LabCluster, now: number) => Boolean(c.kube[operatorKey]) && isReady(c, operatorKey, now);

/**
 * kube-controller-manager's range allocator (--allocate-node-cidrs, which Talos enables): the index-th /24 of the
 * cluster's pod CIDR for the index-th node (node-cidr-mask-size 24), or the whole CIDR when it is smaller.
 */
export function nodePodCidr(c: LabCluster, index: number): string {
  const { first, bits } = parseCidr(podCidrOf(c));
  return bits >= 24 ? `${intToIp(first)}/${bits}` : `${intToIp((first + index * 256) >>> 0)}/24`;
}

function nodeObject(state: LabState, c: LabCluster, n: LabNode, now: number, index: number): KubeObject {
  const ready = agentsReady(c, now);
  const podCIDR = nodePodCidr(c, index);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: nodeLabels(state, n), creationTimestamp: isoTime(n.stageSince) },
    spec: {
      podCIDR,
      podCIDRs: [podCIDR],
      ...(n.role === 'controlplane' ? { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.address },
        { type: 'Hostname', address: n.name },
      ],
      // the kubelet reports its own version and the OS it runs on (the Talos version the node was installed/upgraded to)
      nodeInfo: {
        architecture: 'amd64',
        containerRuntimeVersion: 'containerd://2.0.2',
        kubeProxyVersion: '',
        kubeletVersion: `v${kubeletVersionOf(state, n)}`,
        operatingSystem: 'linux',
        osImage: `Talos (${talosVersionOf(state, n)})`,
      },
      // No CNI, no Ready: kubelet reports NetworkPluginNotReady until the cilium agent runs on the node.
      conditions: [
        ready
          ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
          : {
              type: 'Ready',
              status: 'False',
              reason: 'KubeletNotReady',
              message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
            },
      ],
    },
  };
}

function workloadStatus(c: LabCluster, o: KubeObject, desired: number, now: number): KubeObject {
  const ready = isReady(c, keyOf(o), now) ? desired : 0;
  const status =
    o.kind === 'DaemonSet'
      ? {
          currentNumberScheduled: desired,
          desiredNumberScheduled: desired,
          numberAvailable: ready,
          numberReady: ready,
          numberUnavailable: desired - ready || undefined,
          updatedNumberScheduled: ready,
          observedGeneration: o.metadata.generation,
        }
      : {
          replicas: desired,
          readyReplicas: ready || undefined,
          availableReplicas: ready || undefined,
          updatedReplicas: desired,
          observedGeneration: o.metadata.generation,
        };
  return { ...o, status };
}

export interface PodView {
  name: string;
  namespace: string;
  owner: string;
  node: string;
  ip: string;
  ready: boolean;
  labels: Record<string, string>;
  containers: string[];
}

/** Pods of the modelled workloads: one cilium agent per running node, operator/apiserver replicas, user Deployments. */
export function podsOf(state: LabState, c: LabCluster, now: number): PodView[] {
  const nodes = runningNodes(state, c.name);
  const pods: PodView[] = [];
  const ds = c.kube[ciliumDsKey] as KubeObject | undefined;
  if (ds) {
    for (const n of nodes) {
      pods.push({
        name: `cilium-${podSuffix(`${c.name}/${n.name}`)}`,
        namespace: 'kube-system',
        owner: 'DaemonSet/cilium',
        node: n.name,
        ip: n.address,
        ready: isReady(c, ciliumDsKey, now),
        labels: { 'k8s-app': 'cilium' },
        containers: ['cilium-agent'],
      });
    }
  }
  const podCidrBase = podCidrOf(c).split('/')[0]!.split('.').slice(0, 2).join('.');
  let idx = 10;
  for (const d of listObjs(c, 'Deployment')) {
    const replicas = Number(d.spec?.replicas ?? 1);
    const hostNetwork = d.metadata.namespace === 'kube-system' && d.metadata.name === 'cilium-operator';
    for (let i = 0; i < replicas; i++) {
      const node = nodes[i % Math.max(nodes.length, 1)];
      pods.push({
        name: `${d.metadata.name}-${podSuffix(`${c.name}/${d.metadata.name}`, 10)}-${podSuffix(`${c.name}/${d.metadata.name}/${i}`)}`,
        namespace: d.metadata.namespace ?? 'default',
        owner: `Deployment/${d.metadata.name}`,
        node: node?.name ?? '',
        ip: hostNetwork ? (node?.address ?? '') : `${podCidrBase}.${Math.floor(idx / 250)}.${(idx % 250) + 1}`,
        ready: isReady(c, keyOf(d), now) && agentsReady(c, now),
        labels: (d.spec?.template?.metadata?.labels as Record<string, string> | undefined) ?? {},
        containers: ((d.spec?.template?.spec?.containers as { name: string }[] | undefined) ?? []).map((x) => x.name),
      });
      if (!hostNetwork) idx++;
    }
  }
  return pods;
}

/**
 * The pod CIDR: Talos `cluster.network.podSubnets` (recorded by the lab's talosctl as `extra.podCidr`) is what
 * ipam.mode=kubernetes uses; with cluster-pool IPAM the chart's clusterPoolIPv4PodCIDRList wins; else Talos' default.
 */
export function podCidrOf(c: LabCluster): string {
  const rel = c.helm['kube-system/cilium'] as { revisions: { config: any }[] } | undefined;
  const cfg = rel?.revisions.at(-1)?.config;
  if (cfg?.ipam?.mode && cfg.ipam.mode !== 'kubernetes' && cfg.ipam.operator?.clusterPoolIPv4PodCIDRList?.[0]) {
    return String(cfg.ipam.operator.clusterPoolIPv4PodCIDRList[0]);
  }
  if (typeof c.extra.podCidr === 'string') return c.extra.podCidr;
  return cfg?.ipam?.operator?.clusterPoolIPv4PodCIDRList?.[0] ?? '10.244.0.0/16';
}

function podObject(p: PodView, now: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels, creationTimestamp: isoTime(now) },
    spec: { nodeName: p.node, containers: p.containers.map((name) => ({ name })) },
    status: {
      phase: 'Running',
      podIP: p.ip,
      conditions: [{ type: 'Ready', status: p.ready ? 'True' : 'False' }],
      containerStatuses: p.containers.map((name) => ({ name, ready: p.ready, restartCount: 0, state: { running: {} } })),
    },
  };
}

function crdObject(name: string, c: LabCluster, now: number): KubeObject {
  const lab = k8sLab(c);
  const established = lab.crdsAt !== undefined && now >= lab.crdsAt + KUBE_TIMING.crdEstablishedMs;
  const [plural, ...group] = name.split('.');
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name, creationTimestamp: isoTime(lab.crdsAt ?? now) },
    spec: { group: group.join('.'), names: { plural }, scope: 'Cluster' },
    status: {
      conditions: [
        { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' },
        established
          ? { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }
          : { type: 'Established', status: 'False', reason: 'Installing', message: 'the initial names have been accepted' },
      ],
    },
  };
}

export function crdsRegistered(c: LabCluster, now: number): boolean {
  const at = k8sLab(c).crdsAt;
  return at !== undefined && now >= at;
}
/** The CRDs the cluster's operator registers: the BGP ones only with bgpControlPlane.enabled (enable-bgp-control-plane). */
export function ciliumCrds(c: LabCluster): string[] {
  const rel = c.helm['kube-system/cilium'] as { revisions: { config: any }[] } | undefined;
  return rel?.revisions.at(-1)?.config?.bgpControlPlane?.enabled === true ? [...CILIUM_BGP_CRDS, ...CILIUM_CRDS].sort() : CILIUM_CRDS;
}

export function crdEstablished(c: LabCluster, crd: string, now: number): boolean {
  const at = k8sLab(c).crdsAt;
  return ciliumCrds(c).includes(crd) && at !== undefined && now >= at + KUBE_TIMING.crdEstablishedMs;
}

/** Every object of the cluster as the apiserver would return it now. */
export function allObjects(state: LabState, c: LabCluster, now: number): KubeObject[] {
  const nodes = runningNodes(state, c.name);
  const out: KubeObject[] = nodes.map((n, i) => nodeObject(state, c, n, now, i));
  const namespaces = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
  for (const o of Object.values(c.kube) as KubeObject[]) {
    if (o.metadata.namespace) namespaces.add(o.metadata.namespace);
    if (o.kind === 'Namespace') continue;
    if (o.kind === 'DaemonSet') out.push(workloadStatus(c, o, nodes.length, now));
    else if (o.kind === 'Deployment') out.push(workloadStatus(c, o, Number(o.spec?.replicas ?? 1), now));
    else out.push(withEditedClusterId(state, c, o));
  }
  for (const ns of namespaces) {
    const stored = getObj(c, 'v1', 'Namespace', undefined, ns);
    out.push(stored ?? { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, creationTimestamp: isoTime(c.bootstrappedAt ?? now) } });
  }
  for (const o of Object.values(c.kube) as KubeObject[]) if (o.kind === 'Namespace' && !namespaces.has(o.metadata.name)) out.push(o);
  if (crdsRegistered(c, now)) for (const name of ciliumCrds(c)) out.push(crdObject(name, c, now));
  for (const p of podsOf(state, c, now)) out.push(podObject(p, now));
  return out;
}
