// Versions as meshpilot reasons about them: parsing, each cluster's effective versions, the support matrices of
// Talos and Cilium, and the upgrade paths they allow. Pure (workflow-safe).
import type { Blueprint, ClusterSpec } from './schema.ts';

export type Triple = [number, number, number];

export function parts(v: string): Triple {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, '').split('.').map((x) => Number.parseInt(x, 10));
  return [a || 0, b || 0, c || 0];
}

/** `1.9` from `v1.9.5` */
export const minorOf = (v: string): string => parts(v).slice(0, 2).join('.');
export const stripV = (v: string): string => v.replace(/^v/, '');
export const withV = (v: string): string => (v.startsWith('v') ? v : `v${v}`);

/** <0, 0, >0 like a sort comparator; compares major.minor.patch only */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** How many minors `to` is ahead of `from` (negative: behind); a major change counts as far apart. */
export function minorsApart(from: string, to: string): number {
  const [a, b] = [parts(from), parts(to)];
  if (a[0] !== b[0]) return (b[0] - a[0]) * 1000;
  return b[1] - a[1];
}

export interface ClusterVersions {
  /** v-prefixed */
  talos: string;
  /** no v */
  kubernetes: string;
  /** no v: the chart version */
  cilium: string;
}

/** The versions a cluster runs per the blueprint: its own `versions` where set, else the mesh-wide ones. */
export function clusterVersions(bp: Blueprint, c: ClusterSpec): ClusterVersions {
  return {
    talos: withV(c.versions?.talos ?? bp.versions.talos),
    kubernetes: stripV(c.versions?.kubernetes ?? bp.versions.kubernetes),
    cilium: stripV(c.versions?.cilium ?? bp.versions.cilium),
  };
}

/**
 * Talos minor -> the Kubernetes minors it supports (Talos support matrix, siderolabs/talos
 * website/content/v1.{7,8,9,10}/introduction/support-matrix.md).
 */
export const TALOS_KUBERNETES: Readonly<Record<string, readonly [number, number]>> = {
  '1.7': [25, 30],
  '1.8': [26, 31],
  '1.9': [27, 32],
  '1.10': [28, 33],
};

/** The Kubernetes minors a Talos version supports, when meshpilot knows them. */
export function kubernetesRangeOf(talos: string): readonly [number, number] | undefined {
  return TALOS_KUBERNETES[minorOf(talos)];
}

/**
 * The newest Kubernetes `talosctl upgrade-k8s` of the pinned talosctl can reach: its upgrade paths end at its own
 * default version's minor (siderolabs/go-kubernetes v0.2.17 kubernetes/upgrade/path.go IsSupported, used by
 * talosctl v1.9.5; constants.DefaultKubernetesVersion = 1.32.3).
 */
export const UPGRADE_K8S_MAX_MINOR = 32;

/** One step of an upgrade path that a tool refuses, with the path a person should take instead. */
export interface PathRefusal {
  component: 'talos' | 'kubernetes' | 'cilium';
  from: string;
  to: string;
  /** why, in one sentence */
  reason: string;
  /** the versions to go through, in order (the last is the target) */
  path: string[];
}

const latestPatch = (minor: string, v: 'v' | '') => `${v}${minor}.x (its latest patch)`;

/**
 * Talos: upgrades are tested between adjacent minors only, so the path goes through the latest patch of every
 * intermediate minor (siderolabs/talos website/content/v1.9/talos-guides/upgrading-talos.md "Supported Upgrade
 * Paths"). Downgrades are `talosctl rollback`, not an upgrade.
 */
export function talosPathRefusal(from: string, to: string): PathRefusal | undefined {
  const apart = minorsApart(from, to);
  if (compareVersions(to, from) < 0) {
    return { component: 'talos', from, to, reason: `Talos ${to} is older than ${from}: meshpilot upgrades forward only (talosctl rollback returns a node to its previous version)`, path: [] };
  }
  if (apart <= 1) return undefined;
  const [maj, min] = parts(from);
  const path = Array.from({ length: apart - 1 }, (_, i) => latestPatch(`${maj}.${min + i + 1}`, 'v'));
  return { component: 'talos', from, to, reason: `Talos ${from} → ${to} skips ${apart - 1} minor(s): Talos tests upgrades between adjacent minors only`, path: [...path, to] };
}

/**
 * Kubernetes: one minor at a time (kube-apiserver's version skew policy; talosctl upgrade-k8s refuses anything else),
 * never past what the pinned talosctl's upgrade-k8s knows, and within what the Talos the cluster runs supports.
 */
export function kubernetesPathRefusal(from: string, to: string, talos: string): PathRefusal | undefined {
  const f = stripV(from);
  const t = stripV(to);
  if (compareVersions(t, f) < 0) {
    return { component: 'kubernetes', from: f, to: t, reason: `Kubernetes ${t} is older than ${f}: Kubernetes does not support downgrades`, path: [] };
  }
  const apart = minorsApart(f, t);
  if (apart > 1) {
    const [maj, min] = parts(f);
    const path = Array.from({ length: apart - 1 }, (_, i) => latestPatch(`${maj}.${min + i + 1}`, ''));
    return { component: 'kubernetes', from: f, to: t, reason: `Kubernetes ${f} → ${t} skips ${apart - 1} minor(s): talosctl upgrade-k8s upgrades one minor at a time`, path: [...path, t] };
  }
  if (parts(t)[1] > UPGRADE_K8S_MAX_MINOR && parts(t)[0] === 1) {
    return { component: 'kubernetes', from: f, to: t, reason: `talosctl v1.9's upgrade-k8s knows upgrade paths up to Kubernetes 1.${UPGRADE_K8S_MAX_MINOR} only`, path: [] };
  }
  const range = kubernetesRangeOf(talos);
  if (range && (parts(t)[1] < range[0] || parts(t)[1] > range[1])) {
    return { component: 'kubernetes', from: f, to: t, reason: `Kubernetes ${t} is outside what Talos ${minorOf(talos)} supports (1.${range[0]}-1.${range[1]})`, path: [] };
  }
  return undefined;
}

/**
 * Cilium: "The only tested rollback and upgrade path is between consecutive minor releases" (cilium/cilium
 * Documentation/operations/upgrade-warning.rst); its CI tests meshes of adjacent minors only.
 */
export function ciliumPathRefusal(from: string, to: string): PathRefusal | undefined {
  const f = stripV(from);
  const t = stripV(to);
  if (compareVersions(t, f) < 0) {
    return { component: 'cilium', from: f, to: t, reason: `Cilium ${t} is older than ${f}: a downgrade is a rollback (helm rollback cilium), not an upgrade`, path: [] };
  }
  const apart = minorsApart(f, t);
  if (apart <= 1) return undefined;
  const [maj, min] = parts(f);
  const path = Array.from({ length: apart - 1 }, (_, i) => latestPatch(`${maj}.${min + i + 1}`, ''));
  return { component: 'cilium', from: f, to: t, reason: `Cilium ${f} → ${t} skips ${apart - 1} minor(s): Cilium supports upgrades one minor at a time`, path: [...path, t] };
}

/** The refusal as one sentence with the way forward. */
export function describeRefusal(r: PathRefusal): string {
  if (!r.path.length) return r.reason;
  const field = r.component === 'talos' ? 'versions.talos' : r.component === 'kubernetes' ? 'versions.kubernetes' : 'versions.cilium';
  return `${r.reason}; take the path ${[r.from, ...r.path].join(' → ')}, one blueprint revision (${field}) and one meshpilot upgrade per step`;
}
