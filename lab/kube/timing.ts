/**
 * How long simulated Kubernetes-side transitions take. Reality takes minutes; the lab takes fractions of a
 * second so a 2-cluster rollout finishes in about a minute. Every "is it ready yet" is derived from a
 * timestamp on read (no background process), so these are the only clocks.
 */
export const KUBE_TIMING = {
  /** kube-apiserver answers this long after `talosctl bootstrap` */
  apiServerUpMs: 300,
  /** cilium-operator registers the Cilium CRDs this long after the chart is installed */
  crdsRegisteredMs: 400,
  /** ...and they turn Established this much later */
  crdEstablishedMs: 200,
  /** cilium agents (DaemonSet) and operator become Ready after install */
  ciliumReadyMs: 900,
  /** a values change that touches the agents (clustermesh config, hostAliases) rolls the DaemonSet */
  agentRolloutMs: 500,
  /** clustermesh-apiserver Deployment becomes Ready */
  clustermeshApiserverReadyMs: 600,
  /** workload pods (kubectl apply'd Deployments) become Ready */
  podReadyMs: 300,
  /** helm --wait / kubectl wait / cilium --wait poll period in the lab */
  pollMs: 100,
} as const;
