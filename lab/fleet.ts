import { mkdirSync, rmSync } from 'node:fs';
import { z } from 'zod';
import { scenarioFaults, type ScenarioName } from './scenarios.ts';
import { writeLabState, type LabState } from './state.ts';

/** What a lab is built from: clusters with nodes at sites, and the round-trip times between sites. */
export const fleetSpecSchema = z.object({
  clusters: z.array(
    z.object({
      name: z.string(),
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
  for (const c of fleet.clusters) {
    state.clusters[c.name] = { name: c.name, endpoint: c.endpoint, bootstrapCount: 0, kube: {}, helm: {}, extra: {} };
    for (const n of c.nodes) {
      state.nodes[n.address] = {
        ...n,
        cluster: c.name,
        stage: opts.initialStage ?? 'maintenance',
        stageSince: now,
        reachable: true,
        labels: {},
      };
    }
  }
  writeLabState(dir, state);
  return state;
}
