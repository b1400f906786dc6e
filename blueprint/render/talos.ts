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

/**
 * kube-controller-manager carves each node's pod range out of the pod subnet (Cilium's kubernetes IPAM uses it).
 * Only a non-default mask is passed, and only for a family the cluster has: the -ipv4/-ipv6 flag of a family
 * that is not there is refused by kube-controller-manager.
 */
function nodeCidrMaskArgs(cluster: ClusterSpec): { controllerManager?: { extraArgs: Record<string, string> } } {
  const families = new Set(cluster.network.podSubnets.map((s) => (s.includes(':') ? 6 : 4)));
  const args: Record<string, string> = {};
  const { ipv4, ipv6 } = cluster.network.nodeCidrMaskSize;
  if (families.has(4) && ipv4 !== 24) args['node-cidr-mask-size-ipv4'] = String(ipv4);
  if (families.has(6) && ipv6 !== 64) args['node-cidr-mask-size-ipv6'] = String(ipv6);
  return Object.keys(args).length ? { controllerManager: { extraArgs: args } } : {};
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
      ...nodeCidrMaskArgs(cluster),
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
