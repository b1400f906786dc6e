/**
 * The API resources the lab serves: what kubectl's discovery would return (kind, group/version, plural,
 * short names, scope). CRD-backed ones exist only once their CRD is Established.
 */
export interface ResourceType {
  kind: string;
  group: string;
  version: string;
  plural: string;
  shortNames: string[];
  namespaced: boolean;
  crd?: string;
}

export const RESOURCES: ResourceType[] = [
  { kind: 'Node', group: '', version: 'v1', plural: 'nodes', shortNames: ['no'], namespaced: false },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', shortNames: ['ns'], namespaced: false },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', shortNames: ['svc'], namespaced: true },
  { kind: 'Pod', group: '', version: 'v1', plural: 'pods', shortNames: ['po'], namespaced: true },
  { kind: 'ConfigMap', group: '', version: 'v1', plural: 'configmaps', shortNames: ['cm'], namespaced: true },
  { kind: 'Secret', group: '', version: 'v1', plural: 'secrets', shortNames: [], namespaced: true },
  { kind: 'DaemonSet', group: 'apps', version: 'v1', plural: 'daemonsets', shortNames: ['ds'], namespaced: true },
  { kind: 'Deployment', group: 'apps', version: 'v1', plural: 'deployments', shortNames: ['deploy'], namespaced: true },
  { kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', plural: 'leases', shortNames: [], namespaced: true },
  {
    kind: 'CustomResourceDefinition',
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    shortNames: ['crd', 'crds'],
    namespaced: false,
  },
  // cilium v1.16 pkg/k8s/apis/cilium.io/v2alpha1/lbipam_types.go, l2announcement_types.go (short names from the kubebuilder markers)
  {
    kind: 'CiliumLoadBalancerIPPool',
    group: 'cilium.io',
    version: 'v2alpha1',
    plural: 'ciliumloadbalancerippools',
    shortNames: ['ippools', 'ippool', 'lbippool', 'lbippools'],
    namespaced: false,
    crd: 'ciliumloadbalancerippools.cilium.io',
  },
  {
    kind: 'CiliumL2AnnouncementPolicy',
    group: 'cilium.io',
    version: 'v2alpha1',
    plural: 'ciliuml2announcementpolicies',
    shortNames: ['l2announcement'],
    namespaced: false,
    crd: 'ciliuml2announcementpolicies.cilium.io',
  },
  // BGP control plane v2 (and the v1 peering policy): served only when the operator runs with bgpControlPlane.enabled
  ...(
    [
      ['CiliumBGPClusterConfig', 'ciliumbgpclusterconfigs', 'cbgpcluster'],
      ['CiliumBGPPeerConfig', 'ciliumbgppeerconfigs', 'cbgppeer'],
      ['CiliumBGPAdvertisement', 'ciliumbgpadvertisements', 'cbgpadvert'],
      ['CiliumBGPNodeConfig', 'ciliumbgpnodeconfigs', 'cbgpnode'],
      ['CiliumBGPNodeConfigOverride', 'ciliumbgpnodeconfigoverrides', 'cbgpnodeoverride'],
      ['CiliumBGPPeeringPolicy', 'ciliumbgppeeringpolicies', 'bgpp'],
    ] as const
  ).map(([kind, plural, short]) => ({ kind, group: 'cilium.io', version: 'v2alpha1', plural, shortNames: [short], namespaced: false, crd: `${plural}.cilium.io` })),
  {
    kind: 'CiliumNetworkPolicy',
    group: 'cilium.io',
    version: 'v2',
    plural: 'ciliumnetworkpolicies',
    shortNames: ['cnp', 'ciliumnp'],
    namespaced: true,
    crd: 'ciliumnetworkpolicies.cilium.io',
  },
  {
    kind: 'CiliumClusterwideNetworkPolicy',
    group: 'cilium.io',
    version: 'v2',
    plural: 'ciliumclusterwidenetworkpolicies',
    shortNames: ['ccnp'],
    namespaced: false,
    crd: 'ciliumclusterwidenetworkpolicies.cilium.io',
  },
];

/**
 * The CRDs cilium-operator 1.16.19 registers at start-up (chart 1.16 ships none; operator.skipCRDCreation=false),
 * as listed by the real operator in test/conformance; the BGP ones only with enable-bgp-control-plane.
 */
export const CILIUM_CRDS = [
  'ciliumcidrgroups.cilium.io',
  'ciliumclusterwidenetworkpolicies.cilium.io',
  'ciliumendpoints.cilium.io',
  'ciliumexternalworkloads.cilium.io',
  'ciliumidentities.cilium.io',
  'ciliuml2announcementpolicies.cilium.io',
  'ciliumloadbalancerippools.cilium.io',
  'ciliumnetworkpolicies.cilium.io',
  'ciliumnodeconfigs.cilium.io',
  'ciliumnodes.cilium.io',
  'ciliumpodippools.cilium.io',
];
export const CILIUM_BGP_CRDS = [
  'ciliumbgpadvertisements.cilium.io',
  'ciliumbgpclusterconfigs.cilium.io',
  'ciliumbgpnodeconfigoverrides.cilium.io',
  'ciliumbgpnodeconfigs.cilium.io',
  'ciliumbgppeerconfigs.cilium.io',
  'ciliumbgppeeringpolicies.cilium.io',
];

export const apiVersionOf = (r: ResourceType) => (r.group ? `${r.group}/${r.version}` : r.version);

/** `service`, `daemonset.apps`, `ciliumloadbalancerippool.cilium.io`: how kubectl names a resource in output. */
export const qualifiedKind = (r: ResourceType) => (r.group ? `${r.kind.toLowerCase()}.${r.group}` : r.kind.toLowerCase());

/** `services`, `daemonsets.apps`: how the apiserver names a resource in NotFound errors. */
export const qualifiedPlural = (r: ResourceType) => (r.group ? `${r.plural}.${r.group}` : r.plural);

/** kubectl's resource argument: plural, singular, short name, Kind, or fully qualified `plural.group`. */
export function findResource(arg: string): ResourceType | undefined {
  const a = arg.toLowerCase();
  return RESOURCES.find((r) => a === r.plural || a === r.kind.toLowerCase() || r.shortNames.includes(a) || a === qualifiedPlural(r) || a === qualifiedKind(r));
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.kind === kind && apiVersionOf(r) === apiVersion);
}
