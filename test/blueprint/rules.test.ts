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
    const r = withChange((d) => d.clusters[1].network.podSubnets.push('::ffff:10.1.0.0/112'));
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

describe('encryption across regions', () => {
  test('encryption none across regions is refused, waived visibly, and fine within one region', () => {
    findIssue(withChange((d) => (d.mesh.encryption = 'none')).errors, 'mesh.encryption', /regions us, eu .* clear text/);
    const waived = withChange((d) => {
      d.mesh.encryption = 'none';
      d.mesh.waivers = { unencryptedCrossRegion: 'private MPLS link, encrypted by the carrier' };
    });
    assert.equal(waived.ok, true);
    findIssue(waived.warnings, 'mesh.waivers.unencryptedCrossRegion', /^WAIVED: .*NOT encrypted/);
    const oneRegion = withChange((d) => {
      d.mesh.encryption = 'none';
      d.clusters[1].region = 'us';
    });
    assert.deepEqual(oneRegion, { ok: true, errors: [], warnings: [] });
  });
  test('a waiver needs a real reason', () => {
    findIssue(withChange((d) => (d.mesh.waivers = { unencryptedCrossRegion: 'ok' })).errors, 'mesh.waivers.unencryptedCrossRegion', /at least 10/);
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
