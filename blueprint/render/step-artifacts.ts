// What a step hands to a tool, computed from the plan: `meshpilot plan --out` writes these and the workflows pass
// the same values at run time, so the preview is what runs. Pure and import-free: safe in workflow code.

export type Values = Record<string, unknown>;

/** The clustermesh-apiserver's etcd port: what peers dial. */
export const CLUSTERMESH_PORT = 2379;

function isPlainObject(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's own merge semantics for `-f a.yaml -f b.yaml`: maps merge deeply, later scalars and lists replace. */
export function mergeValues(...layers: Values[]): Values {
  const out: Values = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      const prev = out[k];
      out[k] = isPlainObject(prev) && isPlainObject(v) ? mergeValues(prev, v) : v;
    }
  }
  return out;
}

export interface PeerApiserver {
  name: string;
  /** the peer's clustermesh-apiserver address: pinned in the blueprint, or read at `clustermesh-address` */
  address?: string;
}

/**
 * The declarative ClusterMesh connection for one cluster: every OTHER cluster's clustermesh-apiserver, as the
 * Cilium 1.16 chart's `clustermesh.config.clusters` list. Each cluster gets its own list (O(N) helm upgrades, and
 * a later `helm upgrade` with the same values keeps the mesh instead of dropping it). A peer whose address is not
 * known yet (no pinned IP, at plan time) is listed without `ips`.
 */
export function peerValues(self: string, peers: readonly PeerApiserver[]): Values {
  const clusters = peers
    .filter((p) => p.name !== self)
    .map((p) => ({ name: p.name, port: CLUSTERMESH_PORT, ...(p.address ? { ips: [p.address] } : {}) }));
  return { clustermesh: { config: { enabled: true, clusters } } };
}

/** A cluster's Cilium values as planned (blueprint/render/cilium.ts renders both). */
export interface CiliumValues {
  /** `cilium-install`: no clustermesh-apiserver yet */
  values: Values;
  /** merged over `values` from `clustermesh-enable` on */
  clustermeshValues: Values;
}

/** The LB-IPAM address the blueprint pins for the cluster's clustermesh-apiserver, read from the values that pin it. */
export function pinnedApiserverIp(c: CiliumValues): string | undefined {
  const v = c.clustermeshValues as { clustermesh?: { apiserver?: { service?: { annotations?: Record<string, string> } } } };
  return v.clustermesh?.apiserver?.service?.annotations?.['lbipam.cilium.io/ips'];
}

/** A cluster's ClusterMesh peers as its deployed values list them: an upgrade hands them back unchanged. */
export interface DeployedPeers {
  enabled: boolean;
  clusters: ReadonlyArray<{ name: string; ips?: string[]; address?: string; port?: number }>;
}

/** The values file of each Helm step: what `helm upgrade` gets with `-f` (the mesh CA comes as a second file). */
export const helmValuesAt = {
  'cilium-install': (c: CiliumValues): Values => c.values,
  'clustermesh-enable': (c: CiliumValues): Values => mergeValues(c.values, c.clustermeshValues),
  connect: (c: CiliumValues, self: string, peers: readonly PeerApiserver[]): Values => mergeValues(c.values, c.clustermeshValues, peerValues(self, peers)),
  /**
   * `meshpilot upgrade`: the blueprint's values with the peers the cluster has now (so the mesh is wired exactly as
   * before, whichever connect method made it) and `upgradeCompatibility`, the minor Cilium was first installed at
   * (chart values.yaml: keeps the ConfigMap's defaults of that version across minor upgrades).
   */
  'cilium-upgrade': (c: CiliumValues, peers: DeployedPeers, upgradeCompatibility: string): Values =>
    mergeValues(
      c.values,
      c.clustermeshValues,
      peers.enabled || peers.clusters.length ? { clustermesh: { config: { enabled: peers.enabled, clusters: peers.clusters.map((p) => ({ ...p })) } } } : {},
      { upgradeCompatibility },
    ),
};

/** `apply-manifests`: a cluster's global Services, then its policies, as one `kubectl apply -f -` document stream. */
export function meshManifests(own: { globalServices: string; policies: string } | undefined): string {
  return [own?.globalServices ?? '', own?.policies ?? ''].filter((m) => m.trim() !== '').join('\n---\n');
}

/** The canary that proves global services work across the mesh (and that verify re-checks). */
export const CANARY_SERVICE = { namespace: 'meshpilot-canary', name: 'meshpilot-canary' } as const;

/** `global-canary`: a tiny echo Deployment and a global Service in every cluster; each must see the others' backends. */
export function canaryManifests(cluster: string): string {
  const { namespace, name } = CANARY_SERVICE;
  return `apiVersion: v1
kind: Namespace
metadata:
  name: ${namespace}
  labels:
    app.kubernetes.io/managed-by: meshpilot
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
  labels:
    app: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
        meshpilot.io/cluster: ${cluster}
    spec:
      containers:
        - name: echo
          image: registry.k8s.io/e2e-test-images/agnhost:2.52
          args: ["netexec", "--http-port=8080"]
          ports:
            - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
  annotations:
    service.cilium.io/global: "true"
    service.cilium.io/shared: "true"
spec:
  type: ClusterIP
  selector:
    app: ${name}
  ports:
    - port: 8080
      targetPort: 8080
`;
}
