import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { callsMatching, readCalls } from '../../lab/call-log.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { withLabState } from '../../lab/state.ts';

const BIN = path.resolve(import.meta.dirname, '../../lab/bin');

function runner(labDir: string) {
  return (tool: string, args: string[], opts: { kubeconfig?: string; input?: string } = {}) =>
    execa(path.join(BIN, tool), args, {
      reject: false,
      input: opts.input ?? '',
      env: { MESHPILOT_LAB_DIR: labDir, PATH: process.env.PATH, ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}) },
      extendEnv: false,
    });
}

const BASE_VALUES = 'cluster: {name: cluster-usa, id: 1}\nkubeProxyReplacement: true\nl2announcements: {enabled: true}\nipam: {mode: kubernetes}\n';
const pool = (name: string, blocks: string, selector = '') =>
  `apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: ${name}\nspec:\n  blocks:\n${blocks}${selector}`;
const l2Policy = (nodeSelector = '') =>
  `apiVersion: cilium.io/v2alpha1\nkind: CiliumL2AnnouncementPolicy\nmetadata:\n  name: l2\nspec:\n  loadBalancerIPs: true\n${nodeSelector}`;
const lbService = (name: string, annotations = '', app = name) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\n  labels: {app: ${app}}\n${annotations}spec:\n  type: LoadBalancer\n  selector: {app: ${name}}\n  ports: [{port: 443}]\n`;

async function installCilium(run: ReturnType<typeof runner>, kc: string, dir: string) {
  const values = path.join(dir, 'values.yaml');
  writeFileSync(values, BASE_VALUES);
  const r = await run('helm', ['upgrade', '--install', 'cilium', 'cilium/cilium', '--version', '1.16.6', '-n', 'kube-system', '-f', values, '--wait'], { kubeconfig: kc });
  assert.equal(r.exitCode, 0, r.stderr);
  const w = await run('kubectl', ['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io', '--timeout=10s'], { kubeconfig: kc });
  assert.equal(w.exitCode, 0, w.stderr);
}

async function svcJson(run: ReturnType<typeof runner>, kc: string, name: string, ns = 'default') {
  const r = await run('kubectl', ['get', 'svc', name, '-n', ns, '-o', 'json'], { kubeconfig: kc });
  assert.equal(r.exitCode, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const ipamCondition = (svc: any) => svc.status.conditions.find((c: any) => c.type === 'cilium.io/IPAMRequestSatisfied');

before(ensureLabBundle);

describe('lab kubectl: the client contract', () => {
  let dir: string;
  let run: ReturnType<typeof runner>;
  let kc: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lab-kubectl-'));
    kc = await bootstrappedLab(path.join(dir, 'lab'), 'happy');
    run = runner(path.join(dir, 'lab'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('version --client -o json has the apimachinery version.Info shape', async () => {
    const r = await run('kubectl', ['version', '--client', '-o', 'json']);
    assert.equal(r.exitCode, 0);
    const v = JSON.parse(r.stdout);
    assert.equal(v.clientVersion.gitVersion, 'v1.32.3');
    assert.equal(v.clientVersion.major, '1');
    assert.match(v.kustomizeVersion, /^v5\./);
  });

  test('unknown flags and commands fail like cobra, exit 1', async () => {
    const f = await run('kubectl', ['get', 'pods', '--bogus'], { kubeconfig: kc['cluster-usa'] });
    assert.equal(f.exitCode, 1);
    assert.equal(f.stderr, "Error: unknown flag: --bogus\nSee 'kubectl get --help' for usage.");
    const c = await run('kubectl', ['frobnicate']);
    assert.equal(c.exitCode, 1);
    assert.match(c.stderr, /^Error: unknown command "frobnicate" for "kubectl"/);
  });

  test('no kubeconfig, or a cluster not bootstrapped: connection refused, exit 1', async () => {
    const none = await run('kubectl', ['get', 'nodes']);
    assert.equal(none.exitCode, 1);
    assert.match(none.stderr, /The connection to the server localhost:8080 was refused - did you specify the right host or port\?$/);
    // as kubectl v1.32.3 prints it: the discovery errors name the address localhost resolved to
    assert.match(none.stderr, /dial tcp 127\.0\.0\.1:8080: connect: connection refused"\n/);
    const noConfigCtx = await run('kubectl', ['get', 'nodes', '--context', 'admin@x']);
    assert.deepEqual([noConfigCtx.exitCode, noConfigCtx.stderr], [1, 'Error in configuration: context was not found for specified context: admin@x']);
    await withLabState(path.join(dir, 'lab'), (s) => {
      s.clusters['cluster-europe']!.bootstrappedAt = undefined;
    });
    const eu = await run('kubectl', ['get', 'nodes'], { kubeconfig: kc['cluster-europe'] });
    assert.equal(eu.exitCode, 1);
    assert.match(eu.stderr, /The connection to the server 10\.20\.0\.10:6443 was refused/);
    const ctx = await run('kubectl', ['get', 'nodes', '--context', 'nope'], { kubeconfig: kc['cluster-usa'] });
    assert.equal(ctx.exitCode, 1);
    assert.match(ctx.stderr, /context was not found for specified context: nope/);
  });

  test('nodes come from the fleet and stay NotReady until Cilium runs; NotFound is the apiserver text', async () => {
    const r = await run('kubectl', ['get', 'nodes', '-o', 'json'], { kubeconfig: kc['cluster-usa'] });
    assert.equal(r.exitCode, 0, r.stderr);
    const list = JSON.parse(r.stdout);
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((n: any) => n.metadata.name), ['usa-cp-1', 'usa-w-1']);
    assert.equal(list.items[0].metadata.labels['node-role.kubernetes.io/control-plane'], '');
    assert.equal(list.items[0].status.conditions[0].status, 'False');
    assert.match(r.stdout, /^\{\n {4}"apiVersion"/, '4-space indent like kubectl');
    const nf = await run('kubectl', ['get', 'svc', 'nope', '-n', 'kube-system', '-o', 'json'], { kubeconfig: kc['cluster-usa'] });
    assert.equal(nf.exitCode, 1);
    assert.equal(nf.stderr, 'Error from server (NotFound): services "nope" not found');
  });

  test('CRD kinds exist only after the operator registers them; apply reports created/unchanged/configured', async () => {
    const kcUsa = kc['cluster-usa']!;
    const early = await run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: pool('p', '  - cidr: 10.10.0.200/30\n') });
    assert.equal(early.exitCode, 1);
    assert.match(early.stderr, /no matches for kind "CiliumLoadBalancerIPPool" in version "cilium.io\/v2alpha1"\nensure CRDs are installed first/);
    await installCilium(run, kcUsa, dir);
    const docs = `${pool('p', '  - cidr: 10.10.0.200/30\n')}\n---\n${l2Policy()}`;
    const first = await run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: docs });
    assert.equal(first.stdout, 'ciliumloadbalancerippool.cilium.io/p created\nciliuml2announcementpolicy.cilium.io/l2 created');
    const again = await run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: docs });
    assert.equal(again.stdout, 'ciliumloadbalancerippool.cilium.io/p unchanged\nciliuml2announcementpolicy.cilium.io/l2 unchanged');
    const changed = await run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: pool('p', '  - cidr: 10.10.0.200/29\n') });
    assert.equal(changed.stdout, 'ciliumloadbalancerippool.cilium.io/p configured');
    const nodes = JSON.parse((await run('kubectl', ['get', 'nodes', '-o', 'json'], { kubeconfig: kcUsa })).stdout);
    assert.equal(nodes.items[0].status.conditions[0].status, 'True', 'Ready once the agents run');
  });

  test('wait: condition met, and the timeout text when it never is', async () => {
    const kcUsa = kc['cluster-usa']!;
    const ok = await run('kubectl', ['wait', '--for=condition=Established', 'crd/ciliuml2announcementpolicies.cilium.io', '--timeout=5s'], { kubeconfig: kcUsa });
    assert.equal(ok.stdout, 'customresourcedefinition.apiextensions.k8s.io/ciliuml2announcementpolicies.cilium.io condition met');
    const never = await run('kubectl', ['wait', '--for=condition=Bogus', 'crd/ciliumnodes.cilium.io', '--timeout=300ms'], { kubeconfig: kcUsa });
    assert.equal(never.exitCode, 1);
    assert.equal(never.stderr, 'error: timed out waiting for the condition on customresourcedefinitions/ciliumnodes.cilium.io');
    const missing = await run('kubectl', ['wait', '--for=condition=Established', 'crd/nope.cilium.io', '--timeout=1s'], { kubeconfig: kcUsa });
    assert.equal(missing.exitCode, 1);
    assert.equal(missing.stderr, 'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "nope.cilium.io" not found');
  });

  test('delete prints the kind and name; deleting twice is NotFound unless --ignore-not-found', async () => {
    const kcUsa = kc['cluster-usa']!;
    await run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: lbService('tmp') });
    const d = await run('kubectl', ['delete', 'service', 'tmp'], { kubeconfig: kcUsa });
    assert.equal(d.stdout, 'service "tmp" deleted');
    const again = await run('kubectl', ['delete', 'svc/tmp'], { kubeconfig: kcUsa });
    assert.equal(again.exitCode, 1);
    assert.equal(again.stderr, 'Error from server (NotFound): services "tmp" not found');
    assert.equal((await run('kubectl', ['delete', 'svc', 'tmp', '--ignore-not-found'], { kubeconfig: kcUsa })).exitCode, 0);
  });

  test('scale: deployment.apps/NAME scaled, the precondition and the flag errors as kubectl words them', async () => {
    const kcUsa = kc['cluster-usa']!;
    const deploy = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n';
    assert.equal((await run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: deploy })).exitCode, 0);
    const down = await run('kubectl', ['scale', 'deployment/web', '--replicas=0', '-n', 'default'], { kubeconfig: kcUsa });
    assert.equal(down.stdout, 'deployment.apps/web scaled');
    const got = await run('kubectl', ['get', 'deploy', 'web', '-o', 'json'], { kubeconfig: kcUsa });
    assert.equal(JSON.parse(got.stdout).spec.replicas, 0);
    const pre = await run('kubectl', ['scale', 'deploy', 'web', '--current-replicas=2', '--replicas=3'], { kubeconfig: kcUsa });
    assert.equal(pre.exitCode, 1);
    assert.equal(pre.stderr, 'error: Expected replicas to be 2, was 0');
    assert.equal((await run('kubectl', ['scale', 'deployment/web', '--replicas', '2'], { kubeconfig: kcUsa })).stdout, 'deployment.apps/web scaled');
    const none = await run('kubectl', ['scale', 'deployment/web'], { kubeconfig: kcUsa });
    assert.equal(none.stderr, 'error: required flag(s) "replicas" not set');
    const neg = await run('kubectl', ['scale', 'deployment/web', '--replicas=-1'], { kubeconfig: kcUsa });
    assert.equal(neg.stderr, 'error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
    const gone = await run('kubectl', ['scale', 'deployment/nope', '--replicas=1'], { kubeconfig: kcUsa });
    assert.equal(gone.stderr, 'Error from server (NotFound): deployments.apps "nope" not found');
  });
});

describe('lab LB-IPAM and L2 announcements (Cilium 1.16)', () => {
  let dir: string;
  let labDir: string;
  let run: ReturnType<typeof runner>;
  let kcUsa: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lab-lbipam-'));
    labDir = path.join(dir, 'lab');
    kcUsa = (await bootstrappedLab(labDir, 'happy'))['cluster-usa']!;
    run = runner(labDir);
    await installCilium(run, kcUsa, dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const apply = (yaml: string) => run('kubectl', ['apply', '-f', '-'], { kubeconfig: kcUsa, input: yaml });

  test('no pool at all: pending, and LB-IPAM (dormant) writes no condition', async () => {
    await apply(lbService('a'));
    const svc = await svcJson(run, kcUsa, 'a');
    assert.deepEqual(svc.status, { loadBalancer: {} });
    const table = await run('kubectl', ['get', 'svc', 'a'], { kubeconfig: kcUsa });
    assert.match(table.stdout, /LoadBalancer\s+10\.\d+\.\d+\.\d+\s+<pending>/);
  });

  test('a pool that does not select the service: still no_pool; requested IP in it: pool_selector_mismatch', async () => {
    await apply(pool('only-b', '  - start: 10.10.0.200\n    stop: 10.10.0.201\n', '  serviceSelector:\n    matchLabels: {app: b}\n'));
    const a = ipamCondition(await svcJson(run, kcUsa, 'a'));
    assert.deepEqual(
      { status: a.status, reason: a.reason, message: a.message },
      { status: 'False', reason: 'no_pool', message: 'There are no enabled CiliumLoadBalancerIPPools that match this service' },
    );
    await apply(lbService('c', "  annotations: {lbipam.cilium.io/ips: '10.10.0.201'}\n"));
    const c = ipamCondition(await svcJson(run, kcUsa, 'c'));
    assert.equal(c.reason, 'pool_selector_mismatch');
    assert.equal(c.message, "The pool with the CIDR containing '10.10.0.201', doesn't select this service");
  });

  test('a selecting pool assigns an IP, the pool counts it, and an eligible node takes the L2 lease', async () => {
    await apply(lbService('b'));
    const b = await svcJson(run, kcUsa, 'b');
    assert.equal(b.status.loadBalancer.ingress[0].ip, '10.10.0.200');
    assert.equal(ipamCondition(b).reason, 'satisfied');
    const p = JSON.parse((await run('kubectl', ['get', 'ippools', 'only-b', '-o', 'json'], { kubeconfig: kcUsa })).stdout);
    const msg = (t: string) => p.status.conditions.find((x: any) => x.type === t).message;
    assert.deepEqual([msg('cilium.io/IPsTotal'), msg('cilium.io/IPsAvailable'), msg('cilium.io/IPsUsed')], ['2', '1', '1']);
    assert.equal((await run('kubectl', ['get', 'lease', 'cilium-l2announce-default-b', '-n', 'kube-system'], { kubeconfig: kcUsa })).exitCode, 1, 'no policy yet: no lease');
    await apply(l2Policy());
    const lease = JSON.parse((await run('kubectl', ['get', 'lease', 'cilium-l2announce-default-b', '-n', 'kube-system', '-o', 'json'], { kubeconfig: kcUsa })).stdout);
    assert.equal(lease.spec.holderIdentity, 'usa-cp-1');
  });

  test('out of IPs; then nodes carrying exclude-from-external-load-balancers never announce; wrong subnet never announces', async () => {
    await apply(lbService('b2', '', 'b'));
    assert.equal((await svcJson(run, kcUsa, 'b2')).status.loadBalancer.ingress[0].ip, '10.10.0.201', 'the IP c asked for but could not take');
    await apply(lbService('b3', '', 'b'));
    const b2 = await svcJson(run, kcUsa, 'b3');
    assert.equal(ipamCondition(b2).reason, 'out_of_ips');
    assert.equal(ipamCondition(b2).message, 'All enabled CiliumLoadBalancerIPPools that match this service ran out of allocatable IPs');

    await apply(l2Policy('  nodeSelector:\n    matchExpressions:\n    - {key: node-role.kubernetes.io/control-plane, operator: Exists}\n'));
    await withLabState(labDir, (s) => {
      s.nodes['10.10.0.11']!.labels = { 'node.kubernetes.io/exclude-from-external-load-balancers': '' };
    });
    const gone = await run('kubectl', ['get', 'lease', 'cilium-l2announce-default-b', '-n', 'kube-system'], { kubeconfig: kcUsa });
    assert.equal(gone.exitCode, 1, 'the only selected node is excluded: no holder, no lease, no error');
    assert.equal((await svcJson(run, kcUsa, 'b')).status.loadBalancer.ingress[0].ip, '10.10.0.200', 'the IP stays assigned');

    await apply(l2Policy());
    await apply(pool('far', '  - cidr: 192.0.2.8/32\n', '  serviceSelector:\n    matchLabels: {app: far}\n'));
    await apply(lbService('far'));
    assert.equal((await svcJson(run, kcUsa, 'far')).status.loadBalancer.ingress[0].ip, '192.0.2.8');
    assert.equal((await run('kubectl', ['get', 'lease', 'cilium-l2announce-default-far', '-n', 'kube-system'], { kubeconfig: kcUsa })).exitCode, 1);
    const near = await run('kubectl', ['get', 'lease', 'cilium-l2announce-default-b', '-n', 'kube-system', '-o', 'json'], { kubeconfig: kcUsa });
    assert.equal(JSON.parse(near.stdout).spec.holderIdentity, 'usa-w-1', 'the worker announces once the policy selects it');
  });

  test('lb-pending fault: the first pool is held by default/legacy-ingress; a bigger pool frees new IPs', async () => {
    const d2 = mkdtempSync(path.join(os.tmpdir(), 'lab-lbpending-'));
    try {
      const kcs = await bootstrappedLab(path.join(d2, 'lab'), 'lb-pending');
      const r2 = runner(path.join(d2, 'lab'));
      const kcEu = kcs['cluster-europe']!;
      const values = path.join(d2, 'values.yaml');
      writeFileSync(values, BASE_VALUES.replace('cluster-usa, id: 1', 'cluster-europe, id: 2'));
      assert.equal((await r2('helm', ['upgrade', '--install', 'cilium', 'cilium/cilium', '-n', 'kube-system', '-f', values, '--wait'], { kubeconfig: kcEu })).exitCode, 0);
      await r2('kubectl', ['wait', '--for=condition=Established', 'crd/ciliumloadbalancerippools.cilium.io'], { kubeconfig: kcEu });
      await r2('kubectl', ['apply', '-f', '-'], { kubeconfig: kcEu, input: pool('eu', '  - cidr: 10.20.0.240/30\n') });
      await r2('kubectl', ['apply', '-f', '-'], { kubeconfig: kcEu, input: lbService('x') });
      assert.equal(ipamCondition(await svcJson(r2, kcEu, 'x')).reason, 'out_of_ips');
      const legacy = await svcJson(r2, kcEu, 'legacy-ingress');
      assert.equal(legacy.status.loadBalancer.ingress.length, 4);
      await r2('kubectl', ['apply', '-f', '-'], { kubeconfig: kcEu, input: pool('eu', '  - cidr: 10.20.0.240/30\n  - cidr: 10.20.0.250/31\n') });
      assert.equal((await svcJson(r2, kcEu, 'x')).status.loadBalancer.ingress[0].ip, '10.20.0.250');
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  test('every call is in the call log with argv and exit code', () => {
    const calls = readCalls(labDir);
    assert.ok(callsMatching(calls, 'kubectl', ['apply']).length >= 8, JSON.stringify(calls.slice(0, 3)));
    assert.ok(calls.every((c) => typeof c.durationMs === 'number'));
    assert.equal(callsMatching(calls, 'helm', ['upgrade']).length, 1);
  });
});
