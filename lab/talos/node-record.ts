import { z } from 'zod';
import type { LabCluster, LabState } from '../state.ts';

/**
 * What a node's applied machine config says, as far as the rest of the lab cares. Kept in the cluster's
 * `extra.talos` (the state schema strips unknown node fields), keyed by node address.
 */
export const talosNodeRecordSchema = z.object({
  /** sha256 of machine.ca.crt: apid serves a cert from this CA; a talosconfig with another CA fails x509 */
  osCaSha: z.string(),
  clusterName: z.string(),
  machineType: z.enum(['controlplane', 'worker']),
  installDisk: z.string(),
  /** set when the installer cannot proceed (e.g. the install disk does not exist): the node never leaves installing */
  installError: z.string().optional(),
});
export type TalosNodeRecord = z.infer<typeof talosNodeRecordSchema>;

const talosExtraSchema = z.object({ nodes: z.record(z.string(), talosNodeRecordSchema).default({}) });

function talosExtra(cluster: LabCluster): z.infer<typeof talosExtraSchema> {
  const parsed = talosExtraSchema.parse(cluster.extra.talos ?? {});
  cluster.extra.talos = parsed;
  return parsed;
}

export function nodeRecord(state: LabState, address: string): TalosNodeRecord | undefined {
  const node = state.nodes[address];
  const cluster = node && state.clusters[node.cluster];
  return cluster ? talosExtraSchema.parse(cluster.extra.talos ?? {}).nodes[address] : undefined;
}

export function setNodeRecord(state: LabState, address: string, rec: TalosNodeRecord): void {
  const node = state.nodes[address];
  const cluster = node && state.clusters[node.cluster];
  if (!cluster) throw new Error(`lab: node ${address} belongs to no cluster`);
  talosExtra(cluster).nodes[address] = rec;
}
