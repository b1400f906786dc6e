// Workflow-safe: the step names, in order, with their titles and whether an operator may skip them.
import type { StepDefinition } from '../workflows/step-runner.ts';

export const CLUSTER_STEPS: StepDefinition[] = [
  { name: 'preflight', title: 'Tools at the pinned versions', skippable: false },
  { name: 'boot', title: 'Boot nodes into the Talos installer (maintenance mode)', skippable: true },
  { name: 'talos-config', title: 'Talos secrets (once, ever) and machine configs', skippable: false },
  { name: 'apply-config', title: 'Apply machine config to each node in maintenance', skippable: false },
  { name: 'bootstrap', title: 'Bootstrap etcd (exactly once)', skippable: false },
  { name: 'kubeconfig', title: 'Fetch the admin kubeconfig', skippable: false },
  { name: 'etcd-latency', title: 'etcd peer round-trip within budget', skippable: false },
  { name: 'cilium-install', title: 'Install Cilium with Helm (no clustermesh LoadBalancer yet)', skippable: false },
  { name: 'cilium-ready', title: 'Cilium agents and operator ready', skippable: false },
  { name: 'lb-ipam', title: 'LB-IPAM pool + L2 announcements serve a canary LoadBalancer', skippable: false },
  { name: 'clustermesh-enable', title: 'Enable the clustermesh-apiserver (LoadBalancer)', skippable: false },
  { name: 'clustermesh-address', title: 'clustermesh-apiserver has an address', skippable: false },
];

export const MESH_STEPS: StepDefinition[] = [
  { name: 'mesh-ca', title: 'Shared ClusterMesh CA (once, ever)', skippable: false },
  { name: 'connect', title: 'Connect every cluster pair', skippable: false },
  { name: 'mesh-verify', title: 'cilium clustermesh status: all peers connected', skippable: false },
  { name: 'global-canary', title: 'A canary global service sees remote backends', skippable: true },
  { name: 'apply-manifests', title: "Apply the blueprint's global services and policies", skippable: true },
];
