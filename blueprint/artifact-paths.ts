// Where `meshpilot plan --out DIR` puts each artifact (relative, forward slashes): one file per thing a step hands
// to a tool. The plan's step details name them, so a reviewer can match a file to the step that applies it.

export const ARTIFACT = {
  plan: 'plan.json',
  /** talos-config: `talosctl gen config --config-patch @…` (and -control-plane / -worker) */
  patchAll: (cluster: string) => `${cluster}/talos/patch-all.yaml`,
  patchControlplane: (cluster: string) => `${cluster}/talos/patch-controlplane.yaml`,
  patchWorker: (cluster: string) => `${cluster}/talos/patch-worker.yaml`,
  /** cilium-install: `helm upgrade --install -f` */
  values: (cluster: string) => `${cluster}/cilium/values.yaml`,
  /** clustermesh-enable: the values plus the clustermesh-apiserver */
  clustermeshValues: (cluster: string) => `${cluster}/cilium/values-clustermesh.yaml`,
  /** connect (mesh.method helm): plus clustermesh.config.clusters, the other clusters */
  connectValues: (cluster: string) => `${cluster}/cilium/values-connect.yaml`,
  /** lb-ipam: `kubectl apply -f -` */
  lbIpam: (cluster: string) => `${cluster}/lb-ipam.yaml`,
  /** global-canary: `kubectl apply -f -` */
  globalCanary: (cluster: string) => `${cluster}/global-canary.yaml`,
  /** apply-manifests: the cluster's global Services, then its policies (`kubectl apply -f -`) */
  meshManifests: (cluster: string) => `${cluster}/mesh-manifests.yaml`,
} as const;
