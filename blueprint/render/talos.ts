// Talos machine-config patches (strategic merge) for `talosctl gen config --config-patch*`.
import type { ClusterSpec } from '../schema.ts';
import { EXCLUDE_LB_LABEL } from '../announcers.ts';
import { toYaml } from './yaml.ts';

/** Talos' KubePrism: a local API load balancer on every node; Cilium reaches the API through it. */
export const KUBEPRISM_PORT = 7445;

export interface TalosPatches {
  all: string;
  controlplane: string;
  worker: string;
}

export function talosPatches(
  cluster: ClusterSpec,
  opts: { liftControlPlaneExclusion: boolean },
): TalosPatches {
  const all = {
    machine: {
      features: { kubePrism: { enabled: true, port: KUBEPRISM_PORT } },
      ...(cluster.installImage ? { install: { image: cluster.installImage } } : {}),
    },
    cluster: {
      // Cilium is the CNI and replaces kube-proxy; Talos must deploy neither flannel nor kube-proxy.
      network: {
        cni: { name: 'none' },
        podSubnets: cluster.network.podSubnets,
        serviceSubnets: cluster.network.serviceSubnets,
      },
      proxy: { disabled: true },
    },
  };
  const topology = { 'topology.kubernetes.io/region': cluster.region, 'topology.kubernetes.io/zone': cluster.site };
  const controlplane = {
    machine: {
      nodeLabels: {
        ...topology,
        // Only a control-plane-only L2 cluster needs its control planes to announce LB addresses.
        ...(opts.liftControlPlaneExclusion ? { [EXCLUDE_LB_LABEL]: { $patch: 'delete' } } : {}),
      },
    },
    cluster: {
      // Talos sets no plain-HTTP metrics listener; the etcd latency gate reads peer RTT from it.
      etcd: { extraArgs: { 'listen-metrics-urls': `http://0.0.0.0:${cluster.etcd.metricsPort}` } },
    },
  };
  const worker = { machine: { nodeLabels: topology } };
  return { all: toYaml(all), controlplane: toYaml(controlplane), worker: toYaml(worker) };
}
