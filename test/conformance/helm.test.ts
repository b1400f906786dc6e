// The lab's helm held to the real Helm 3.16.4 with the real Cilium 1.16.19 chart (both from the Go module proxy,
// scripts/setup.d/tests/50-helm-chart.sh): the values the chart refuses (values.schema.json, templates/validate.yaml),
// with the chart's own messages and positions, and the workloads it renders. The lab carries a small table of the
// chart (lab/kube/chart-validation.ts) because the demo never fetches the chart; this test reads the real chart
// and fails when the table and the chart part ways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parse, parseAllDocuments } from 'yaml';
import { blueprintSchema } from '../../blueprint/schema.ts';
import { planRollout } from '../../blueprint/plan.ts';
import { CHART_DEFAULTS, MODELLED_CHART_VERSION, RULE_POSITIONS, SCHEMA_TYPES } from '../../lab/kube/chart-validation.ts';
import { ensureLabBundle } from '../../lab/bundle.ts';
import { bootstrappedLab } from '../../lab/kube/test-fixture.ts';
import { helmArgv } from '../../activities/helm/argv.ts';
import { X509Certificate } from 'node:crypto';
import { issueCert } from '../../lab/kube/certs.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HELM = path.join(ROOT, '.tools/bin/helm');
const CHARTS = path.join(ROOT, '.tools/charts');
const CHART = path.join(CHARTS, `cilium-${MODELLED_CHART_VERSION}.tgz`);
const LAB_HELM = path.join(ROOT, 'lab/bin/helm');
const KUBE_VERSION = '1.32.3';
const EXAMPLES = ['usa-europe', 'usa-europe-pool-fixed', 'three-regions'] as const;

let work: string;
let labDir: string;
let kubeconfig: string;
let fileNo = 0;

before(ensureLabBundle);
before(async () => {
  assert.ok(existsSync(HELM) && existsSync(CHART), `helm ${HELM} or the chart ${CHART} is missing: run bash scripts/setup.d/tests/50-helm-chart.sh (or scripts/setup.sh --all)`);
  work = mkdtempSync(path.join(os.tmpdir(), 'conformance-helm-'));
  labDir = path.join(work, 'lab-state');
  kubeconfig = (await bootstrappedLab(labDir, 'happy'))['cluster-usa']!;
});
after(() => rmSync(work, { recursive: true, force: true }));

const chartFile = (name: string) => execa('tar', ['-xzOf', CHART, `cilium/${name}`]).then((r) => r.stdout);

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function valuesFile(v: unknown): string {
  const f = path.join(work, `values-${fileNo++}.yaml`);
  writeFileSync(f, JSON.stringify(v));
  return f;
}

