// Pure Helm-values helpers, safe in workflow code.

type Values = Record<string, unknown>;

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

/**
 * The declarative ClusterMesh connection for one cluster: every OTHER cluster's clustermesh-apiserver, as the
 * Cilium 1.16 chart's `clustermesh.config.clusters` list. Each cluster gets its own list (O(N) helm upgrades,
 * and a later `helm upgrade` with the same values keeps the mesh instead of dropping it).
 */
export function peerValues(self: string, apiservers: Array<{ name: string; address: string }>): Values {
  return {
    clustermesh: {
      useAPIServer: true,
      config: {
        enabled: true,
        clusters: apiservers
          .filter((a) => a.name !== self)
          .map((a) => ({ name: a.name, port: 2379, ips: [a.address] })),
      },
    },
  };
}
