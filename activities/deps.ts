import type { SecretStore } from '../secrets/store.ts';
import type { ToolEnvironment } from './exec/run-tool.ts';

/**
 * What every activity gets from the worker (built once in workers/, passed to createActivities).
 * Adapters are plain functions `(deps, input) => Promise<output>`: testable without Temporal.
 */
export interface ActivityDeps {
  /** child-process environment: PATH has the lab's simulated tools first in lab mode */
  tools: ToolEnvironment;
  secrets: SecretStore;
  /** worker-local scratch space for non-secret files (rendered manifests, values) */
  workDir: string;
  /** etcd metrics URL for a control-plane node (real: http://ADDRESS:2381/metrics; lab: the lab's loopback server) */
  etcdMetricsUrl: (address: string, port: number) => string;
  /** how long blocking checks poll before they report `blocked` (LB address, maintenance mode, ...) */
  pollBudgetMs: number;
  /**
   * The window verify's etcd check takes its p99 over (two scrapes this far apart). Real etcd observes each peer
   * every 30 s, so the default is 35 s; the lab's metrics are synthetic and need none (0).
   */
  verifyEtcdWindowMs?: number;
}

/** Secret-store references are derived, never invented ad hoc: one builder per kind of secret. */
export const secretRefs = {
  talosSecrets: (mesh: string, cluster: string) => `mesh/${mesh}/${cluster}/talos-secrets`,
  talosconfig: (mesh: string, cluster: string) => `mesh/${mesh}/${cluster}/talosconfig`,
  machineConfig: (mesh: string, cluster: string, role: 'controlplane' | 'worker') => `mesh/${mesh}/${cluster}/${role}-config`,
  kubeconfig: (mesh: string, cluster: string) => `mesh/${mesh}/${cluster}/kubeconfig`,
  meshCa: (mesh: string) => `mesh/${mesh}/clustermesh-ca`,
  /** the CA a rotation moves the mesh to, until it is promoted to meshCa; and the one it replaced */
  meshCaNext: (mesh: string) => `mesh/${mesh}/clustermesh-ca-next`,
  meshCaPrevious: (mesh: string) => `mesh/${mesh}/clustermesh-ca-previous`,
  /** an etcd snapshot (the file as talosctl wrote it) and, beside it, what meshpilot recorded about it */
  etcdSnapshot: (mesh: string, cluster: string, id: string) => `backup/${mesh}/${cluster}/${id}`,
  etcdSnapshotMeta: (mesh: string, cluster: string, id: string) => `backup/${mesh}/${cluster}/${id}.meta`,
  etcdSnapshots: (mesh: string, cluster?: string) => `backup/${mesh}/${cluster ? `${cluster}/` : ''}`,
} as const;
