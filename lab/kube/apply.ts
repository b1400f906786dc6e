import { parseAllDocuments } from 'yaml';
import type { LabCluster, LabState } from '../state.ts';
import { validateCustomResource, validationMessage } from './crd-schemas.ts';
import { takePoolAtFirstApply } from './faults.ts';
import { apiVersionOf, qualifiedKind, resourceByKind, type ResourceType } from './resources.ts';
import { allocateClusterIp, getObj, k8sLab, putObj, serviceCidrs, type KubeObject } from './store.ts';
import { KUBE_TIMING } from './timing.ts';
import { crdEstablished } from './view.ts';

/**
 * `kubectl apply` (k8s.io/kubectl/pkg/cmd/apply/apply.go, client-side): each document is created, or patched
 * when the last-applied configuration differs; the printer says `<kind>[.<group>]/<name> created|configured|unchanged`.
 */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface ApplyLine {
  ok: boolean;
  text: string;
}

/**
 * kubectl decodes manifests with sigs.k8s.io/yaml (go-yaml v2): YAML 1.1, where an unquoted yes/no/on/off is a
 * boolean, not a string (`allowFirstLastIPs: No` is `false`).
 */
export function parseManifests(text: string): KubeObject[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  const out: KubeObject[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`error converting YAML to JSON: ${d.errors[0]!.message}`);
    const v = d.toJSON() as KubeObject | null;
    if (!v) continue;
    if (v.kind === 'List' && Array.isArray(v.items)) out.push(...(v.items as KubeObject[]));
    else out.push(v);
  }
  return out;
}

export function resourceFor(c: LabCluster, apiVersion: string, kind: string, now: number): ResourceType | undefined {
  const r = resourceByKind(apiVersion, kind);
  if (!r || (r.crd && !crdEstablished(c, r.crd, now))) return undefined;
  return r;
}

export function namespaceExists(c: LabCluster, ns: string): boolean {
  return BUILTIN_NAMESPACES.includes(ns) || Boolean(getObj(c, 'v1', 'Namespace', undefined, ns));
}

/**
 * The apiserver's Service defaults that LB-IPAM reads: the IP family policy and families (SingleStack on the
 * primary family unless asked otherwise; dual-stack only where the cluster has both Service CIDRs) and one
 * ClusterIP per family (pkg/registry/core/service/storage, ipallocator).
 */
function serviceSpec(c: LabCluster, spec: Record<string, any>, prev: Record<string, any> | undefined): Record<string, any> {
  const cidrs = serviceCidrs(c);
  const primary = cidrs[0]!.includes(':') ? 'IPv6' : 'IPv4';
  const dual = cidrs.some((x) => x.includes(':')) && cidrs.some((x) => !x.includes(':'));
  const policy = (spec.ipFamilyPolicy as string | undefined) ?? prev?.ipFamilyPolicy ?? 'SingleStack';
  const families: string[] = (spec.ipFamilies as string[] | undefined) ?? prev?.ipFamilies ?? (policy !== 'SingleStack' && dual ? [primary, primary === 'IPv4' ? 'IPv6' : 'IPv4'] : [primary]);
  if (spec.clusterIP === 'None') return { type: 'ClusterIP', ...spec, clusterIPs: ['None'], ipFamilyPolicy: policy, ipFamilies: families };
  const clusterIPs: string[] = prev?.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : families.map((f) => allocateClusterIp(c, f as 'IPv4' | 'IPv6')));
  return { type: 'ClusterIP', ...spec, clusterIP: clusterIPs[0], clusterIPs, ipFamilyPolicy: policy, ipFamilies: families };
}

/**
 * `dryRun: 'server'` (`kubectl apply --dry-run=server`) runs every server-side check and prints what would
 * happen, changing nothing.
 */
export function applyObject(state: LabState, c: LabCluster, raw: KubeObject, defaultNs: string, source: string, now: number, dryRun?: 'server'): ApplyLine {
  const name = raw.metadata?.name;
  const r = resourceFor(c, raw.apiVersion, raw.kind, now);
  const ns = r?.namespaced ? (raw.metadata?.namespace ?? defaultNs) : undefined;
  if (!r) {
    return {
      ok: false,
      text: `error: resource mapping not found for name: "${name}" namespace: "${raw.metadata?.namespace ?? ''}" from "${source}": no matches for kind "${raw.kind}" in version "${raw.apiVersion}"\nensure CRDs are installed first`,
    };
  }
  if (!name) return { ok: false, text: `error: error validating "${source}": error validating data: metadata.name: Required value` };
  if (ns && !namespaceExists(c, ns)) {
    return { ok: false, text: `Error from server (NotFound): error when creating "${source}": namespaces "${ns}" not found` };
  }
  const { status: _ignored, ...config } = raw;
  const lastApplied = JSON.stringify({ ...config, metadata: { ...config.metadata, ...(ns ? { namespace: ns } : {}) } });
  const prev = getObj(c, apiVersionOf(r), r.kind, ns, name);
  const label = `${qualifiedKind(r)}/${name}`;
  const suffix = dryRun ? ' (server dry run)' : '';
  if (prev && prev.metadata.annotations?.[LAST_APPLIED] === lastApplied) return { ok: true, text: `${label} unchanged${suffix}` };
  const checked = validateCustomResource(apiVersionOf(r), r.kind, config);
  if (!checked.ok) return { ok: false, text: validationMessage(checked, r.kind, name, source, !prev) };
  const obj: KubeObject = {
    ...(prev ? { status: prev.status } : {}),
    ...config,
    ...(checked.spec !== undefined ? { spec: checked.spec } : {}),
    apiVersion: apiVersionOf(r),
    metadata: {
      ...config.metadata,
      name,
      ...(ns ? { namespace: ns } : {}),
      annotations: { ...(config.metadata.annotations ?? {}), [LAST_APPLIED]: lastApplied },
    },
  } as KubeObject;
  if (r.kind === 'Service' && obj.spec?.type !== 'ExternalName') {
    obj.spec = serviceSpec(c, obj.spec ?? {}, prev?.spec);
    // the apiserver gives every new Service an (empty) status
    if (!prev) obj.status = { loadBalancer: {} };
  }
  if (dryRun) return { ok: true, text: `${label} ${prev ? 'configured' : 'created'}${suffix}` };
  putObj(c, obj, now);
  if (r.kind === 'Deployment') k8sLab(c).readyAt[`apps/v1|Deployment|${ns}|${name}`] = now + KUBE_TIMING.podReadyMs;
  if (r.kind === 'CiliumLoadBalancerIPPool' && !prev) takePoolAtFirstApply(state, c, obj, now);
  return { ok: true, text: `${label} ${prev ? 'configured' : 'created'}` };
}
