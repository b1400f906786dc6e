import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { blueprintSchema } from '../../blueprint/schema.ts';
import { planRollout, type RolloutPlan } from '../../blueprint/plan.ts';
import { CLUSTER_STEPS, MESH_STEPS } from '../../contracts/steps.ts';
import { BlueprintInvalidError } from '../../blueprint/validate.ts';
import { example, type Doc } from './fixtures.ts';

const planOf = (doc: Doc): RolloutPlan => planRollout(blueprintSchema.parse(doc));
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS());

describe('planRollout on the seed example', () => {
  const plan = planOf(example('usa-europe'));
  const [usa, europe] = plan.clusters;

  test('clusters carry the seed\'s names, IDs and sites', () => {
    assert.equal(plan.mesh, 'usa-europe');
    assert.deepEqual(plan.clusters.map((c) => [c.name, c.id, c.site, c.region]), [['cluster-usa', 1, 'usa', 'us'], ['cluster-europe', 2, 'europe', 'eu']]);
    assert.equal(usa!.endpoint, 'https://192.168.10.10:6443');
    assert.deepEqual(usa!.etcd, { metricsPort: 2381, latencyBudgetMs: 10 });
    assert.equal(usa!.nodes.filter((n) => n.role === 'controlplane').length, 3);
    assert.deepEqual(usa!.nodes[0]!.bmc, { endpoint: 'https://10.0.10.11', credentialsRef: 'bmc/usa-cp-1' });
    assert.equal(usa!.boot.provider, 'redfish');
    assert.equal(usa!.talos.version, 'v1.9.5');
    assert.equal(usa!.talos.kubernetesVersion, '1.32.3');
    assert.deepEqual(plan.warnings, []);
  });

  test('step names, order and skippability are exactly the engine\'s', () => {
    assert.deepEqual(usa!.steps.map((s) => s.name), CLUSTER_STEPS.map((s) => s.name));
    assert.deepEqual(plan.meshPhase.steps.map((s) => s.name), MESH_STEPS.map((s) => s.name));
    assert.deepEqual(usa!.steps.map((s) => s.title), CLUSTER_STEPS.map((s) => s.title));
    assert.deepEqual([...usa!.steps, ...plan.meshPhase.steps].filter((s) => s.gate).map((s) => s.name), ['etcd-latency']);
    const skippable = [...usa!.steps, ...plan.meshPhase.steps].filter((s) => s.skippable).map((s) => s.name);
    assert.deepEqual(skippable, ['boot', 'global-canary', 'apply-manifests']);
    for (const s of usa!.steps) assert.ok(s.runs.length > 0 && s.title, s.name);
  });

  test('Talos patches: CNI none, kube-proxy off, the cluster\'s subnets, KubePrism, etcd metrics listener', () => {
    const all = parse(usa!.talos.patches.all);
    assert.deepEqual(all.cluster.network, { cni: { name: 'none' }, podSubnets: ['10.1.0.0/16'], serviceSubnets: ['10.96.0.0/16'] });
    assert.deepEqual(all.cluster.proxy, { disabled: true });
    assert.deepEqual(all.machine.features.kubePrism, { enabled: true, port: 7445 });
    assert.equal(parse(europe!.talos.patches.all).cluster.network.podSubnets[0], '10.2.0.0/16');
    assert.equal(parse(europe!.talos.patches.all).cluster.network.serviceSubnets[0], '10.97.0.0/16');
    const cp = parse(usa!.talos.patches.controlplane);
    assert.equal(cp.cluster.etcd.extraArgs['listen-metrics-urls'], 'http://0.0.0.0:2381');
    // a worker sits in the pool's subnet: control planes keep Talos' exclusion label
    assert.equal(cp.machine.nodeLabels['node.kubernetes.io/exclude-from-external-load-balancers'], undefined);
    assert.equal(parse(usa!.talos.patches.worker).machine.nodeLabels['topology.kubernetes.io/zone'], 'usa');
  });

  test('Cilium values: the seed\'s install flags plus the Talos ones; no clustermesh LoadBalancer yet', () => {
    const v = usa!.cilium.values as Doc;
    assert.deepEqual(v.cluster, { name: 'cluster-usa', id: 1 });
    assert.equal(v.kubeProxyReplacement, true);
    assert.deepEqual(v.encryption, { enabled: true, type: 'wireguard' });
    assert.deepEqual(v.ipam, { mode: 'kubernetes' });
    assert.equal(v.k8sServiceHost, 'localhost');
    assert.equal(v.k8sServicePort, 7445);
    assert.deepEqual(v.cgroup, { autoMount: { enabled: false }, hostRoot: '/sys/fs/cgroup' });
    assert.ok(!v.securityContext.capabilities.ciliumAgent.includes('SYS_MODULE'));
    assert.deepEqual(v.securityContext.capabilities.cleanCiliumState, ['NET_ADMIN', 'SYS_ADMIN', 'SYS_RESOURCE']);
    assert.deepEqual(v.l2announcements, { enabled: true });
    assert.deepEqual(v.clustermesh, { useAPIServer: false, maxConnectedClusters: 255 });
    assert.equal(usa!.cilium.chartVersion, '1.16.19');
  });

  test('clustermesh values pin the apiserver LB IP; peer values list the other clusters', () => {
    const cm = (usa!.cilium.clustermeshValues as Doc).clustermesh;
    assert.equal(cm.useAPIServer, true);
    assert.equal(cm.apiserver.service.type, 'LoadBalancer');
    assert.deepEqual(cm.apiserver.service.annotations, { 'lbipam.cilium.io/ips': '192.168.10.241' });
    assert.equal(cm.apiserver.kvstoremesh.enabled, true);
    assert.deepEqual(plan.meshPhase.peerValues, {
      'cluster-usa': { clustermesh: { config: { enabled: true, clusters: [{ name: 'cluster-europe', port: 2379, ips: ['192.168.20.240'] }] } } },
      'cluster-europe': { clustermesh: { config: { enabled: true, clusters: [{ name: 'cluster-usa', port: 2379, ips: ['192.168.10.241'] }] } } },
    });
    assert.deepEqual(
      { method: plan.meshPhase.method, max: plan.meshPhase.maxConnectedClusters, kv: plan.meshPhase.kvstoremesh, enc: plan.meshPhase.encryption },
      { method: 'helm', max: 255, kv: true, enc: 'wireguard' },
    );
  });

  test('LB-IPAM: the pool (CIDR or range) and an L2 policy that announces LoadBalancer IPs', () => {
    const [pool, policy] = docs(europe!.lbIpam.manifests);
    assert.equal(europe!.lbIpam.mode, 'l2');
    assert.deepEqual(pool, { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumLoadBalancerIPPool', metadata: { name: 'cluster-europe-pool' }, spec: { blocks: [{ start: '192.168.20.240', stop: '192.168.20.250' }] } });
    assert.equal(policy.kind, 'CiliumL2AnnouncementPolicy');
    assert.equal(policy.apiVersion, 'cilium.io/v2alpha1');
    assert.equal(policy.spec.loadBalancerIPs, true);
    assert.deepEqual(policy.spec.interfaces, ['^eth[0-9]+', '^enp.*']);
    assert.deepEqual(docs(usa!.lbIpam.manifests)[0].spec.blocks, [{ cidr: '192.168.10.240/28' }]);
  });

  test('the global service and the cross-cluster policy are the seed\'s', () => {
    const [svc] = docs(plan.meshPhase.globalServices);
    assert.deepEqual(svc, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'payment-api', namespace: 'default', annotations: { 'service.cilium.io/global': 'true', 'service.cilium.io/affinity': 'local' } },
      spec: { type: 'ClusterIP', selector: { app: 'payment-api' }, ports: [{ port: 8080, protocol: 'TCP' }] },
    });
    const [cnp] = docs(plan.meshPhase.policies);
    assert.deepEqual(cnp, {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name: 'cross-cluster-db-access', namespace: 'default' },
      spec: { endpointSelector: { matchLabels: { app: 'database' } }, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'frontend', 'io.cilium.k8s.policy.cluster': 'cluster-usa' } }] }] },
    });
    assert.equal(plan.meshPhase.manifestsByCluster['cluster-europe']!.policies, plan.meshPhase.policies);
  });
});

