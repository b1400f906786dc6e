import type { LabCluster } from '../state.ts';
import { KUBE_TIMING } from './timing.ts';
import { allocateClusterIp, deleteObj, getObj, k8sLab, keyOf, putObj, type KubeObject } from './store.ts';
import { getPath, type Values } from './values.ts';
import { decodeValuePem, issueCert, type CertPair } from './certs.ts';

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

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const fromB64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');
const on = (v: unknown, dflt: boolean) => (v === undefined || v === null ? dflt : v === true);

/**
 * templates/_helpers.tpl "cilium.ca.setup": the CA from tls.ca.cert/key (buildCustomCert), else the cluster's
 * existing cilium-ca Secret (the chart's `lookup`; none in `helm template`), else a new one (genCA "Cilium CA").
 */
function commonCa(values: Values, lookup: (name: string) => KubeObject | undefined): CertPair {
  const cert = decodeValuePem(getPath(values, 'tls.ca.cert'));
  const key = decodeValuePem(getPath(values, 'tls.ca.key'));
  if (cert && key) return { cert, key };
  const existing = lookup('cilium-ca');
  if (existing?.data?.['ca.crt'] && existing.data['ca.key']) return { cert: fromB64(existing.data['ca.crt']), key: fromB64(existing.data['ca.key']) };
  return issueCert({ cn: 'Cilium CA', days: Number(getPath(values, 'tls.ca.certValidityDuration') ?? 1095) });
}

/**
 * The TLS objects of the chart the lab models: the cilium-ca Secret (templates/cilium-ca-secret.yaml), the
 * clustermesh-apiserver certificates (templates/clustermesh-apiserver/tls-helm/, issued afresh on every render as
 * genSignedCert is), and the CA trust bundle (templates/cilium-ca-bundle-configmap.yaml).
 * Hubble's certificates are not modelled.
 */
function tlsObjects(values: Values, ns: string, lookup: (name: string) => KubeObject | undefined): KubeObject[] {
  // method helm renders them; cronJob (what `cilium clustermesh enable` sets) has the certgen Job, a post-install and
  // post-upgrade hook, write the same Secrets; certmanager has cert-manager issue them. The lab issues them at render.
  const auto = on(getPath(values, 'clustermesh.apiserver.tls.auto.enabled'), true);
  const useApiserver = getPath(values, 'clustermesh.useAPIServer') === true;
  const external = getPath(values, 'externalWorkloads.enabled') === true;
  const apiserverCerts = (useApiserver || external) && auto;
  const hubbleCerts =
    (on(getPath(values, 'agent'), true) || getPath(values, 'hubble.relay.enabled') === true || getPath(values, 'hubble.ui.enabled') === true) &&
    on(getPath(values, 'hubble.enabled'), true) &&
    on(getPath(values, 'hubble.tls.enabled'), true) &&
    on(getPath(values, 'hubble.tls.auto.enabled'), true) &&
    String(getPath(values, 'hubble.tls.auto.method') ?? 'helm') === 'helm';
  const customCa = Boolean(getPath(values, 'tls.ca.cert') && getPath(values, 'tls.ca.key'));
  const objs: KubeObject[] = [];
  const annotations = getPath(values, 'clustermesh.annotations') as Record<string, string> | undefined;
  if (apiserverCerts || hubbleCerts || customCa) {
    const ca = commonCa(values, lookup);
    objs.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cilium-ca', namespace: ns }, data: { 'ca.crt': b64(ca.cert), 'ca.key': b64(ca.key) } });
    const days = Number(getPath(values, 'clustermesh.apiserver.tls.auto.certValidityDuration') ?? 1095);
    const clusterName = String(getPath(values, 'cluster.name') ?? 'default');
    const leaf = (name: string, cn: string, sans: { ips?: string[]; dns?: string[] } = {}): KubeObject => {
      const c = issueCert({ cn, days, ca, ...sans });
      return {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
        type: 'kubernetes.io/tls',
        data: { 'ca.crt': b64(ca.cert), 'tls.crt': b64(c.cert), 'tls.key': b64(c.key) },
      };
    };
    if (apiserverCerts) {
      objs.push(leaf('clustermesh-apiserver-admin-cert', `admin-${clusterName}`));
      if (external) objs.push(leaf('clustermesh-apiserver-client-cert', 'externalworkload'));
      if (useApiserver && on(getPath(values, 'clustermesh.apiserver.kvstoremesh.enabled'), true)) objs.push(leaf('clustermesh-apiserver-local-cert', `local-${clusterName}`));
      if (useApiserver) {
        const remoteCn = getPath(values, 'clustermesh.apiserver.tls.authMode') === 'cluster' ? `remote-${clusterName}` : 'remote';
        objs.push(leaf('clustermesh-apiserver-remote-cert', remoteCn));
      }
      const cn = 'clustermesh-apiserver.cilium.io';
      objs.push(
        leaf('clustermesh-apiserver-server-cert', cn, {
          ips: ['127.0.0.1', '::1', ...((getPath(values, 'clustermesh.apiserver.tls.server.extraIpAddresses') as string[] | undefined) ?? [])],
          dns: [cn, '*.mesh.cilium.io', `clustermesh-apiserver.${ns}.svc`, ...((getPath(values, 'clustermesh.apiserver.tls.server.extraDnsNames') as string[] | undefined) ?? [])],
        }),
      );
    }
  }
  const content = getPath(values, 'tls.caBundle.content');
  if (getPath(values, 'tls.caBundle.enabled') === true && typeof content === 'string' && content) {
    const useSecret = getPath(values, 'tls.caBundle.useSecret') === true;
    const name = String(getPath(values, 'tls.caBundle.name') ?? 'cilium-root-ca.crt');
    const key = String(getPath(values, 'tls.caBundle.key') ?? 'ca.crt');
    objs.push({ apiVersion: 'v1', kind: useSecret ? 'Secret' : 'ConfigMap', metadata: { name, namespace: ns }, ...(useSecret ? { stringData: { [key]: content } } : { data: { [key]: content } }) });
  }
  return objs;
}

export function renderCiliumChart(values: Values, chartVersion: string, release: string, ns: string, lookupSecret: (name: string) => KubeObject | undefined = () => undefined): KubeObject[] {
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
  objs.push(...tlsObjects(values, ns, lookupSecret));
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
