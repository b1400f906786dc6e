import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { createLab, type FleetSpec } from '../fleet.ts';
import type { ScenarioName } from '../scenarios.ts';
import { withLabState } from '../state.ts';

/**
 * Test support for the Kubernetes-side lab tools: a lab whose clusters are already past `talosctl bootstrap`
 * (nodes running, labels as given) with a kubeconfig per cluster shaped like the one `talosctl kubeconfig`
 * writes (cluster = Talos cluster name, context `admin@<cluster>`). Lets helm/kubectl/cilium be tested on
 * their own.
 */
export const TWO_SITE_FLEET: FleetSpec = {
  clusters: [
    {
      name: 'cluster-usa',
      endpoint: '10.10.0.10:6443',
      nodes: [
        { name: 'usa-cp-1', address: '10.10.0.11', site: 'usa', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'usa-w-1', address: '10.10.0.21', site: 'usa', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
    {
      name: 'cluster-europe',
      endpoint: '10.20.0.10:6443',
      nodes: [
        { name: 'eu-cp-1', address: '10.20.0.11', site: 'europe', role: 'controlplane', installDisk: '/dev/sda' },
        { name: 'eu-w-1', address: '10.20.0.21', site: 'europe', role: 'worker', installDisk: '/dev/sda' },
      ],
    },
  ],
  siteRttMs: { usa: { europe: 80 } },
};

export function kubeconfigYaml(cluster: string, endpoint: string): string {
  const ctx = `admin@${cluster}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: `https://${endpoint}`, 'certificate-authority-data': 'TEFCLUNB' } }],
    users: [{ name: ctx, user: { 'client-certificate-data': 'TEFCLUNFUlQ=', 'client-key-data': 'TEFCLUtFWQ==' } }],
    contexts: [{ name: ctx, context: { cluster, namespace: 'default', user: ctx } }],
    'current-context': ctx,
  });
}

/** Creates the lab and returns kubeconfig paths by cluster name. */
export async function bootstrappedLab(
  dir: string,
  scenario: ScenarioName,
  opts: { fleet?: FleetSpec; cpLabels?: Record<string, string>; podCidrs?: Record<string, string>; serviceCidrs?: Record<string, string[]> } = {},
): Promise<Record<string, string>> {
  const fleet = opts.fleet ?? TWO_SITE_FLEET;
  createLab(dir, fleet, { scenario });
  const kubeconfigs: Record<string, string> = {};
  await withLabState(dir, (s) => {
    const past = Date.now() - 60_000;
    for (const c of Object.values(s.clusters)) {
      c.bootstrappedAt = past;
      c.bootstrapCount = 1;
      if (opts.podCidrs?.[c.name]) c.extra.podCidr = opts.podCidrs[c.name];
      if (opts.serviceCidrs?.[c.name]) c.extra.serviceCidrs = opts.serviceCidrs[c.name];
    }
    for (const n of Object.values(s.nodes)) {
      n.stage = 'running';
      n.stageSince = past;
      if (n.role === 'controlplane') n.labels = { ...(opts.cpLabels ?? {}) };
    }
  });
  for (const c of fleet.clusters) {
    const p = path.join(dir, `kubeconfig-${c.name}`);
    writeFileSync(p, kubeconfigYaml(c.name, c.endpoint), { mode: 0o600 });
    kubeconfigs[c.name] = p;
  }
  return kubeconfigs;
}

/** ActivityDeps for adapter tests: the lab tools first on PATH, an encrypted store in `work`, kubeconfigs stored. */
export async function labActivityDeps(work: string, labDir: string, kubeconfigs: Record<string, string>, pollBudgetMs = 3_000) {
  const { randomBytes } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const { EncryptedFileSecretStore } = await import('../../secrets/encrypted-file-store.ts');
  const { secretRefs } = await import('../../activities/deps.ts');
  const bin = path.resolve(import.meta.dirname, '../bin');
  const secrets = new EncryptedFileSecretStore(path.join(work, 'secrets'), randomBytes(32));
  const refs: Record<string, string> = {};
  for (const [cluster, file] of Object.entries(kubeconfigs)) {
    refs[cluster] = secretRefs.kubeconfig('lab', cluster);
    await secrets.put(refs[cluster], readFileSync(file));
  }
  const deps = {
    tools: { env: { PATH: `${bin}:${process.env.PATH}`, MESHPILOT_LAB_DIR: labDir, HOME: work }, cwd: work },
    secrets,
    workDir: work,
    etcdMetricsUrl: (a: string, p: number) => `http://${a}:${p}/metrics`,
    pollBudgetMs,
  };
  return { deps, refs };
}
