// The version combinations meshpilot has been verified with. Anything else is a warning (an error in strict
// mode): it may work, but nobody has checked the flags, output formats and defaults meshpilot relies on.
// Older than what the plan renders is never a warning: those versions lack the resources it applies.
import type { Blueprint } from '../schema.ts';
import type { IssueSink } from '../issues.ts';

function parts(v: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, '').split('.').map(Number);
  return [a, b, c];
}

export function talosAtLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = parts(version);
  return a > major || (a === major && b >= minor);
}

/** Talos minor -> the Kubernetes minors it supports (Talos support matrix). */
const VERIFIED_TALOS: Record<string, [number, number]> = {
  '1.8': [26, 31],
  '1.9': [27, 32],
};
const VERIFIED_CILIUM_MINOR = '1.16';
/**
 * The plan renders Cilium 1.16's objects: CiliumBGPClusterConfig/CiliumBGPPeerConfig (new in 1.16),
 * CiliumLoadBalancerIPPool spec.blocks (1.15), CiliumL2AnnouncementPolicy (1.14), and the 1.16 chart's values.
 */
const MIN_CILIUM: [number, number] = [1, 16];
const VERIFIED_CILIUM_CLI_MINOR = '0.16';

export function checkVersions(bp: Blueprint, sink: IssueSink, strict: boolean): void {
  const report = (field: string, message: string) => {
    const text = `${message}${strict ? '' : ' (an error with --strict)'}`;
    if (strict) sink.error(['versions', field], text);
    else sink.warn(['versions', field], text);
  };
  const v = bp.versions;
  const [tMaj, tMin] = parts(v.talos);
  const [kMaj, kMin] = parts(v.kubernetes);
  const talosMinor = `${tMaj}.${tMin}`;
  const k8sRange = VERIFIED_TALOS[talosMinor];
  if (!k8sRange) {
    report('talos', `Talos ${v.talos} is not verified with meshpilot (verified: ${Object.keys(VERIFIED_TALOS).map((m) => `${m}.x`).join(', ')})`);
  } else if (kMaj !== 1 || kMin < k8sRange[0] || kMin > k8sRange[1]) {
    report('kubernetes', `Kubernetes ${v.kubernetes} is outside what Talos ${talosMinor} supports (1.${k8sRange[0]}-1.${k8sRange[1]})`);
  }
  const [cMaj, cMin] = parts(v.cilium);
  if (cMaj < MIN_CILIUM[0] || (cMaj === MIN_CILIUM[0] && cMin < MIN_CILIUM[1])) {
    sink.error(
      ['versions', 'cilium'],
      `Cilium ${v.cilium} is older than ${MIN_CILIUM.join('.')}, whose resources and Helm values the plan renders ` +
        `(BGP v2 CiliumBGPClusterConfig is new in 1.16, LB-IPAM pool blocks in 1.15, L2 announcements in 1.14): use ${VERIFIED_CILIUM_MINOR}.x`,
    );
  } else if (`${cMaj}.${cMin}` !== VERIFIED_CILIUM_MINOR) {
    report('cilium', `Cilium ${v.cilium} is not verified with meshpilot (verified: ${VERIFIED_CILIUM_MINOR}.x)`);
  }
  const [xMaj, xMin] = parts(v.ciliumCli);
  if (`${xMaj}.${xMin}` !== VERIFIED_CILIUM_CLI_MINOR) {
    report('ciliumCli', `cilium-cli ${v.ciliumCli} is not verified with meshpilot (verified: v${VERIFIED_CILIUM_CLI_MINOR}.x, the line that ships with Cilium ${VERIFIED_CILIUM_MINOR})`);
  }
}
