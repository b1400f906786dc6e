// Cilium Helm values: the seed's install flags, the Talos requirements (Talos docs "Deploying Cilium"),
// LB-IPAM/L2 prerequisites and the ClusterMesh wiring, split by the step that applies them.
import type { Blueprint, ClusterSpec } from '../schema.ts';
import { KUBEPRISM_PORT } from './talos.ts';

/** Base values for `cilium-install`: no clustermesh-apiserver yet (its LoadBalancer would wait for LB-IPAM). */
export function ciliumBaseValues(bp: Blueprint, cluster: ClusterSpec): Record<string, unknown> {
  const ipv6 = cluster.network.podSubnets.some((s) => s.includes(':'));
  const ipv4 = cluster.network.podSubnets.some((s) => !s.includes(':'));
  return {
    cluster: { name: cluster.name, id: cluster.id },
    ipam: { mode: 'kubernetes' },
    ipv4: { enabled: ipv4 },
    ipv6: { enabled: ipv6 },
    // Talos runs without kube-proxy (cluster.proxy.disabled) and reaches the API through KubePrism.
    kubeProxyReplacement: true,
    k8sServiceHost: 'localhost',
    k8sServicePort: KUBEPRISM_PORT,
    securityContext: {
      capabilities: {
        // the chart's default minus SYS_MODULE: Talos does not let pods load kernel modules
        ciliumAgent: [
          'CHOWN', 'KILL', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'SYS_ADMIN', 'SYS_RESOURCE',
          'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID',
        ],
        cleanCiliumState: ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE'],
      },
    },
    // Talos already mounts cgroup2 at /sys/fs/cgroup.
    cgroup: { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' },
    encryption: bp.mesh.encryption === 'wireguard' ? { enabled: true, type: 'wireguard' } : { enabled: false },
    // Flows across clusters are what a person needs when a cross-cluster policy drops traffic (`hubble observe`).
    hubble: bp.mesh.hubble.relay ? { enabled: true, relay: { enabled: true } } : { relay: { enabled: false } },
    ...(cluster.loadBalancer.mode === 'l2'
      ? { l2announcements: { enabled: true } }
      : { bgpControlPlane: { enabled: true } }),
    // Immutable once set, and must match on every cluster: fixed from the first install.
    clustermesh: { useAPIServer: false, maxConnectedClusters: bp.mesh.maxConnectedClusters },
  };
}

/** Merged over the base values at `clustermesh-enable`: the apiserver behind a (pinned) LB-IPAM address. */
export function clustermeshValues(bp: Blueprint, cluster: ClusterSpec): Record<string, unknown> {
  const pinned = cluster.clustermesh.apiserverIP;
  return {
    clustermesh: {
      useAPIServer: true,
      apiserver: {
        kvstoremesh: { enabled: bp.mesh.kvstoremesh },
        service: {
          type: 'LoadBalancer',
          ...(pinned ? { annotations: { 'lbipam.cilium.io/ips': pinned } } : {}),
        },
        tls: {
          auto: { enabled: true, method: 'helm' },
          ...(pinned ? { server: { extraIpAddresses: [pinned] } } : {}),
        },
      },
    },
  };
}
