import { mkdirSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { scenarioFaults, type ScenarioName } from './scenarios.ts';
import { labExists, withLabState, writeLabState, type LabNode, type LabState } from './state.ts';

/** What a lab is built from: clusters with nodes at sites, and the round-trip times between sites. */
export const fleetSpecSchema = z.object({
  clusters: z.array(
    z.object({
      name: z.string(),
      /** the blueprint's cluster ID (scenarios that concern identity read it) */
      id: z.number().int().optional(),
      endpoint: z.string(),
      nodes: z.array(
        z.object({
          name: z.string(),
          address: z.string(),
          site: z.string(),
          role: z.enum(['controlplane', 'worker']),
          installDisk: z.string().default('/dev/sda'),
        }),
      ),
    }),
  ),
  /** round trip in ms between two sites (symmetric); a site to itself defaults to 1 ms */
  siteRttMs: z.record(z.string(), z.record(z.string(), z.number())).default({}),
});
export type FleetSpec = z.infer<typeof fleetSpecSchema>;

export interface CreateLabOptions {
  scenario: ScenarioName;
  toolLatencyMs?: number;
  /** nodes start powered off (boot via BMC) or already in Talos maintenance mode (boot provider `none`) */
  initialStage?: 'off' | 'maintenance';
}

/** A fresh cluster record and its nodes, as a blueprint describes them (powered off or in maintenance mode). */
function addCluster(state: LabState, c: FleetSpec['clusters'][number], stage: LabNode['stage'], now: number): void {
  state.clusters[c.name] = { name: c.name, endpoint: c.endpoint, bootstrapCount: 0, kube: {}, helm: {}, extra: {} };
  for (const n of c.nodes) state.nodes[n.address] = { ...n, cluster: c.name, stage, stageSince: now, reachable: true, labels: {} };
}

/** Creates (or re-creates) a lab directory holding a fresh simulated fleet. */
export function createLab(dir: string, fleetInput: FleetSpec, opts: CreateLabOptions): LabState {
  const fleet = fleetSpecSchema.parse(fleetInput);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const now = Date.now();
  const state: LabState = {
    version: 1,
    scenario: opts.scenario,
    toolLatencyMs: opts.toolLatencyMs ?? 0,
    createdAt: now,
    siteRttMs: fleet.siteRttMs,
    faults: scenarioFaults(opts.scenario, fleet),
    nodes: {},
    clusters: {},
    counters: {},
  };
  for (const c of fleet.clusters) addCluster(state, c, opts.initialStage ?? 'maintenance', now);
  writeLabState(dir, state);
  return state;
}

/** The lab already holds a cluster of that name with other nodes, or a node at an address a new cluster uses. */
export class LabConflictError extends Error {
  override name = 'LabConflictError';
}

export interface ExtendedLab {
  state: LabState;
  /** clusters the lab held already, left exactly as they were */
  kept: string[];
  added: string[];
  /** clusters the lab holds that the blueprint does not list (a detached cluster, another mesh): left alone too */
  unlisted: string[];
}

const nodeKey = (n: { name: string; address: string; role: string }) => `${n.name} ${n.address} ${n.role}`;

/**
 * `lab init` on a lab that exists: the clusters it holds stay exactly as they are (nodes, stages, releases, objects,
 * the call log) and the blueprint's other clusters are added, so a join is rehearsed as `lab init` of the bigger
 * blueprint, then `rollout` of it. The scenario, its faults and the tool latency are the lab's knobs: they take the
 * given values from now on. A cluster the lab holds with other nodes is refused, never silently rebuilt.
 */
export async function extendLab(dir: string, fleetInput: FleetSpec, opts: CreateLabOptions): Promise<ExtendedLab> {
  const fleet = fleetSpecSchema.parse(fleetInput);
  if (!labExists(dir)) return { state: createLab(dir, fleet, opts), kept: [], added: fleet.clusters.map((c) => c.name), unlisted: [] };
  return withLabState(dir, (state) => {
    const kept: string[] = [];
    const added: string[] = [];
    for (const c of fleet.clusters) {
      if (!state.clusters[c.name]) continue;
      const have = Object.values(state.nodes)
        .filter((n) => n.cluster === c.name)
        .map(nodeKey)
        .sort();
      const want = c.nodes.map(nodeKey).sort();
      if (JSON.stringify(have) !== JSON.stringify(want)) {
        throw new LabConflictError(
          `the lab holds cluster ${c.name} with other nodes (${have.join(', ')}) than the blueprint (${want.join(', ')}): a lab cluster is never rebuilt in place; use --fresh to start a new lab`,
        );
      }
    }
    for (const c of fleet.clusters) {
      if (state.clusters[c.name]) continue;
      const taken = c.nodes.find((n) => state.nodes[n.address]);
      if (taken)
        throw new LabConflictError(
          `node ${taken.name} of new cluster ${c.name} has address ${taken.address}, which lab node ${state.nodes[taken.address]!.name} of ${state.nodes[taken.address]!.cluster} holds`,
        );
    }
    const now = Date.now();
    for (const c of fleet.clusters) {
      if (state.clusters[c.name]) kept.push(c.name);
      else {
        addCluster(state, c, opts.initialStage ?? 'maintenance', now);
        added.push(c.name);
      }
    }
    for (const [a, row] of Object.entries(fleet.siteRttMs)) {
      for (const [b, ms] of Object.entries(row)) (state.siteRttMs[a] ??= {})[b] ??= ms;
    }
    state.scenario = opts.scenario;
    state.faults = scenarioFaults(opts.scenario, fleet);
    state.toolLatencyMs = opts.toolLatencyMs ?? 0;
    const listed = new Set(fleet.clusters.map((c) => c.name));
    return { state: structuredClone(state), kept, added, unlisted: Object.keys(state.clusters).filter((n) => !listed.has(n)) };
  });
}
