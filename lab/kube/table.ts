import type { KubeObject } from './store.ts';

/** kubectl's default table printers (k8s.io/kubernetes pkg/printers/internalversion/printers.go) for the kinds the lab serves. */
export function age(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

const cond = (o: KubeObject, type: string) => (o.status?.conditions as { type: string; status: string; message?: string }[] | undefined)?.find((c) => c.type === type);

export function table(kind: string, objs: KubeObject[], now: number, withNs: boolean): string {
  const rows: string[][] = [];
  const head = (cols: string[]) => rows.push([...(withNs ? ['NAMESPACE'] : []), ...cols]);
  const row = (o: KubeObject, cols: string[]) => rows.push([...(withNs ? [o.metadata.namespace ?? ''] : []), ...cols]);
  switch (kind) {
    case 'Service':
      head(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
      for (const o of objs) {
        const ing = ((o.status?.loadBalancer?.ingress as { ip: string }[] | undefined) ?? []).map((i) => i.ip).join(',');
        const ports = ((o.spec?.ports as { port: number; nodePort?: number; protocol?: string }[] | undefined) ?? [])
          .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
          .join(',');
        row(o, [o.metadata.name, o.spec?.type ?? 'ClusterIP', o.spec?.clusterIP ?? '<none>', ing || (o.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>'), ports || '<none>', age(o.metadata.creationTimestamp, now)]);
      }
      break;
    case 'CiliumLoadBalancerIPPool':
      head(['NAME', 'DISABLED', 'CONFLICTING', 'IPS AVAILABLE', 'AGE']);
      for (const o of objs) row(o, [o.metadata.name, String(o.spec?.disabled ?? false), cond(o, 'cilium.io/PoolConflict')?.status ?? 'False', cond(o, 'cilium.io/IPsAvailable')?.message ?? '', age(o.metadata.creationTimestamp, now)]);
      break;
    case 'Node':
      head(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
      for (const o of objs) {
        const roles = Object.keys(o.metadata.labels ?? {}).filter((l) => l.startsWith('node-role.kubernetes.io/')).map((l) => l.split('/')[1]);
        row(o, [o.metadata.name, cond(o, 'Ready')?.status === 'True' ? 'Ready' : 'NotReady', roles.join(',') || '<none>', age(o.metadata.creationTimestamp, now), 'v1.32.3']);
      }
      break;
    case 'Pod':
      head(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      for (const o of objs) {
        const cs = (o.status?.containerStatuses as { ready: boolean }[] | undefined) ?? [];
        row(o, [o.metadata.name, `${cs.filter((c) => c.ready).length}/${cs.length}`, o.status?.phase ?? 'Pending', '0', age(o.metadata.creationTimestamp, now)]);
      }
      break;
    case 'Lease':
      head(['NAME', 'HOLDER', 'AGE']);
      for (const o of objs) row(o, [o.metadata.name, o.spec?.holderIdentity ?? '', age(o.metadata.creationTimestamp, now)]);
      break;
    default:
      head(['NAME', 'AGE']);
      for (const o of objs) row(o, [o.metadata.name, age(o.metadata.creationTimestamp, now)]);
  }
  // tabwriter with padding 3 (k8s.io/cli-runtime/pkg/printers/tabwriter.go)
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}
