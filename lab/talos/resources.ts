import type { LabCluster, LabNode, LabState } from '../state.ts';
import { getRelease } from '../kube/releases.ts';
import { nodeRecord } from './node-record.ts';
import { effectiveStage, hasEtcdMembership } from './stages.ts';
import { talosVersionOf } from './versions.ts';

/**
 * COSI resources as `talosctl get -o json` prints them: one 4-space-indented object per resource, keys
 * sorted (a Go map through encoding/json), `node` = the -n value ("" with --insecure, whose client sets no
 * node metadata) (siderolabs/talos@v1.9.5 cmd/talosctl/cmd/talos/output/json.go, helpers/resources.go).
 */
export interface ResourceDef {
  type: string;
  namespace: string;
  aliases: string[];
  /** readable through the maintenance API (internal/app/resources/access.go: non-sensitive) */
  maintenance: boolean;
  list: (state: LabState, node: LabNode, now: number) => Array<{ id: string; spec: Record<string, unknown>; owner: string }>;
}

const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]))
      : v;

export function jsonResource(node: string, def: ResourceDef, r: { id: string; spec: Record<string, unknown>; owner: string }, created: number): string {
  const ts = new Date(created).toISOString();
  const doc = {
    metadata: { namespace: def.namespace, type: def.type, id: r.id, version: 1, owner: r.owner, phase: 'running', created: ts, updated: ts },
    node,
    spec: r.spec,
  };
  return `${JSON.stringify(sortKeys(doc), null, 4)}\n`;
}

/** A deployed Cilium is the CNI: without it kubelet's node never turns Ready (Talos docs, deploying-cilium.md). */
export function ciliumDeployed(cluster: LabCluster | undefined): boolean {
  // a release is a list of revisions (lab/kube/releases.ts): Cilium runs once one of them was deployed (a later
  // upgrade leaves it superseded, and the agents keep running through a pending or failed upgrade)
  const rel = cluster && getRelease(cluster, 'kube-system', 'cilium');
  return Boolean(rel?.revisions.some((r) => r.status === 'deployed' || r.status === 'superseded'));
}

/** pkg/machinery/resources/runtime/machine_status.go + controllers/runtime/machine_status.go readiness checks. */
function machineStatus(state: LabState, node: LabNode, now: number) {
  const { stage } = effectiveStage(state, node, now);
  const cluster = state.clusters[node.cluster];
  const unmet: Array<{ name: string; reason: string }> = [];
  if (stage === 'running') {
    if (node.role === 'controlplane' && !cluster?.bootstrappedAt) unmet.push({ name: 'services', reason: 'waiting on: etcd' });
    if (!cluster?.bootstrappedAt) unmet.push({ name: 'staticPods', reason: 'waiting for static pods' });
    if (!ciliumDeployed(cluster)) unmet.push({ name: 'nodeReady', reason: `node "${node.name}" is not ready` });
  }
  const installError = stage === 'installing' ? nodeRecord(state, node.address)?.installError : undefined;
  if (installError) unmet.push({ name: 'install', reason: installError });
  return [{ id: 'machine', owner: 'runtime.MachineStatusController', spec: { stage, status: { ready: stage === 'running' && unmet.length === 0, unmetConditions: unmet } } }];
}

/** pkg/machinery/resources/cluster/member.go: every node of the cluster that discovery has seen (it runs). */
function members(state: LabState, node: LabNode, now: number) {
  return Object.values(state.nodes)
    .filter((n) => n.cluster === node.cluster && effectiveStage(state, n, now).stage === 'running')
    .map((n) => ({
      id: n.name,
      owner: 'cluster.MemberController',
      spec: {
        nodeId: Buffer.from(`${n.cluster}/${n.address}`).toString('base64url').slice(0, 43),
        addresses: [n.address],
        hostname: n.name,
        machineType: n.role,
        operatingSystem: `Talos (${talosVersionOf(state, n)})`,
        ...(n.role === 'controlplane' ? { controlPlane: { port: 6443 } } : {}),
      },
    }));
}

/** pkg/machinery/resources/block/disk.go: the node's install disk (and nothing else) in the lab. */
function disks(_state: LabState, node: LabNode) {
  const dev = node.installDisk;
  const id = dev.replace(/^\/dev\//, '');
  return [
    {
      id,
      owner: 'block.DisksController',
      spec: {
        dev_path: dev,
        size: 480103981056,
        pretty_size: '480 GB',
        io_size: 512,
        sector_size: 512,
        readonly: false,
        cdrom: false,
        model: 'SAMSUNG MZ7L3480',
        serial: `S6${Buffer.from(node.address).toString('hex').slice(0, 10).toUpperCase()}`,
        wwid: `naa.5002538f${Buffer.from(node.name).toString('hex').slice(0, 8)}`,
        bus_path: '/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0',
        sub_system: '/sys/class/block',
        transport: 'sata',
      },
    },
  ];
}

export const RESOURCES: ResourceDef[] = [
  { type: 'MachineStatuses.runtime.talos.dev', namespace: 'runtime', aliases: ['machinestatus', 'machinestatuses', 'ms'], maintenance: true, list: machineStatus },
  { type: 'Members.cluster.talos.dev', namespace: 'cluster', aliases: ['members', 'member'], maintenance: false, list: members },
  { type: 'Disks.block.talos.dev', namespace: 'runtime', aliases: ['disks', 'disk'], maintenance: true, list: disks },
];

export function resolveResource(name: string): ResourceDef | undefined {
  const n = name.toLowerCase();
  return RESOURCES.find((r) => r.type.toLowerCase() === n || r.aliases.includes(n) || r.type.split('.')[0]!.toLowerCase() === n);
}

/** `talosctl etcd members` (cmd/talosctl/cmd/talos/etcd.go): tabwriter with 3-space padding, ids `%016x`. */
export function etcdMembersTable(state: LabState, node: string, clusterName: string, _now?: number): string {
  const rows = Object.values(state.nodes)
    .filter((n) => n.cluster === clusterName && hasEtcdMembership(state, n))
    .map((n) => [node, n.etcdMemberId!.padStart(16, '0'), n.name, `https://${n.address}:2380`, `https://${n.address}:2379`, 'false']);
  const table = [['NODE', 'ID', 'HOSTNAME', 'PEER URLS', 'CLIENT URLS', 'LEARNER'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n') + '\n';
}

/**
 * The admin kubeconfig apid returns (pkg/kubeconfig/generate.go through client-go's clientcmd.Write, which
 * sorts keys): cluster = Talos cluster name, user/context `admin@<cluster>`, namespace default.
 */
export function adminKubeconfig(clusterName: string, endpoint: string): string {
  const fake = (kind: string) =>
    Buffer.from(`-----BEGIN ${kind}-----\n${Buffer.from(`lab ${clusterName} ${kind} ${Date.now()}`).toString('base64')}\n-----END ${kind}-----\n`).toString('base64');
  const user = `admin@${clusterName}`;
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${fake('CERTIFICATE')}`,
    `    server: ${endpoint}`,
    `  name: ${clusterName}`,
    'contexts:',
    '- context:',
    `    cluster: ${clusterName}`,
    '    namespace: default',
    `    user: ${user}`,
    `  name: ${user}`,
    `current-context: ${user}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${fake('CERTIFICATE')}`,
    `    client-key-data: ${fake('EC PRIVATE KEY')}`,
    '',
  ].join('\n');
}
