import type { LabCluster } from '../state.ts';
import { applyRelease, renderCiliumChart } from './chart.ts';
import { deleteObj, getObj, isoTime } from './store.ts';
import type { Values } from './values.ts';

/** helm/helm@v3.16.4 pkg/release/status.go */
export type ReleaseStatus =
  | 'unknown'
  | 'deployed'
  | 'uninstalled'
  | 'superseded'
  | 'failed'
  | 'uninstalling'
  | 'pending-install'
  | 'pending-upgrade'
  | 'pending-rollback';

export interface Revision {
  revision: number;
  status: ReleaseStatus;
  chartName: string;
  chartVersion: string;
  appVersion: string;
  /** user-supplied values (helm's release.Config) */
  config: Values;
  firstDeployed: string;
  updated: string;
  description: string;
  /** object keys this revision rendered */
  objects: string[];
}

export interface Release {
  name: string;
  namespace: string;
  revisions: Revision[];
}

export const isPending = (s: ReleaseStatus) => s === 'pending-install' || s === 'pending-upgrade' || s === 'pending-rollback';

export function getRelease(cluster: LabCluster, ns: string, name: string): Release | undefined {
  const r = cluster.helm[`${ns}/${name}`] as Release | undefined;
  return r && r.revisions.length ? r : undefined;
}

export const lastRevision = (r: Release) => r.revisions[r.revisions.length - 1]!;

function supersedeOthers(r: Release) {
  for (const rev of r.revisions) if (rev.status === 'deployed') rev.status = 'superseded';
}

/**
 * Records a new revision as pending and renders the chart (helm installs objects before --wait);
 * the caller flips it to deployed/failed when the wait ends. Returns the pending revision.
 */
export function beginInstallOrUpgrade(
  cluster: LabCluster,
  ns: string,
  name: string,
  chartVersion: string,
  config: Values,
  now: number,
): { rev: Revision; installing: boolean } {
  const key = `${ns}/${name}`;
  const existing = getRelease(cluster, ns, name);
  const last = existing ? lastRevision(existing) : undefined;
  const installing = !last || last.status === 'uninstalled';
  const rel: Release = existing ?? { name, namespace: ns, revisions: [] };
  const rev: Revision = {
    revision: (last?.revision ?? 0) + 1,
    status: installing ? 'pending-install' : 'pending-upgrade',
    chartName: 'cilium',
    chartVersion,
    appVersion: chartVersion,
    config,
    firstDeployed: installing ? isoTime(now) : (rel.revisions[0]?.firstDeployed ?? isoTime(now)),
    updated: isoTime(now),
    description: installing ? 'Initial install underway' : 'Preparing upgrade',
    objects: [],
  };
  rel.revisions.push(rev);
  cluster.helm[key] = rel;
  const previous = last && last.status !== 'uninstalled' ? last.objects : [];
  rev.objects = applyRelease(cluster, previous, renderCiliumChart(config, chartVersion, name, ns, (n) => getObj(cluster, 'v1', 'Secret', ns, n)), now);
  return { rev, installing };
}

export function finish(cluster: LabCluster, ns: string, name: string, revision: number, ok: boolean, now: number, failure?: string): void {
  const rel = getRelease(cluster, ns, name);
  const rev = rel?.revisions.find((r) => r.revision === revision);
  if (!rel || !rev) return;
  if (ok) {
    supersedeOthers(rel);
    rev.status = 'deployed';
    rev.description = rev.revision === 1 || rel.revisions.at(-2)?.status === 'uninstalled' ? 'Install complete' : 'Upgrade complete';
  } else {
    rev.status = 'failed';
    rev.description = `${rev.description.startsWith('Initial') ? 'Release "' + name + '" failed' : 'Upgrade "' + name + '" failed'}: ${failure}`;
  }
  rev.updated = isoTime(now);
}

/** pkg/action/uninstall.go: deletes rendered objects and (without --keep-history) the release records. */
export function uninstall(cluster: LabCluster, ns: string, name: string): boolean {
  const rel = getRelease(cluster, ns, name);
  if (!rel) return false;
  for (const key of lastRevision(rel).objects) deleteObj(cluster, key);
  delete cluster.helm[`${ns}/${name}`];
  return true;
}

/** pkg/action/rollback.go: a new revision copying the target's chart and config; the current one is superseded. */
export function rollback(cluster: LabCluster, rel: Release, target: Revision, now: number): Revision {
  const current = lastRevision(rel);
  const rev: Revision = {
    ...structuredClone(target),
    revision: current.revision + 1,
    status: 'deployed',
    updated: isoTime(now),
    description: `Rollback to ${target.revision}`,
  };
  rev.objects = applyRelease(cluster, current.objects, renderCiliumChart(target.config, target.chartVersion, rel.name, rel.namespace, (n) => getObj(cluster, 'v1', 'Secret', rel.namespace, n)), now);
  supersedeOthers(rel);
  current.status = 'superseded';
  rel.revisions.push(rev);
  return rev;
}
