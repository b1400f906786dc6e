// Version skew inside one mesh: Cilium supports ClusterMesh between clusters at most one minor apart (its CI tests
// meshes of adjacent minors only; cilium/cilium#42841 is a mesh broken by a wider gap); a cluster's installer image
// installs the Talos version it claims; and the upgrade's canary is one of the mesh's clusters.
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';
import { clusterVersions, compareVersions, minorOf, minorsApart } from '../versions.ts';

/** The tag of an installer image when it is a version (`…/installer:v1.9.5`, also with a factory schematic path). */
const imageVersion = (image: string) => /:(v\d+\.\d+\.\d+)$/.exec(image)?.[1];

export function checkSkew(bp: Blueprint, sink: IssueSink): void {
  const canary = bp.upgrade?.canary;
  if (canary !== undefined && !bp.clusters.some((c) => c.name === canary)) {
    sink.error(['upgrade', 'canary'], `no cluster named ${canary} (known clusters: ${bp.clusters.map((c) => c.name).join(', ')})`);
  }
  bp.clusters.forEach((c, ci) => {
    const tag = c.installImage ? imageVersion(c.installImage) : undefined;
    const talos = clusterVersions(bp, c).talos;
    if (tag && compareVersions(tag, talos) !== 0) {
      sink.error(
        ['clusters', ci, 'installImage'],
        `the installer image is tagged ${tag} but ${c.name} runs Talos ${talos} (${c.versions?.talos ? `clusters[${ci}].versions.talos` : 'versions.talos'}): the installer decides the version a node runs; give both the same version`,
      );
    }
  });
  if (bp.clusters.length < 2) return;
  const running = bp.clusters.map((c, ci) => ({ name: c.name, ci, cilium: clusterVersions(bp, c).cilium, own: c.versions?.cilium !== undefined }));
  const oldest = running.reduce((a, b) => (minorsApart(b.cilium, a.cilium) > 0 ? b : a));
  const newest = running.reduce((a, b) => (minorsApart(a.cilium, b.cilium) > 0 ? b : a));
  const gap = minorsApart(oldest.cilium, newest.cilium);
  if (gap > 1) {
    for (const r of running.filter((x) => minorsApart(x.cilium, newest.cilium) > 1)) {
      sink.error(
        r.own ? ['clusters', r.ci, 'versions', 'cilium'] : ['versions', 'cilium'],
        `${r.name} runs Cilium ${r.cilium} and ${newest.name} ${newest.cilium}: ClusterMesh supports clusters at most one Cilium minor apart; ` +
          `bring ${r.name} to ${minorOf(newest.cilium)}.x one minor at a time (meshpilot upgrade) before the mesh runs ${newest.cilium}`,
      );
    }
  } else if (gap === 1) {
    const minors = [...new Set(running.map((r) => minorOf(r.cilium)))].sort();
    sink.warn(
      oldest.own ? ['clusters', oldest.ci, 'versions', 'cilium'] : ['versions', 'cilium'],
      `the mesh runs two Cilium minors (${minors.join(' and ')}): supported while an upgrade is under way; align every cluster on ${minorOf(newest.cilium)} (meshpilot upgrade)`,
    );
  }
}
