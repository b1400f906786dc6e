// LB-IPAM and announcement manifests (cilium.io/v2alpha1 in Cilium 1.16), applied before clustermesh-enable so
// the apiserver's LoadBalancer Service gets an address instead of sitting in <pending>.
import type { ClusterSpec } from '../schema.ts';
import { multiDoc } from './yaml.ts';

export function lbIpamManifests(cluster: ClusterSpec): string {
  const lb = cluster.loadBalancer;
  const name = `${cluster.name}-pool`;
  const pool = {
    apiVersion: 'cilium.io/v2alpha1',
    kind: 'CiliumLoadBalancerIPPool',
    metadata: { name },
    spec: {
      blocks: lb.pool.map((b) => (b.cidr !== undefined ? { cidr: b.cidr } : { start: b.start, ...(b.stop ? { stop: b.stop } : {}) })),
    },
  };
  if (lb.mode === 'l2') {
    const policy = {
      apiVersion: 'cilium.io/v2alpha1',
      kind: 'CiliumL2AnnouncementPolicy',
      metadata: { name: `${cluster.name}-l2` },
      spec: {
        ...(lb.interfaces.length ? { interfaces: lb.interfaces } : {}),
        // both default to false: a policy that sets neither announces nothing
        loadBalancerIPs: true,
        externalIPs: false,
      },
    };
    return multiDoc([pool, policy]);
  }
  const bgp = lb.bgp;
  const docs: unknown[] = [pool];
  if (bgp) {
    docs.push(
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumBGPClusterConfig',
        metadata: { name: `${cluster.name}-bgp` },
        spec: {
          bgpInstances: [
            {
              name: `${cluster.name}-${bgp.localASN}`,
              localASN: bgp.localASN,
              peers: bgp.peers.map((p) => ({
                name: p.name,
                peerASN: p.asn,
                peerAddress: p.address,
                peerConfigRef: { name: `${cluster.name}-peer` },
              })),
            },
          ],
        },
      },
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumBGPPeerConfig',
        metadata: { name: `${cluster.name}-peer` },
        spec: { families: [{ afi: 'ipv4', safi: 'unicast', advertisements: { matchLabels: { advertise: `${cluster.name}-lb` } } }] },
      },
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumBGPAdvertisement',
        metadata: { name: `${cluster.name}-lb`, labels: { advertise: `${cluster.name}-lb` } },
        spec: {
          advertisements: [
            { advertisementType: 'Service', service: { addresses: ['LoadBalancerIP'] }, selector: { matchExpressions: [{ key: 'somekey', operator: 'NotIn', values: ['never-used-value'] }] } },
          ],
        },
      },
    );
  }
  return multiDoc(docs);
}