describe('planRollout variations', () => {
  test('the revision is stable for equal content and changes with it', () => {
    const a = planOf(example('usa-europe')).revision;
    assert.equal(planOf(example('usa-europe')).revision, a);
    const d = example('usa-europe');
    d.clusters[0].etcd = { latencyBudgetMs: 8 };
    assert.notEqual(planOf(d).revision, a);
  });
  test('a control-plane-only cluster: the control-plane patch removes the exclusion label, and the plan says so', () => {
    const d = example('usa-europe');
    d.clusters[0].nodes.pop();
    const plan = planOf(d);
    const labels = parse(plan.clusters[0]!.talos.patches.controlplane).machine.nodeLabels;
    assert.deepEqual(labels['node.kubernetes.io/exclude-from-external-load-balancers'], { $patch: 'delete' });
    assert.match(plan.clusters[0]!.warnings.join('\n'), /patch removes that label/);
    assert.equal(plan.clusters[1]!.warnings.length, 0);
    assert.match(plan.clusters[0]!.steps.find((s) => s.name === 'lb-ipam')!.details.join('\n'), /exclude-from-external-load-balancers/);
  });
  test('three clusters: each lists the two others; cilium-connect lists every pair', () => {
    const plan = planOf(example('three-regions'));
    const names = (c: string) => ((plan.meshPhase.peerValues[c] as Doc).clustermesh.config.clusters as Array<{ name: string }>).map((p) => p.name);
    assert.deepEqual(names('cluster-asia'), ['cluster-usa', 'cluster-europe']);
    const d = example('three-regions');
    d.mesh.method = 'cilium-connect';
    const connect = planOf(d).meshPhase.steps.find((s) => s.name === 'connect')!.details;
    assert.equal(connect.length, 3);
    assert.ok(connect.includes('cilium clustermesh connect --context cluster-europe --destination-context cluster-asia'));
  });
  test('bgp mode renders the pool and the BGP peering, and enables the BGP control plane', () => {
    const d = example('usa-europe');
    d.clusters[0].loadBalancer = { mode: 'bgp', pool: [{ cidr: '203.0.113.0/28' }], bgp: { localASN: 64512, peers: [{ name: 'tor', address: '192.168.10.1', asn: 64500 }] } };
    d.clusters[0].clustermesh.apiserverIP = '203.0.113.5';
    const c = planOf(d).clusters[0]!;
    assert.deepEqual(docs(c.lbIpam.manifests).map((x) => x.kind), ['CiliumLoadBalancerIPPool', 'CiliumBGPClusterConfig', 'CiliumBGPPeerConfig', 'CiliumBGPAdvertisement']);
    assert.deepEqual((c.cilium.values as Doc).bgpControlPlane, { enabled: true });
    assert.equal((c.cilium.values as Doc).l2announcements, undefined);
  });
  test('encryption waived: no WireGuard in the values, and the waiver is on the plan', () => {
    const d = example('usa-europe');
    d.mesh.encryption = 'none';
    d.mesh.waivers = { unencryptedCrossSite: 'dedicated encrypted carrier link' };
    const plan = planOf(d);
    assert.deepEqual((plan.clusters[0]!.cilium.values as Doc).encryption, { enabled: false });
    assert.match(plan.warnings.join('\n'), /WAIVED/);
  });
  test('an invalid blueprint is refused with every error', () => {
    const d = example('usa-europe');
    d.clusters[1].id = 1;
    d.clusters[1].network.podSubnets = ['10.1.0.0/16'];
    assert.throws(() => planOf(d), (e: unknown) => e instanceof BlueprintInvalidError && e.errors.length === 2);
  });
});

