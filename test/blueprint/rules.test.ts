import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { example, findIssue, withChange } from './fixtures.ts';
import { validateBlueprint } from '../../blueprint/validate.ts';

describe('examples', () => {
  test('both shipped examples are valid with no warnings', () => {
    for (const name of ['usa-europe', 'three-regions'] as const) {
      const r = validateBlueprint(example(name));
      assert.deepEqual(r, { ok: true, errors: [], warnings: [] }, name);
    }
  });
});

describe('address overlap', () => {
  test('pod subnets of two clusters overlap', () => {
    const r = withChange((d) => (d.clusters[1].network.podSubnets = ['10.1.0.0/16']));
    assert.equal(r.ok, false);
    findIssue(r.errors, 'clusters[1].network.podSubnets[0]', /pod subnet 10\.1\.0\.0\/16 of cluster-europe overlaps pod subnet 10\.1\.0\.0\/16 of cluster-usa/);
  });
  test('an overlap hidden by a different prefix length (a /24 inside another cluster\'s /16)', () => {
    const r = withChange((d) => (d.clusters[1].network.serviceSubnets = ['10.1.200.0/24']));
    findIssue(r.errors, 'clusters[1].network.serviceSubnets[0]', /service subnet 10\.1\.200\.0\/24 of cluster-europe overlaps pod subnet 10\.1\.0\.0\/16 of cluster-usa/);
  });
  test('pod and service subnets of the same cluster overlap', () => {
    const r = withChange((d) => (d.clusters[0].network.serviceSubnets = ['10.0.0.0/8']));
    findIssue(r.errors, 'clusters[0].network.serviceSubnets[0]', /overlaps pod subnet 10\.1\.0\.0\/16 of the same cluster/);
  });
  test('IPv6 pod subnets overlap across clusters; disjoint IPv6 passes', () => {
    const bad = withChange((d) => {
      d.clusters[0].network.podSubnets.push('fd00:10::/56');
      d.clusters[1].network.podSubnets.push('fd00:10:0:80::/64');
    });
    findIssue(bad.errors, 'clusters[1].network.podSubnets[1]', /fd00:10:0:80::\/64 .* overlaps pod subnet fd00:10::\/56 of cluster-usa/);
    const good = withChange((d) => {
      d.clusters[0].network.podSubnets.push('fd00:10::/56');
      d.clusters[1].network.podSubnets.push('fd00:20::/56');
    });
    assert.deepEqual(good.errors, []);
  });
  test('an IPv4 and an IPv6 range never overlap', () => {
    const r = withChange((d) => {
      d.clusters[1].network.podSubnets.push('::ffff:10.1.0.0/112');
      d.clusters[1].network.nodeCidrMaskSize = { ipv6: 120 };
    });
    assert.deepEqual(r.errors, []);
  });
  test('an LB pool given as a range overlaps another cluster\'s node subnet', () => {
    const r = withChange((d) => (d.clusters[1].loadBalancer.pool = [{ start: '192.168.10.250', stop: '192.168.20.250' }]));
    findIssue(r.errors, 'clusters[1].loadBalancer.pool[0]', /LB pool block 192\.168\.10\.250-192\.168\.20\.250 of cluster-europe overlaps node subnet 192\.168\.10\.0\/24 of cluster-usa/);
  });
  test('two LB pools overlap only in their last address', () => {
    const r = withChange((d) => {
      d.clusters[0].network.nodeSubnets.push('172.16.0.0/24');
      d.clusters[0].loadBalancer.pool.push({ start: '172.16.0.10', stop: '172.16.0.20' });
      d.clusters[0].loadBalancer.pool.push({ start: '172.16.0.20', stop: '172.16.0.30' });
    });
    findIssue(r.errors, 'clusters[0].loadBalancer.pool[2]', /172\.16\.0\.20-172\.16\.0\.30 of cluster-usa overlaps LB pool block 172\.16\.0\.10-172\.16\.0\.20 of the same cluster/);
  });
  test('a pool inside its own cluster\'s node subnet is fine (required for L2)', () => {
    assert.deepEqual(withChange(() => {}).errors, []);
  });
  test('three clusters: the third overlapping the first is named with both', () => {
    const r = withChange((d) => (d.clusters[2].network.podSubnets = ['10.0.0.0/15']), { base: 'three-regions' });
    findIssue(r.errors, 'clusters[2].network.podSubnets[0]', /10\.0\.0\.0\/15 of cluster-asia overlaps pod subnet 10\.1\.0\.0\/16 of cluster-usa/);
    assert.equal(r.errors.filter((e) => e.path === 'clusters[2].network.podSubnets[0]').length, 1);
  });
  test('a CIDR with host bits set is refused with the aligned form', () => {
    const r = withChange((d) => (d.clusters[0].loadBalancer.pool = [{ cidr: '192.168.10.245/28' }]));
    findIssue(r.errors, 'clusters[0].loadBalancer.pool[0].cidr', /host bits set: did you mean 192\.168\.10\.240\/28/);
  });
  test('a range whose stop is before its start', () => {
    const r = withChange((d) => (d.clusters[1].loadBalancer.pool = [{ start: '192.168.20.250', stop: '192.168.20.240' }]));
    findIssue(r.errors, 'clusters[1].loadBalancer.pool[0]', /stop 192\.168\.20\.240 is before start/);
  });
  test('node addresses: duplicate, outside the node subnets, inside an LB pool', () => {
    const r = withChange((d) => {
      d.clusters[0].nodes[1].address = '192.168.10.11';
      d.clusters[0].nodes[2].address = '192.168.99.13';
      d.clusters[0].nodes[3].address = '192.168.10.242';
    });
    findIssue(r.errors, 'clusters[0].nodes[1].address', /already used by cluster-usa\/usa-cp-1/);
    findIssue(r.errors, 'clusters[0].nodes[2].address', /in none of cluster-usa's nodeSubnets/);
    findIssue(r.errors, 'clusters[0].nodes[3].address', /lies in the LB pool 192\.168\.10\.240-192\.168\.10\.255/);
  });
});

describe('cluster identity', () => {
  test('duplicate cluster IDs and names', () => {
    const r = withChange((d) => {
      d.clusters[1].id = 1;
      d.clusters[1].name = 'cluster-usa';
    });
    findIssue(r.errors, 'clusters[1].id', /cluster ID 1 is already used by cluster-usa/);
    findIssue(r.errors, 'clusters[1].name', /used twice/);
  });
  test('ID 0 and ID 256 (with maxConnectedClusters 255) are refused; 300 passes with 511', () => {
    findIssue(withChange((d) => (d.clusters[0].id = 0)).errors, 'clusters[0].id', /start at 1/);
    findIssue(withChange((d) => (d.clusters[0].id = 256)).errors, 'clusters[0].id', /outside 1\.\.255: IDs above 255 need mesh\.maxConnectedClusters: 511/);
    const ok = withChange((d) => {
      d.clusters[0].id = 300;
      d.mesh.maxConnectedClusters = 511;
    });
    assert.deepEqual(ok.errors, []);
    findIssue(withChange((d) => (d.clusters[0].id = 512)).errors, 'clusters[0].id', /511/);
    findIssue(withChange((d) => (d.mesh.maxConnectedClusters = 300)).errors, 'mesh.maxConnectedClusters', /255|511/);
  });
  test('names: DNS label, at most 32 characters, not "default"', () => {
    findIssue(withChange((d) => (d.clusters[0].name = 'Cluster_USA')).errors, 'clusters[0].name', /lower-case/);
    findIssue(withChange((d) => (d.clusters[0].name = 'c'.repeat(33))).errors, 'clusters[0].name', /at most 32/);
    findIssue(withChange((d) => (d.clusters[0].name = 'default')).errors, 'clusters[0].name', /reserved/);
    assert.deepEqual(withChange((d) => (d.clusters[0].name = 'c'.repeat(32))).errors.filter((e) => e.path === 'clusters[0].name'), []);
  });
});

describe('control plane: the Golden Rule and odd counts', () => {
  test('a control plane stretched across sites is refused', () => {
    const r = withChange((d) => (d.clusters[0].nodes[2].site = 'europe'));
    findIssue(r.errors, 'clusters[0].nodes[2].site', /Golden Rule/);
  });
  test('a worker at another site is only a warning', () => {
    const r = withChange((d) => (d.clusters[0].nodes[3].site = 'europe'));
    assert.equal(r.ok, true);
    findIssue(r.warnings, 'clusters[0].nodes[3].site', /across the WAN/);
  });
  test('one control-plane node warns; two are refused; two with a waiver warn visibly', () => {
    const one = withChange((d) => d.clusters[0].nodes.splice(1, 2));
    assert.equal(one.ok, true);
    findIssue(one.warnings, 'clusters[0].nodes', /single control-plane node/);
    const two = withChange((d) => d.clusters[0].nodes.splice(1, 1));
    findIssue(two.errors, 'clusters[0].nodes', /2 control-plane nodes: an even count .*evenControlPlaneCount/);
    const waived = withChange((d) => {
      d.clusters[0].nodes.splice(1, 1);
      d.clusters[0].waivers = { evenControlPlaneCount: 'third chassis arrives next month' };
    });
    assert.equal(waived.ok, true);
    findIssue(waived.warnings, 'clusters[0].waivers.evenControlPlaneCount', /^WAIVED: .*third chassis/);
  });
  test('no control-plane node at all', () => {
    const r = withChange((d) => (d.clusters[0].nodes = [d.clusters[0].nodes[3]]));
    findIssue(r.errors, 'clusters[0].nodes', /no controlplane node/);
  });
});

describe('L2 pools and announcers', () => {
  test('a pool outside every node subnet is refused (L2 cannot cross subnets)', () => {
    const r = withChange((d) => {
      d.clusters[0].network.nodeSubnets.push('172.16.5.0/24');
      d.clusters[0].loadBalancer.pool = [{ cidr: '172.20.0.0/28' }];
      d.clusters[0].clustermesh.apiserverIP = '172.20.0.1';
    });
    findIssue(r.errors, 'clusters[0].loadBalancer.pool[0]', /in none of cluster-usa's nodeSubnets .* cannot cross subnets/);
  });
  test('a pool in a node subnet where no node sits', () => {
    const r = withChange((d) => {
      d.clusters[0].network.nodeSubnets.push('172.16.5.0/24');
      d.clusters[0].loadBalancer.pool = [{ cidr: '172.16.5.240/28' }];
      d.clusters[0].clustermesh.apiserverIP = '172.16.5.241';
    });
    findIssue(r.errors, 'clusters[0].loadBalancer.pool[0]', /no node of cluster-usa sits in 172\.16\.5\.0-172\.16\.5\.255/);
  });
  test('an IPv6 L2 pool is refused (ARP is IPv4 only)', () => {
    const r = withChange((d) => {
      d.clusters[0].network.nodeSubnets.push('fd00:192:168:10::/64');
      d.clusters[0].loadBalancer.pool.push({ cidr: 'fd00:192:168:10::f0/124' });
    });
    findIssue(r.errors, 'clusters[0].loadBalancer.pool[1]', /IPv4 \(ARP\) only/);
  });
  test('a control-plane-only cluster is valid but warned: the plan lifts the exclusion label', () => {
    const r = withChange((d) => d.clusters[0].nodes.pop());
    assert.equal(r.ok, true);
    findIssue(r.warnings, 'clusters[0].loadBalancer', /node\.kubernetes\.io\/exclude-from-external-load-balancers.*patch removes that label/);
  });
  test('...and refused on Talos 1.12, where that patch no longer works', () => {
    const r = withChange((d) => {
      d.clusters[0].nodes.pop();
      d.versions.talos = 'v1.12.0';
    });
    findIssue(r.errors, 'clusters[0].loadBalancer', /Talos >= 1\.12/);
  });
  test('the pinned apiserver IP must sit in the pool; the helm method needs one', () => {
    findIssue(withChange((d) => (d.clusters[0].clustermesh.apiserverIP = '192.168.10.200')).errors, 'clusters[0].clustermesh.apiserverIP', /not in cluster-usa's LB pool/);
    findIssue(withChange((d) => (d.clusters[1].clustermesh = {})).errors, 'clusters[1].clustermesh.apiserverIP', /pin one/);
    assert.deepEqual(withChange((d) => { d.clusters[1].clustermesh = {}; d.mesh.method = 'cilium-connect'; }).errors, []);
  });
  test('bgp mode needs peers; its pool may sit outside the node subnets', () => {
    findIssue(withChange((d) => (d.clusters[0].loadBalancer.mode = 'bgp')).errors, 'clusters[0].loadBalancer.bgp', /localASN/);
    const ok = withChange((d) => {
      d.clusters[0].loadBalancer = { mode: 'bgp', pool: [{ cidr: '203.0.113.0/28' }], bgp: { localASN: 64512, peers: [{ name: 'tor', address: '192.168.10.1', asn: 64500 }] } };
      d.clusters[0].clustermesh.apiserverIP = '203.0.113.5';
    });
    assert.deepEqual(ok.errors, []);
  });
});

describe('encryption between sites', () => {
  test('encryption none across regions is refused and can be waived visibly', () => {
    findIssue(withChange((d) => (d.mesh.encryption = 'none')).errors, 'mesh.encryption', /sites usa \(us\), europe \(eu\) .* clear text/);
    const waived = withChange((d) => {
      d.mesh.encryption = 'none';
      d.mesh.waivers = { unencryptedCrossSite: 'private MPLS link, encrypted by the carrier' };
    });
    assert.equal(waived.ok, true);
    findIssue(waived.warnings, 'mesh.waivers.unencryptedCrossSite', /^WAIVED: .*NOT encrypted/);
  });
  test('labelling two sites with one region does not switch WireGuard off without the waiver (#12, case 7)', () => {
    const oneRegion = withChange((d) => {
      d.mesh.encryption = 'none';
      d.clusters[1].region = 'us';
    });
    findIssue(oneRegion.errors, 'mesh.encryption', /sites usa \(us\), europe \(us\)/);
    const workerAway = withChange((d) => {
      d.mesh.encryption = 'none';
      d.clusters.pop();
      d.policies[0].allowFrom[0].cluster = undefined;
      d.clusters[0].nodes[3].site = 'usa-east';
    });
    findIssue(workerAway.errors, 'mesh.encryption', /sites usa \(us\), usa-east \(us\)/);
    const oneSite = withChange((d) => {
      d.mesh.encryption = 'none';
      d.clusters.pop();
      delete d.policies[0].allowFrom[0].cluster;
    });
    assert.deepEqual(oneSite, { ok: true, errors: [], warnings: [] });
  });
  test('a waiver needs a real reason; the old region-keyed name says it was renamed', () => {
    findIssue(withChange((d) => (d.mesh.waivers = { unencryptedCrossSite: 'ok' })).errors, 'mesh.waivers.unencryptedCrossSite', /at least 10/);
    findIssue(withChange((d) => (d.mesh.waivers = { unencryptedCrossRegion: 'private MPLS link' })).errors, 'mesh.waivers.unencryptedCrossRegion', /renamed to mesh\.waivers\.unencryptedCrossSite/);
  });
});

describe('versions', () => {
  test('an unverified combination warns, and is an error in strict mode', () => {
    const warn = withChange((d) => (d.versions.cilium = '1.17.4'));
    assert.equal(warn.ok, true);
    findIssue(warn.warnings, 'versions.cilium', /not verified.*--strict/);
    findIssue(withChange((d) => (d.versions.cilium = '1.17.4'), { strict: true }).errors, 'versions.cilium', /not verified/);
    findIssue(withChange((d) => (d.versions.kubernetes = '1.33.0')).warnings, 'versions.kubernetes', /outside what Talos 1\.9 supports/);
    findIssue(withChange((d) => (d.versions.talos = 'v1.7.6')).warnings, 'versions.talos', /not verified/);
    assert.deepEqual(withChange(() => {}, { strict: true }).errors, []);
  });
});

describe('secret references', () => {
  test('a PEM, a long base64 string or a malformed name in a ref field is refused', () => {
    findIssue(withChange((d) => (d.clusters[0].nodes[0].bmc.credentialsRef = '-----BEGIN PRIVATE KEY-----\nabc')).errors, 'clusters[0].nodes[0].bmc.credentialsRef', /looks like a secret value/);
    findIssue(withChange((d) => (d.clusters[0].nodes[0].bmc.credentialsRef = 'cGFzc3dvcmQxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA=')).errors, 'clusters[0].nodes[0].bmc.credentialsRef', /looks like a secret value/);
    findIssue(withChange((d) => (d.clusters[0].nodes[0].bmc.credentialsRef = 'BMC Password!')).errors, 'clusters[0].nodes[0].bmc.credentialsRef', /secret/);
  });
  test('redfish boot needs a BMC per node and an image URL', () => {
    const r = withChange((d) => {
      delete d.clusters[0].nodes[0].bmc;
      delete d.clusters[0].boot.imageUrl;
    });
    findIssue(r.errors, 'clusters[0].nodes[0].bmc', /needs a bmc/);
    findIssue(r.errors, 'clusters[0].boot.imageUrl', /needs imageUrl/);
  });
});

describe('references and one-pass collection', () => {
  test('services and policies naming unknown clusters', () => {
    const r = withChange((d) => {
      d.globalServices[0].clusters = ['cluster-mars'];
      d.policies[0].allowFrom[0].cluster = 'cluster-moon';
    });
    findIssue(r.errors, 'globalServices[0].clusters[0]', /no cluster named cluster-mars/);
    findIssue(r.errors, 'policies[0].allowFrom[0].cluster', /no cluster named cluster-moon/);
  });
  test('every problem is reported at once, never only the first', () => {
    const r = withChange((d) => {
      d.clusters[1].id = 1;
      d.clusters[1].network.podSubnets = ['10.1.0.0/16'];
      d.clusters[0].nodes[2].site = 'europe';
      d.mesh.encryption = 'none';
    });
    const paths = r.errors.map((e) => e.path);
    for (const p of ['clusters[1].id', 'clusters[1].network.podSubnets[0]', 'clusters[0].nodes[2].site', 'mesh.encryption']) {
      assert.ok(paths.includes(p), `missing ${p} in ${paths.join(', ')}`);
    }
  });
});

// ---- #12: gates nobody switches off by accident, and the Kubernetes/Cilium facts as rules ----------------------

describe('the etcd gate is policy, not a free number (#12, case 1)', () => {
  test('above the Golden Rule only with a written waiver, shown as WAIVED; never above the hard limit', () => {
    const raised = withChange((d) => (d.clusters[0].etcd = { latencyBudgetMs: 40 }));
    findIssue(raised.errors, 'clusters[0].etcd.latencyBudgetMs', /40 ms is above the Golden Rule's 10 ms.*clusters\[0\]\.waivers\.etcdLatencyBudget/);
    const waived = withChange((d) => {
      d.clusters[0].etcd = { latencyBudgetMs: 40 };
      d.clusters[0].waivers = { etcdLatencyBudget: 'metro link between two halls, measured 30 ms p99 by SRE' };
    });
    assert.equal(waived.ok, true, JSON.stringify(waived.errors));
    findIssue(waived.warnings, 'clusters[0].waivers.etcdLatencyBudget', /^WAIVED: cluster-usa's etcd gate accepts peer round trips up to 40 ms.*metro link/);
    for (const budget of [150, 1e9]) {
      const r = withChange((d) => {
        d.clusters[0].etcd = { latencyBudgetMs: budget };
        d.clusters[0].waivers = { etcdLatencyBudget: 'we know what we are doing, honestly' };
      });
      findIssue(r.errors, 'clusters[0].etcd.latencyBudgetMs', /at most 50 ms, waiver or not/);
    }
  });
  test('a waiver that waives nothing is pointed out; a budget below 10 ms needs none', () => {
    const unused = withChange((d) => (d.clusters[0].waivers = { etcdLatencyBudget: 'just in case the link is slow' }));
    findIssue(unused.warnings, 'clusters[0].waivers.etcdLatencyBudget', /waiver unused/);
    assert.deepEqual(withChange((d) => (d.clusters[0].etcd = { latencyBudgetMs: 5 })), { ok: true, errors: [], warnings: [] });
  });
});

describe('ranges Kubernetes refuses (#12, case 4)', () => {
  test('a service subnet wider than kube-apiserver accepts: /12 for IPv4, /108 for IPv6 (Kubernetes < 1.34)', () => {
    findIssue(withChange((d) => (d.clusters[0].network.serviceSubnets = ['10.128.0.0/11'])).errors, 'clusters[0].network.serviceSubnets[0]', /too large: kube-apiserver refuses .* wider than \/12 for IPv4/);
    assert.deepEqual(withChange((d) => (d.clusters[0].network.serviceSubnets = ['10.112.0.0/12'])).errors, []);
    const v6 = (prefix: number) =>
      withChange((d) => {
        d.clusters[0].network.podSubnets.push('fd00:10::/48');
        d.clusters[0].network.serviceSubnets.push(`fd00:96::/${prefix}`);
      });
    findIssue(v6(107).errors, 'clusters[0].network.serviceSubnets[1]', /wider than \/108 for IPv6/);
    assert.deepEqual(v6(108).errors, []);
    // From 1.34 the ServiceCIDR allocator (on by default) lifts the cap.
    const newer = withChange((d) => {
      d.clusters[0].network.serviceSubnets = ['10.128.0.0/11'];
      d.versions.kubernetes = '1.34.1';
    });
    assert.deepEqual(newer.errors, []);
  });
  test('a pod subnet smaller than the per-node mask, or with too few node ranges; the mask is a field with the Kubernetes default', () => {
    const small = withChange((d) => (d.clusters[0].network.podSubnets = ['10.1.0.0/26']));
    findIssue(small.errors, 'clusters[0].network.podSubnets[0]', /10\.1\.0\.0\/26 is smaller than one node's pod range \(\/24, network\.nodeCidrMaskSize\.ipv4\)/);
    const crowded = withChange((d) => (d.clusters[0].network.podSubnets = ['10.1.0.0/23']));
    findIssue(crowded.errors, 'clusters[0].network.podSubnets[0]', /holds 2 per-node \/24 range\(s\) but cluster-usa has 4 nodes/);
    const longerMask = withChange((d) => {
      d.clusters[0].network.podSubnets = ['10.1.0.0/23'];
      d.clusters[0].network.nodeCidrMaskSize = { ipv4: 25 };
    });
    assert.deepEqual(longerMask, { ok: true, errors: [], warnings: [] });
    const tiny = withChange((d) => (d.clusters[0].network.nodeCidrMaskSize = { ipv4: 27 }));
    findIssue(tiny.warnings, 'clusters[0].network.nodeCidrMaskSize.ipv4', /holds 30 pod addresses, fewer than kubelet's default maxPods \(110\)/);
    const v6 = withChange((d) => d.clusters[0].network.podSubnets.push('fd00:10::/40'));
    findIssue(v6.errors, 'clusters[0].network.podSubnets[1]', /at most 16 bits between the two \(clusterSubnetMaxDiff\)/);
  });
  test('dual-stack lists: at most one range per family', () => {
    findIssue(withChange((d) => d.clusters[0].network.podSubnets.push('10.3.0.0/16')).errors, 'clusters[0].network.podSubnets[1]', /two IPv4 pod subnets: Kubernetes takes at most one per family/);
    findIssue(withChange((d) => (d.clusters[0].network.serviceSubnets = ['10.96.0.0/16', 'fd00:96::/112', '10.98.0.0/16'])).errors, 'clusters[0].network.serviceSubnets', /at most two/);
  });
});

describe('Cilium older than the rendered resources (#12, case 5)', () => {
  test('1.13 and 1.15 are errors without --strict; 1.17 stays an unverified warning', () => {
    for (const v of ['1.13.4', '1.15.7']) {
      const r = withChange((d) => (d.versions.cilium = v));
      assert.equal(r.ok, false, v);
      findIssue(r.errors, 'versions.cilium', /older than 1\.16, whose resources and Helm values the plan renders/);
    }
    assert.equal(withChange((d) => (d.versions.cilium = '1.17.4')).ok, true);
  });
});

describe('the Kubernetes API endpoint (#12, case 6)', () => {
  test('a VIP inside an LB pool, in another cluster\'s subnet, or off the node subnet is refused', () => {
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://192.168.10.245:6443')).errors, 'clusters[0].endpoint', /lies in the LB pool 192\.168\.10\.240-192\.168\.10\.255 of cluster-usa/);
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://192.168.20.10:6443')).errors, 'clusters[0].endpoint', /lies in node subnet 192\.168\.20\.0\/24 of cluster-europe/);
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://10.96.0.10:6443')).errors, 'clusters[0].endpoint', /lies in service subnet 10\.96\.0\.0\/16 of the same cluster/);
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://172.31.0.10:6443')).errors, 'clusters[0].endpoint', /in none of cluster-usa's nodeSubnets .* external load balancer by DNS name/);
  });
  test('a worker\'s address, a reserved address or another cluster\'s endpoint are refused; a DNS name or a control-plane address pass', () => {
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://192.168.10.21:6443')).errors, 'clusters[0].endpoint', /address of worker usa-worker-1/);
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://192.168.10.255:6443')).errors, 'clusters[0].endpoint', /lies in the LB pool|broadcast address/);
    findIssue(withChange((d) => (d.clusters[0].endpoint = 'https://192.168.10.0:6443')).errors, 'clusters[0].endpoint', /the network address of 192\.168\.10\.0\/24/);
    findIssue(withChange((d) => (d.clusters[1].endpoint = 'https://api.example.com:6443', d.clusters[0].endpoint = 'https://API.example.com:6443')).errors, 'clusters[1].endpoint', /also cluster-usa's/);
    assert.deepEqual(withChange((d) => (d.clusters[0].endpoint = 'https://api.usa.example.com:6443')).errors, []);
    assert.deepEqual(withChange((d) => (d.clusters[0].endpoint = 'https://192.168.10.11:6443')).errors, []);
  });
});

describe('patterns, host addresses and text (#12, case 8)', () => {
  test('L2 interface patterns must compile, and as Go regexp (RE2)', () => {
    findIssue(withChange((d) => (d.clusters[0].loadBalancer.interfaces = ['^eth[0-9+'])).errors, 'clusters[0].loadBalancer.interfaces[0]', /not a valid regular expression/);
    findIssue(withChange((d) => (d.clusters[0].loadBalancer.interfaces = ['^eth(?!9)'])).errors, 'clusters[0].loadBalancer.interfaces[0]', /Go regexp \(RE2\)/);
  });
  test('a node may not take its subnet\'s network or broadcast address; /31 point-to-point has neither', () => {
    const r = withChange((d) => {
      d.clusters[0].nodes[3].address = '192.168.10.0';
      d.clusters[1].nodes[3].address = '192.168.20.255';
    });
    findIssue(r.errors, 'clusters[0].nodes[3].address', /the network address of 192\.168\.10\.0\/24/);
    findIssue(r.errors, 'clusters[1].nodes[3].address', /the broadcast address of 192\.168\.20\.0\/24/);
    const p2p = withChange((d) => {
      d.clusters[0].network.nodeSubnets.push('172.16.9.0/31');
      d.clusters[0].nodes[3].address = '172.16.9.1';
    });
    assert.deepEqual(p2p.errors.filter((e) => e.path === 'clusters[0].nodes[3].address'), []);
    findIssue(withChange((d) => (d.clusters[0].clustermesh.apiserverIP = '192.168.10.255')).errors, 'clusters[0].clustermesh.apiserverIP', /broadcast address/);
  });
  test('text that cannot be stored or shown faithfully is refused, naming the field', () => {
    findIssue(withChange((d) => (d.metadata.description = 'bad \uD800 surrogate')).errors, 'metadata.description', /not valid Unicode/);
    findIssue(withChange((d) => (d.mesh.waivers = { unencryptedCrossSite: 'carrier link \u202Eenil reirrac' })).errors, 'mesh.waivers.unencryptedCrossSite', /U\+202E/);
    findIssue(withChange((d) => (d.policies[0].endpointSelector = { 'app name': 'database' })).errors, 'policies[0].endpointSelector.app name', /label key "app name"/);
  });
});

describe('bounded validation (#12, case 2)', () => {
  test('at most 511 clusters', () => {
    const r = withChange((d) => (d.clusters = Array.from({ length: 512 }, () => d.clusters[0])));
    findIssue(r.errors, 'clusters', /at most 511 clusters/);
  });
  test('many clusters with the same ranges: at most one report per range, at most 100 listed, the rest counted', () => {
    const r = withChange((d) => {
      d.mesh.method = 'cilium-connect';
      d.mesh.maxConnectedClusters = 511;
      d.policies = [];
      d.clusters = Array.from({ length: 300 }, (_, i) => ({ ...structuredClone(d.clusters[0]), name: `c${i}`, id: i + 1, nodes: [{ name: 'n', role: 'controlplane', address: `192.168.10.${(i % 200) + 1}` }] }));
    });
    assert.equal(r.ok, false);
    assert.equal(r.errors.length, 101);
    assert.match(r.errors[100]!.message, /^\d+ more errors not listed \(only the first 100 are\)/);
    const paths = r.errors.slice(0, 100).map((e) => e.path);
    assert.equal(new Set(paths).size, paths.length, 'no range is reported twice');
  });
});