async function run(bin: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  const home = path.join(work, 'helm-home');
  mkdirSync(home, { recursive: true });
  const r = await execa(bin, args, {
    reject: false,
    timeout: 120_000,
    env: { HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home, MESHPILOT_LAB_DIR: labDir, KUBECONFIG: kubeconfig, PATH: process.env.PATH, ...env },
    extendEnv: false,
    stripFinalNewline: false,
    ...(input === undefined ? {} : { input }),
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `helm template` of the real chart and of the lab's, with the same values files in order. */
async function template(values: unknown[], labEnv: Record<string, string> = {}) {
  const files = values.flatMap((v) => ['--values', valuesFile(v)]);
  const args = ['template', 'cilium', CHART, '--namespace', 'kube-system', '--kube-version', KUBE_VERSION, ...files];
  const [real, lab] = await Promise.all([run(HELM, args), run(LAB_HELM, args, labEnv)]);
  return { real, lab };
}

/** helm's error, schema violations as a set (their order is Go map order); warnings from coalescing dropped */
function refusal(r: Run): { head: string; lines: string[] } {
  const err = r.stderr.slice(r.stderr.indexOf('Error: '));
  const [head, ...rest] = err.split('\n');
  const lines = rest.filter((l) => l.startsWith('- ')).sort();
  return { head: `${head}\n${rest.filter((l) => !l.startsWith('- ')).join('\n')}`, lines };
}

const workloads = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((o) => o && ['DaemonSet', 'Deployment'].includes(o.kind ?? ''))
    .map((o) => `${o!.kind}/${o!.metadata!.name}`)
    .sort();

const planOf = (name: string) => planRollout(blueprintSchema.parse(parse(readFileSync(path.join(ROOT, 'examples', `${name}.yaml`), 'utf8'))));

describe('helm: the lab against the real Helm 3.16.4 and Cilium 1.16.19 chart', () => {
  test("the lab's table of the chart: every type, default and rule position is the real chart's", async () => {
    const schema = JSON.parse(await chartFile('values.schema.json'));
    const defaults = parse(await chartFile('values.yaml'));
    const typeAt = (p: string) => p.split('.').reduce((n: any, k) => n?.properties?.[k], schema)?.type;
    for (const [p, t] of Object.entries(SCHEMA_TYPES)) assert.deepEqual(typeAt(p), t, `values.schema.json type of ${p}`);
    const leaves = (o: Record<string, unknown>, prefix = ''): Array<[string, unknown]> =>
      Object.entries(o).flatMap(([k, v]) =>
        v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length ? leaves(v as Record<string, unknown>, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
      );
    for (const [p, v] of leaves(CHART_DEFAULTS)) {
      assert.deepEqual(
        p.split('.').reduce((n: any, k) => n?.[k], defaults),
        v,
        `values.yaml default of ${p}`,
      );
    }
    const lines = (await chartFile('templates/validate.yaml')).split('\n');
    for (const [line, col] of RULE_POSITIONS) assert.equal(lines[line - 1]!.indexOf('fail'), col, `validate.yaml:${line}: a fail at column ${col}`);
  });

  for (const name of EXAMPLES) {
    test(`every values set the rollout applies is taken by both, with the same workloads: ${name}`, async () => {
      const plan = planOf(name);
      for (const c of plan.clusters) {
        for (const [what, values] of [
          ['cilium-install', [c.cilium.values]],
          ['clustermesh-enable', [c.cilium.values, c.cilium.clustermeshValues]],
          ['connect', [c.cilium.values, c.cilium.clustermeshValues, plan.meshPhase.peerValues[c.name]!]],
        ] as const) {
          const r = await template([...values]);
          assert.equal(r.real.exitCode, 0, `${c.name} ${what}: the real chart takes the values (${r.real.stderr})`);
          assert.equal(r.lab.exitCode, 0, `${c.name} ${what}: the lab takes them (${r.lab.stderr})`);
          assert.deepEqual(workloads(r.lab.stdout), workloads(r.real.stdout), `${c.name} ${what}: DaemonSets and Deployments`);
        }
      }
    });
  }

  const BAD: Record<string, unknown> = {
    'maxConnectedClusters 300': { clustermesh: { maxConnectedClusters: 300 } },
    'ipam.mode 7': { ipam: { mode: 7 } },
    'cluster.id one': { cluster: { name: 'c1', id: 'one' } },
    'several type errors at once': { ipam: { mode: 7 }, cluster: { id: 'x' }, operator: { replicas: 'two' }, hubble: { relay: { enabled: 3 } } },
    'a section that is not a map': { clustermesh: { apiserver: 5 } },
    'a list where a string goes, and the other way round': { k8sServicePort: true, securityContext: { capabilities: { ciliumAgent: 'NET_ADMIN' } } },
    'an upper-case cluster name': { cluster: { name: 'Cluster_USA', id: 1 } },
    'a cluster name over 32 characters': { cluster: { name: 'a-very-long-cluster-name-for-the-usa-region', id: 1 } },
    'an empty cluster name': { cluster: { name: '', id: 1 } },
    'the default name with an ID': { cluster: { id: 3 } },
    'clustermesh-apiserver with kvstore identities': { clustermesh: { useAPIServer: true }, identityAllocationMode: 'kvstore' },
    'clustermesh-apiserver without endpoint CRDs': { clustermesh: { useAPIServer: true }, disableEndpointCRD: true },
    'Hubble Relay without Hubble': { hubble: { enabled: false, relay: { enabled: true } } },
    'Hubble UI without Relay': { hubble: { ui: { enabled: true } } },
    'a removed option (tunnel)': { tunnel: 'vxlan' },
    'cert-manager without an issuer': { clustermesh: { useAPIServer: true, apiserver: { tls: { auto: { method: 'certmanager' } } } } },
    'an ENI cluster ID in the affected range': { cluster: { name: 'c1', id: 200 }, eni: { enabled: true } },
    'envoy.baseID out of range': { envoy: { baseID: -1 } },
    'upgradeCompatibility 1.15 lifts the name rule, not the others': { upgradeCompatibility: '1.15', cluster: { name: 'Old_Name', id: 1 }, clustermesh: { maxConnectedClusters: 300 } },
  };

  test('values the chart refuses: the same error, message and position', async () => {
    for (const [what, values] of Object.entries(BAD)) {
      const r = await template([values]);
      assert.equal(r.real.exitCode, 1, `${what}: the real chart refuses it`);
      assert.equal(r.lab.exitCode, 1, `${what}: the lab refuses it (${r.lab.stdout.slice(0, 200)})`);
      assert.deepEqual(refusal(r.lab), refusal(r.real), what);
    }
    const fine = await template([{ cluster: { name: 'c1', id: 511 }, clustermesh: { maxConnectedClusters: 511 } }]);
    assert.equal(fine.real.exitCode, 0, fine.real.stderr);
    assert.equal(fine.lab.exitCode, 0, fine.lab.stderr);
  });

  test("upgrade --install in the lab: the chart's message with helm's prefix for the operation", async () => {
    const args = (values: unknown, ...more: string[]) => [
      'upgrade',
      '--install',
      'cilium',
      'cilium/cilium',
      '--version',
      MODELLED_CHART_VERSION,
      '-n',
      'kube-system',
      '-f',
      valuesFile(values),
      ...more,
    ];
    const bad = { cluster: { name: 'c1', id: 1 }, clustermesh: { maxConnectedClusters: 300 } };
    const expected = refusal((await template([bad])).real)
      .head.split('\n')[0]!
      .replace(/^Error: /, '');
    // a release that does not exist yet: the install runs and its error is returned unwrapped
    const first = await run(LAB_HELM, args(bad));
    assert.equal(first.exitCode, 1);
    assert.equal(first.stdout, 'Release "cilium" does not exist. Installing it now.\n');
    assert.equal(first.stderr, `Error: ${expected}\n`);
    const ok = await run(LAB_HELM, args({ cluster: { name: 'c1', id: 1 } }));
    assert.equal(ok.exitCode, 0, ok.stderr);
    const again = await run(LAB_HELM, args(bad));
    assert.equal(again.stderr, `Error: UPGRADE FAILED: ${expected}\n`);
    const status = JSON.parse((await run(LAB_HELM, ['status', 'cilium', '-n', 'kube-system', '-o', 'json'])).stdout);
    assert.equal(status.version, 1, 'a refused upgrade records no revision');
    const typed = await run(LAB_HELM, ['install', 'other', 'cilium/cilium', '-n', 'kube-system', '--set', 'ipam.mode=7']);
    assert.match(
      typed.stderr,
      /^Error: INSTALLATION FAILED: values don't meet the specifications of the schema\(s\) in the following chart\(s\):\ncilium:\n- ipam.mode: Invalid type\. Expected: string, given: integer\n/,
    );
  });

  test('given the real chart, the lab reports what the real chart says, also beyond its table', async () => {
    const outside = { bpf: { masquerade: 'yes' }, hubble: { relay: { retryTimeout: [] } } };
    const withoutChart = await template([outside]);
    assert.equal(withoutChart.real.exitCode, 1);
    assert.equal(withoutChart.lab.exitCode, 0, 'the table does not know these paths');
    const withChart = await template([outside], { MESHPILOT_LAB_HELM: HELM, MESHPILOT_LAB_CHARTS: CHARTS });
    assert.equal(withChart.lab.exitCode, 1);
    assert.deepEqual(refusal(withChart.lab), refusal(withChart.real));
  });
  test('every helm command the activities run: with no cluster to reach, the same answer', async () => {
    // no kubeconfig at all: client-go's default server, where nothing listens; the values files exist
    const values = valuesFile({ cluster: { name: 'cluster-usa', id: 1 } });
    const cases: Array<[string, string[]]> = [
      ['history', helmArgv.history()],
      ['get values', helmArgv.getValues()],
      ['get values --kube-context', helmArgv.getValues('admin@cluster-usa')],
      ['rollback', helmArgv.rollback(1)],
      ['uninstall', helmArgv.uninstall()],
      ['upgrade --install', helmArgv.install(MODELLED_CHART_VERSION, values, false)],
      ['upgrade --install, secret values on stdin', helmArgv.install(MODELLED_CHART_VERSION, values, true)],
    ];
    for (const [what, args] of cases) {
      const [real, lab] = await Promise.all([run(HELM, args, { KUBECONFIG: '' }, ''), run(LAB_HELM, args, { KUBECONFIG: '' }, '')]);
      // the command line parses: the real helm gets as far as the cluster
      assert.match(real.stderr, /Kubernetes cluster unreachable/, `${what}: the real helm (${real.stderr})`);
      assert.equal(lab.exitCode, real.exitCode, `${what}: exit code`);
      assert.equal(lab.stderr, real.stderr, `${what}: stderr`);
      assert.equal(lab.stdout, real.stdout, `${what}: stdout`);
    }
    // a plain upgrade locates the chart before it asks the cluster, and this machine has no route to the repository:
    // the real helm gets as far as the download (its command line parses); the lab has no repository to miss
    const reuse = await run(HELM, helmArgv.reuseValues(MODELLED_CHART_VERSION, values), { KUBECONFIG: '' });
    assert.match(reuse.stderr, /^Error: (looks like "https:\/\/helm\.cilium\.io\/" is not a valid chart repository or cannot be reached|UPGRADE FAILED: Kubernetes cluster unreachable)/, reuse.stderr);
  });
  test('ClusterMesh TLS: the Secrets, names, issuers, SANs, validity and usages the real chart issues', async () => {
    const ca = issueCert({ cn: 'Cilium CA conformance', days: 3650 });
    const other = issueCert({ cn: 'Cilium CA next', days: 3650 });
    const b64 = (x: string) => Buffer.from(x).toString('base64');
    const cases = [
      {
        cluster: { name: 'cluster-usa', id: 1 },
        clustermesh: { useAPIServer: true },
        tls: { ca: { cert: b64(ca.cert), key: b64(ca.key) }, caBundle: { enabled: true, content: `${ca.cert}${other.cert}` } },
      },
      {
        cluster: { name: 'cluster-europe', id: 2 },
        clustermesh: { useAPIServer: true, apiserver: { tls: { authMode: 'cluster', auto: { certValidityDuration: 30 }, server: { extraDnsNames: ['mesh.example.com'], extraIpAddresses: ['192.168.20.240'] } } } },
        externalWorkloads: { enabled: true },
        tls: { ca: { cert: b64(ca.cert), key: b64(ca.key) } },
      },
    ];
    const tlsObjects = (yaml: string) =>
      parseAllDocuments(yaml)
        .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string }; type?: string; data?: Record<string, string> } | null)
        .filter((o) => o && ['Secret', 'ConfigMap'].includes(o.kind ?? '') && /^(cilium-ca|clustermesh-apiserver-.*-cert|cilium-root-ca\.crt)$/.test(o.metadata?.name ?? ''))
        .map((o) => {
          const data = o!.data ?? {};
          const cert = data['tls.crt'] ? new X509Certificate(Buffer.from(data['tls.crt'], 'base64')) : undefined;
          return {
            id: `${o!.kind}/${o!.metadata!.name}`,
            type: o!.type,
            keys: Object.keys(data).sort(),
            ...(data['ca.crt'] && o!.kind === 'Secret' ? { caIsTheGivenCa: Buffer.from(data['ca.crt'], 'base64').toString() === ca.cert } : {}),
            ...(o!.kind === 'ConfigMap' ? { bundle: data['ca.crt'] } : {}),
            ...(cert
              ? {
                  subject: cert.subject,
                  issuer: cert.issuer,
                  san: cert.subjectAltName,
                  ca: cert.ca,
                  extKeyUsage: cert.keyUsage,
                  days: Math.round((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000),
                  signedByCa: cert.checkIssued(new X509Certificate(ca.cert)),
                }
              : {}),
          };
        })
        .sort((a, b) => a.id.localeCompare(b.id));
    for (const values of cases) {
      const { real, lab } = await template([values]);
      assert.equal(real.exitCode, 0, real.stderr);
      assert.equal(lab.exitCode, 0, lab.stderr);
      const want = tlsObjects(real.stdout);
      assert.ok(want.some((o) => o.id === 'Secret/clustermesh-apiserver-server-cert'), 'the real chart issues a server certificate');
      assert.deepEqual(tlsObjects(lab.stdout), want, values.cluster.name);
    }
  });
});
