import type { LabCluster } from '../state.ts';
import { KUBE_TIMING } from './timing.ts';
import { allocateClusterIp, deleteObj, getObj, k8sLab, keyOf, putObj, type KubeObject } from './store.ts';
import { getPath, type Values } from './values.ts';

/** What the cilium chart (chart 1.16.19 templates/) renders that the lab models, for the given user values. */
export const CHART_APP_VERSION = (chartVersion: string) => chartVersion;

function helmMeta(release: string, ns: string) {
  return {
    labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/part-of': 'cilium' },
    annotations: { 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': ns },
  };
}

/**
 * templates/_helpers.tpl "envoyDaemonSetEnabled": off without the L7 proxy, else envoy.enabled, which defaults to
 * on from 1.16 (upgradeCompatibility permitting).
 */
function envoyDaemonSet(values: Values): boolean {
  if (getPath(values, 'l7Proxy') === false) return false;
  const explicit = getPath(values, 'envoy.enabled');
  if (explicit !== undefined && explicit !== null) return explicit === true;
  const compat = getPath(values, 'upgradeCompatibility');
  return compat === undefined || compat === null || !/^1\.(?:[0-9]|1[0-5])(?:\.|$)/.test(String(compat));
}

export function renderCiliumChart(values: Values, chartVersion: string, release: string, ns: string): KubeObject[] {
  const meta = helmMeta(release, ns);
  const image = `quay.io/cilium/cilium:v${chartVersion}`;
  const objs: KubeObject[] = [
    {
      // templates/cilium-configmap.yaml
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cilium-config', namespace: ns, ...meta },
      data: {
        'cluster-name': String(getPath(values, 'cluster.name') ?? 'default'),
        'cluster-id': String(getPath(values, 'cluster.id') ?? 0),
        'kube-proxy-replacement': String(getPath(values, 'kubeProxyReplacement') ?? 'false'),
        'enable-l2-announcements': String(getPath(values, 'l2announcements.enabled') ?? false),
        'ipam': String(getPath(values, 'ipam.mode') ?? 'cluster-pool'),
        'enable-wireguard': String(getPath(values, 'encryption.type') === 'wireguard' && getPath(values, 'encryption.enabled') === true),
        'max-connected-clusters': String(getPath(values, 'clustermesh.maxConnectedClusters') ?? 255),
      },
    },
    {
      // templates/cilium-agent/daemonset.yaml
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cilium', namespace: ns, ...meta, labels: { ...meta.labels, 'k8s-app': 'cilium' } },
      spec: {
        selector: { matchLabels: { 'k8s-app': 'cilium' } },
        template: {
          metadata: { labels: { 'k8s-app': 'cilium' } },
          spec: {
            containers: [{ name: 'cilium-agent', image }],
            hostAliases: ((getPath(values, 'clustermesh.config.clusters') as { name: string; ips?: string[] }[] | undefined) ?? []).map((c) => ({
              ip: c.ips?.[0],
              hostnames: [`${c.name}.${getPath(values, 'clustermesh.config.domain') ?? 'mesh.cilium.io'}`],
            })),
          },
        },
      },
    },
    ...(envoyDaemonSet(values)
      ? [
          {
            // templates/cilium-envoy/daemonset.yaml
            apiVersion: 'apps/v1',
            kind: 'DaemonSet',
            metadata: { name: 'cilium-envoy', namespace: ns, ...meta, labels: { ...meta.labels, 'k8s-app': 'cilium-envoy', name: 'cilium-envoy' } },
            spec: {
              selector: { matchLabels: { 'k8s-app': 'cilium-envoy' } },
              template: {
                metadata: { labels: { 'k8s-app': 'cilium-envoy', name: 'cilium-envoy' } },
                spec: { containers: [{ name: 'cilium-envoy', image: 'quay.io/cilium/cilium-envoy' }] },
              },
            },
          },
        ]
      : []),
    {
      // templates/cilium-operator/deployment.yaml
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cilium-operator', namespace: ns, ...meta, labels: { ...meta.labels, 'io.cilium/app': 'operator' } },
      spec: {
        replicas: Number(getPath(values, 'operator.replicas') ?? 2),
        selector: { matchLabels: { 'io.cilium/app': 'operator' } },
        template: { spec: { containers: [{ name: 'cilium-operator', image: `quay.io/cilium/operator-generic:v${chartVersion}` }] } },
      },
    },
  ];
  // templates/hubble-relay/deployment.yaml: `if and .Values.hubble.enabled .Values.hubble.relay.enabled` (hubble.enabled defaults to true)
  if (getPath(values, 'hubble.enabled') !== false && getPath(values, 'hubble.relay.enabled') === true) {
    objs.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hubble-relay', namespace: ns, ...meta, labels: { ...meta.labels, 'k8s-app': 'hubble-relay' } },
      spec: {
        replicas: Number(getPath(values, 'hubble.relay.replicas') ?? 1),
        selector: { matchLabels: { 'k8s-app': 'hubble-relay' } },
        template: { metadata: { labels: { 'k8s-app': 'hubble-relay' } }, spec: { containers: [{ name: 'hubble-relay', image: `quay.io/cilium/hubble-relay:v${chartVersion}` }] } },
      },
    });
  }
  if (getPath(values, 'clustermesh.useAPIServer') === true) {
    const type = String(getPath(values, 'clustermesh.apiserver.service.type') ?? 'NodePort');
    const annotations = (getPath(values, 'clustermesh.apiserver.service.annotations') as Record<string, string> | undefined) ?? {};
    const lbClass = getPath(values, 'clustermesh.apiserver.service.loadBalancerClass') as string | undefined;
    objs.push(
      {
        // templates/clustermesh-apiserver/deployment.yaml
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'clustermesh-apiserver', namespace: ns, ...meta, labels: { ...meta.labels, 'k8s-app': 'clustermesh-apiserver' } },
        spec: {
          replicas: Number(getPath(values, 'clustermesh.apiserver.replicas') ?? 1),
          selector: { matchLabels: { 'k8s-app': 'clustermesh-apiserver' } },
          template: {
            spec: {
              containers: [
                { name: 'etcd', image: `quay.io/cilium/clustermesh-apiserver:v${chartVersion}` },
                { name: 'apiserver', image: `quay.io/cilium/clustermesh-apiserver:v${chartVersion}` },
                ...(getPath(values, 'clustermesh.apiserver.kvstoremesh.enabled') === false
                  ? []
                  : [{ name: 'kvstoremesh', image: `quay.io/cilium/clustermesh-apiserver:v${chartVersion}` }]),
              ],
            },
          },
        },
      },
      {
        // templates/clustermesh-apiserver/service.yaml
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'clustermesh-apiserver',
          namespace: ns,
          labels: { ...meta.labels, 'k8s-app': 'clustermesh-apiserver' },
          annotations: { ...meta.annotations, ...annotations },
        },
        spec: {
          type,
          selector: { 'k8s-app': 'clustermesh-apiserver' },
          ports: [{ port: 2379, protocol: 'TCP', targetPort: 2379, ...(type === 'NodePort' ? { nodePort: 32379 } : {}) }],
          ...(lbClass ? { loadBalancerClass: lbClass } : {}),
        },
      },
    );
  }
  return objs;
}

