import type { LabCluster, LabNode, LabState } from '../state.ts';
import { getPath } from './values.ts';
import { ciliumClusterName, ciliumValues, meshLinks, numGlobalServices } from './mesh.ts';
import { agentsReady, podCidrOf, runningNodes } from './view.ts';
import { nodeEncryptionOverride } from '../drift.ts';

/**
 * The agent's `cilium-dbg status -o json`: the StatusResponse model of cilium v1.16 (api/v1/models/
 * status_response.go and the models it embeds: status.go, cluster_status.go, cluster_mesh_status.go,
 * remote_cluster{,_config,_synced}.go, k8s_status.go, kube_proxy_replacement.go, encryption_status.go,
 * wireguard_{status,interface}.go). Only fields the lab models are set, with go-swagger's `omitempty` (a false,
 * 0 or "" field is left out; fields without omitempty, such as `clusters` or `k8s-api-versions`, stay).
 */
const omitEmpty = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== false && v !== 0 && v !== '' && v !== undefined));

export function agentStatus(state: LabState, c: LabCluster, node: LabNode, now: number): Record<string, unknown> {
  const v = ciliumValues(c) ?? {};
  const ok = agentsReady(c, now);
  const links = meshLinks(state, c, now);
  const wg = getPath(v, 'encryption.enabled') === true && getPath(v, 'encryption.type') === 'wireguard';
  const nodes = runningNodes(state, c.name);
  const kvstoremesh = getPath(v, 'clustermesh.apiserver.kvstoremesh.enabled') !== false;
  const kpr = getPath(v, 'kubeProxyReplacement') === true || getPath(v, 'kubeProxyReplacement') === 'true';
  return {
    cilium: omitEmpty({ state: ok ? 'Ok' : 'Failure', msg: ok ? '' : 'Cilium agent is starting' }),
    cluster: {
      ciliumHealth: omitEmpty({ state: ok ? 'Ok' : 'Warning', msg: ok ? '' : 'cilium-health daemon is not ready' }),
      nodes: nodes.map((n) => ({ name: `${ciliumClusterName(c)}/${n.name}`, 'primary-address': { ipv4: { enabled: true, ip: n.address } }, 'secondary-addresses': null })),
      self: `${ciliumClusterName(c)}/${node.name}`,
    },
    'cluster-mesh': omitEmpty({
      clusters: links.map((l) =>
        omitEmpty({
          config: omitEmpty({ kvstoremesh, required: true, retrieved: l.connected }),
          connected: l.connected,
          name: l.name,
          'num-failures': l.connected ? 0 : 1,
          'num-nodes': l.connected ? 1 : 0,
          ready: l.connected,
          status: l.status,
          synced: omitEmpty({ endpoints: l.connected, identities: l.connected, nodes: l.connected, services: l.connected }),
        }),
      ),
      'num-global-services': numGlobalServices(c),
    }),
    'container-runtime': { state: 'Ok', msg: 'containerd' },
    // drift: WireGuard switched off on this node (lab/drift.ts)
    encryption:
      nodeEncryptionOverride(state, node.name) ??
      (wg ? { mode: 'Wireguard', wireguard: { interfaces: [{ name: 'cilium_wg0', 'peer-count': nodes.length - 1, peers: null }] } } : { mode: 'Disabled' }),
    ipam: { ipv4: [], allocations: {}, status: podCidrOf(c) },
    'kube-proxy-replacement': { mode: kpr ? 'True' : 'False', devices: null, deviceList: null },
    kubernetes: { state: 'Ok', msg: '1.32 (v1.32.3) [linux/amd64]', 'k8s-api-versions': ['cilium/v2', 'cilium/v2alpha1', 'core/v1::Node', 'core/v1::Service'] },
    kvstore: { state: 'Disabled', msg: 'Disabled' },
    stale: {},
  };
}
