// N-cluster blueprints for the benchmark, derived from the seed's example so they stay valid as the schema grows.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { projectRoot } from '../config/env.ts';
import { formatIssue, loadBlueprintText } from '../blueprint/load.ts';
import { planRollout, type RolloutPlan } from '../blueprint/plan.ts';

const SEED = path.join(projectRoot, 'examples', 'usa-europe.yaml');

/** The largest N whose CIDRs stay unique under the scheme below (10.N pods, 10.(96+N) services, 192.168.N nodes). */
export const MAX_BENCH_CLUSTERS = 95;

export const benchClusterName = (i: number) => `bench-c${String(i).padStart(2, '0')}`;

/**
 * One control plane and one worker per cluster: the fleet stays small enough that 16 clusters fit on two
 * cores, and every step of the rollout still runs (bootstrap, etcd gate on one member, LB-IPAM, mesh).
 * Each cluster gets its own site and region, so clusters are independent the way the seed's are.
 */
export function benchBlueprintYaml(clusters: number): string {
  if (!Number.isInteger(clusters) || clusters < 2 || clusters > MAX_BENCH_CLUSTERS) {
    throw new Error(`clusters: expected an integer from 2 to ${MAX_BENCH_CLUSTERS}, got ${clusters}`);
  }
  const seed = parse(readFileSync(SEED, 'utf8'));
  const template = seed.clusters[0];
  seed.metadata = { name: `bench-${clusters}`, description: `benchmark mesh of ${clusters} clusters (1 CP + 1 worker each)` };
  seed.clusters = Array.from({ length: clusters }, (_, k) => {
    const i = k + 1;
    const name = benchClusterName(i);
    const node = (role: 'controlplane' | 'worker', host: number, nodeName: string) => ({
      name: nodeName,
      role,
      address: `192.168.${i}.${host}`,
      installDisk: '/dev/nvme0n1',
      bmc: { endpoint: `https://10.0.${i}.${host}`, credentialsRef: `bmc/${nodeName}` },
    });
    return {
      ...structuredClone(template),
      name,
      id: i,
      region: `r${i}`,
      site: `s${i}`,
      endpoint: `https://192.168.${i}.10:6443`,
      network: { podSubnets: [`10.${i}.0.0/16`], serviceSubnets: [`10.${96 + i}.0.0/16`], nodeSubnets: [`192.168.${i}.0/24`] },
      loadBalancer: { ...template.loadBalancer, pool: [{ cidr: `192.168.${i}.240/28` }] },
      clustermesh: { apiserverIP: `192.168.${i}.241` },
      nodes: [node('controlplane', 11, `c${i}-cp-1`), node('worker', 21, `c${i}-worker-1`)],
    };
  });
  for (const p of seed.policies ?? []) for (const from of p.allowFrom ?? []) from.cluster = benchClusterName(1);
  return stringify(seed);
}

/** The plan meshpilot would roll out for an N-cluster bench mesh; `revision` keeps repeated runs apart. */
export function benchPlan(clusters: number, revisionSuffix: string): RolloutPlan {
  const text = benchBlueprintYaml(clusters);
  const loaded = loadBlueprintText(text);
  if (!loaded.ok || !loaded.blueprint) {
    throw new Error(`generated ${clusters}-cluster blueprint is invalid:\n${loaded.errors.map((e) => formatIssue('(bench)', e)).join('\n')}`);
  }
  const plan = planRollout(loaded.blueprint);
  plan.revision = `${plan.revision}-${revisionSuffix}`;
  return plan;
}