describe('workflow safety', () => {
  test('plan.ts and everything it imports use no Node built-ins, fs, env, clock or randomness', () => {
    const root = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, 'utf8');
      assert.doesNotMatch(src, /from ['"](node:|fs|path|os|crypto|child_process)/, file);
      assert.doesNotMatch(src, /process\.env|Date\.now|Math\.random|new Date\(/, file);
      for (const m of src.matchAll(/from ['"](\.{1,2}\/[^'"]+)['"]/g)) visit(resolve(dirname(file), m[1]!));
    };
    visit(resolve(root, '../../blueprint/plan.ts'));
    assert.ok(seen.size >= 8, `walked ${seen.size} files`);
  });
});

describe('the plan carries the rules it was checked against (#12)', () => {
  test('a non-default per-node mask reaches kube-controller-manager through the Talos patch; the default adds nothing', () => {
    const d = example('usa-europe');
    d.clusters[0].network.podSubnets = ['10.1.0.0/22'];
    d.clusters[0].network.nodeCidrMaskSize = { ipv4: 25 };
    const plan = planOf(d);
    assert.deepEqual(parse(plan.clusters[0]!.talos.patches.all).cluster.controllerManager, { extraArgs: { 'node-cidr-mask-size-ipv4': '25' } });
    assert.equal(parse(plan.clusters[1]!.talos.patches.all).cluster.controllerManager, undefined);
  });
  test('a waived etcd budget is in the plan: the gate step says WAIVED and the cluster plan carries the reason', () => {
    const d = example('usa-europe');
    d.clusters[0].etcd = { latencyBudgetMs: 30 };
    d.clusters[0].waivers = { etcdLatencyBudget: 'two halls on one campus, 20 ms measured' };
    const plan = planOf(d);
    assert.equal(plan.clusters[0]!.etcd.waiver, 'two halls on one campus, 20 ms measured');
    assert.match(plan.clusters[0]!.steps.find((s) => s.name === 'etcd-latency')!.details.join('\n'), /budget 30 ms \(WAIVED above the Golden Rule's 10 ms: two halls/);
    assert.match(plan.warnings.join('\n'), /WAIVED: cluster-usa's etcd gate accepts peer round trips up to 30 ms/);
    assert.equal(plan.clusters[1]!.etcd.waiver, undefined);
  });
});
