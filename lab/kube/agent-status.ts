import type { LabCluster, LabNode, LabState } from '../state.ts';
import { getPath } from './values.ts';
import { ciliumClusterName, ciliumValues, meshLinks, numGlobalServices } from './mesh.ts';
import { agentsReady, podCidrOf, runningNodes } from './view.ts';
import { nodeEncryptionOverride } from '../drift.ts';

/**
 * The agent's `cilium-dbg status -o json` (cilium v1.16 api/v1/models/status_response.go and the models it
 * embeds: remote_cluster.go, kube_proxy_replacement.go, encryption_status.go). Only fields the lab models are set.
 */
export function agentStatus(state: LabState, c: LabCluster, node: LabNode, now: number): Record<string, unknown> {
  const v = ciliumValues(c) ?? {};
  const ok = agentsReady(c, now);
  const links = meshLinks(state, c, now);
  const wg = getPath(v, 'encryption.enabled') === true && getPath(v, 'encryption.type') === 'wireguard';
  const nodes = runningNodes(state, c.name);
  return {
    cilium: { state: ok ? 'Ok' : 'Failure', msg: ok ? '' : 'Cilium agent is starting' },
    'cluster-mesh': {
      clusters: links.map((l) => ({
        name: l.name,
        connected: l.connected,
        ready: l.connected,
        status: l.status,
        'num-nodes': l.connected ? 1 : 0,
        'num-failures': l.connected ? 0 : 1,
        config: { 'cluster-id': 0, kvstoremesh: getPath(v, 'clustermesh.apiserver.kvstoremesh.enabled') !== false, required: true, retrieved: l.connected },
        synced: { nodes: l.connected, endpoints: l.connected, identities: l.connected, services: l.connected },
      })),
      'num-global-services': numGlobalServices(c),
    },
    cluster: {
      'ciliumHealth': { state: ok ? 'Ok' : 'Warning', msg: '' },
      nodes: nodes.map((n) => ({ name: `${ciliumClusterName(c)}/${n.name}`, 'primary-address': { ipv4: { ip: n.address, enabled: true } } })),
    },
    'container-runtime': { state: 'Ok', msg: 'containerd' },
    // drift: WireGuard switched off on this node (lab/drift.ts)
    encryption: nodeEncryptionOverride(state, node.name) ?? (wg ? { mode: 'Wireguard', wireguard: { interfaces: [{ name: 'cilium_wg0', 'peer-count': nodes.length - 1 }] } } : { mode: 'Disabled' }),
    ipam: { 'ipv4': [], 'allocations': {}, 'status': podCidrOf(c) },
    'kube-proxy-replacement': { mode: getPath(v, 'kubeProxyReplacement') === true || getPath(v, 'kubeProxyReplacement') === 'true' ? 'True' : 'False' },
    kubernetes: { state: 'Ok', msg: '1.31 (v1.31.4) [linux/amd64]', 'k8s-api-versions': ['cilium/v2', 'cilium/v2alpha1', 'core/v1::Node', 'core/v1::Service'] },
    kvstore: { state: 'Disabled', msg: '' },
    stale: {},
    nodeName: node.name,
  };
}