/**
 * Applies a rendered release to the cluster: creates/updates its objects, deletes those it no longer renders,
 * and rolls the agents when their pod template changed (a clustermesh.config change rewrites hostAliases).
 */
export function applyRelease(cluster: LabCluster, previous: string[], objs: KubeObject[], now: number): string[] {
  const lab = k8sLab(cluster);
  const keys = objs.map(keyOf);
  for (const key of previous) if (!keys.includes(key)) deleteObj(cluster, key);
  for (const o of objs) {
    const key = keyOf(o);
    const prev = getObj(cluster, o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name);
    const templateChanged = !prev || JSON.stringify(prev.spec?.template) !== JSON.stringify(o.spec?.template);
    if (o.kind === 'Service') o.spec = { ...o.spec, clusterIP: prev?.spec?.clusterIP ?? allocateClusterIp(cluster) };
    putObj(cluster, o, now);
    if (o.kind === 'DaemonSet' && templateChanged) {
      lab.readyAt[key] = Math.max(lab.readyAt[key] ?? 0, now + (prev ? KUBE_TIMING.agentRolloutMs : KUBE_TIMING.ciliumReadyMs));
    }
    if (o.kind === 'Deployment' && !prev) {
      lab.readyAt[key] = now + (o.metadata.name === 'clustermesh-apiserver' ? KUBE_TIMING.clustermeshApiserverReadyMs : KUBE_TIMING.ciliumReadyMs);
      if (o.metadata.name === 'cilium-operator') lab.crdsAt ??= now + KUBE_TIMING.crdsRegisteredMs;
    }
  }
  return keys;
}
