import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { readLabState, withLabState, type LabNode, type LabState } from '../state.ts';
import type { ToolIO } from '../tools/io.ts';
import { parseDuration, type ParsedCommand } from './cli.ts';
import { clientVersionText } from './commands-local.ts';
import { connect, resolveTarget, TalosctlError, type Target } from './connect.ts';
import { impliedNodeLabels, parseMachineConfig, sha256 } from './machine-config.ts';
import { validateMachineConfig } from './validate.ts';
import { nodeRecord, setNodeRecord } from './node-record.ts';
import { adminKubeconfig, ciliumDeployed, etcdMembersTable, jsonResource, resolveResource } from './resources.ts';
import { rpc } from './rpc-errors.ts';
import { effectiveStage, isEtcdMember, settleTalosState } from './stages.ts';
import { TALOS_TIMING } from './timing.ts';
import { recordInstalledConfig, talosVersionOf } from './versions.ts';
import { toolPath } from '../tools/call-context.ts';
import { k8sLab } from '../kube/store.ts';
import { readSnapshot, SnapshotFileError, snapshotInfoLine, snapshotOf } from './etcd-snapshot.ts';
import { loadPatch, PatchError, strategicMerge } from './patch.ts';

/** Commands that talk to apid: each dials through lab/talos/connect.ts and wraps errors as its real source does. */

const EXCLUDE_LB = 'node.kubernetes.io/exclude-from-external-load-balancers';

/**
 * One networked call: count it, settle derived stages, dial, then run `fn` on the node it lands on. Errors
 * are raised after the state is saved, so a failed call still counts (flaky tools) and settles stages.
 */
export async function onNode<T>(io: ToolIO, t: Target, wrap: (e: string) => string, fn: (state: LabState, node: LabNode, now: number) => T): Promise<T> {
  const outcome = await withLabState(io.labDir, (state): { value: T } | { error: TalosctlError } => {
    const now = Date.now();
    settleTalosState(state, now);
    try {
      let node: LabNode;
      try {
        node = connect(state, t, now);
      } catch (err) {
        if (err instanceof TalosctlError) throw new TalosctlError(wrap(err.message));
        throw err;
      }
      return { value: fn(state, node, now) };
    } catch (err) {
      if (err instanceof TalosctlError) return { error: err };
      throw err;
    }
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

const failIfMulti = (p: ParsedCommand, command: string) => {
  if (((p.flags.nodes as string[] | undefined) ?? []).length > 1) throw new TalosctlError(`command "${command}" is not supported with multiple nodes`);
};

/** cmd/talosctl/cmd/talos/get.go: errors from ResolveResourceKind surface unwrapped. */
export async function get(io: ToolIO, p: ParsedCommand): Promise<number> {
  const insecure = p.flags.insecure === true;
  const t = resolveTarget(p, io.env, insecure);
  const fmt = p.flags.output as string;
  if (!['json', 'yaml', 'table'].includes(fmt)) throw new TalosctlError(`output format "${fmt}" is not supported`);
  const out = await onNode(io, t, (e) => e, (state, node, now) => {
    const def = resolveResource(p.args[0]!);
    if (!def) throw new TalosctlError(rpc('NotFound', `resource "${p.args[0]}" is not registered`));
    if (insecure && !def.maintenance) throw new TalosctlError(rpc('PermissionDenied', `resource type "${def.type}" is not supported`));
    const items = def.list(state, node, now).filter((r) => !p.args[1] || r.id === p.args[1]);
    if (p.args[1] && !items.length) throw new TalosctlError(rpc('NotFound', `resource "${p.args[1]}" of type "${def.type}" not found`));
    const created = node.stageSince;
    if (fmt === 'json') return items.map((r) => jsonResource(t.node, def, r, created)).join('');
    if (fmt === 'yaml') return items.map((r) => stringify({ node: t.node, metadata: { namespace: def.namespace, type: def.type, id: r.id }, spec: r.spec })).join('---\n');
    const rows = [['NODE', 'NAMESPACE', 'TYPE', 'ID', 'VERSION'], ...items.map((r) => [t.node, def.namespace, def.type.split('.')[0]!, r.id, '1'])];
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) => r.map((c, i) => c.padEnd(w[i]! + 3)).join('').trimEnd()).join('\n') + '\n';
  });
  io.out(out);
  return 0;
}

/** cmd/talosctl/cmd/talos/apply-config.go + internal/app/maintenance/server.go ApplyConfiguration. */
export async function applyConfig(io: ToolIO, p: ParsedCommand): Promise<number> {
  if (p.args.length) throw new TalosctlError('expected no positional arguments');
  const file = p.flags.file as string | undefined;
  if (!file) throw new TalosctlError('no filename supplied for configuration');
  const full = toolPath(file);
  if (!existsSync(full)) throw new TalosctlError(`failed to read configuration from "${file}": open ${file}: no such file or directory`);
  const text = readFileSync(full, 'utf8');
  if (!text.length) throw new TalosctlError('no configuration data read');
  // apply-config.go: `--config-patch` is applied to the local file before it is sent (configpatcher.LoadPatches)
  const patchSpecs = (p.flags['config-patch'] as string[] | undefined) ?? [];
  let patches: ReturnType<typeof loadPatch>;
  try {
    patches = patchSpecs.flatMap((spec) => loadPatch(spec));
  } catch (err) {
    if (err instanceof PatchError) throw new TalosctlError(err.message);
    throw err;
  }
  const insecure = p.flags.insecure === true;
  const mode = p.flags.mode as string;
  const t = resolveTarget(p, io.env, insecure);
  const wrap = (e: string) => `error applying new configuration: ${e}`;
  const details = await onNode(io, t, wrap, (state, node, now) => {
    if (insecure && !['auto', 'reboot', 'try'].includes(mode)) {
      throw new TalosctlError(wrap(rpc('Unimplemented', `apply configuration --mode='${mode}' is not supported in maintenance mode`)));
    }
    let cfg;
    try {
      cfg = parseMachineConfig(text);
    } catch (err) {
      throw new TalosctlError(wrap(rpc('Unknown', (err as Error).message)));
    }
    for (const patch of patches) strategicMerge(cfg, patch);
    // the maintenance service validates for the platform's mode (metal) before it accepts the config
    const invalid = validateMachineConfig(cfg, 'metal', { strict: false }).error;
    if (invalid) throw new TalosctlError(wrap(rpc('InvalidArgument', `configuration validation failed: ${invalid}`)));
    if (p.flags['dry-run'] === true) return insecure ? 'Dry run summary:\nNode is running in maintenance mode and does not have a config yet.' : 'Dry run summary:\nNo changes.';
    const machine = cfg.machine as Record<string, unknown>;
    const install = (machine.install ?? {}) as Record<string, unknown>;
    const disk = String(install.disk ?? '');
    const ca = (machine.ca ?? {}) as Record<string, unknown>;
    setNodeRecord(state, node.address, {
      osCaSha: sha256(String(ca.crt ?? '')),
      clusterName: String((cfg.cluster as Record<string, unknown> | undefined)?.clusterName ?? ''),
      machineType: machine.type === 'worker' ? 'worker' : 'controlplane',
      installDisk: disk,
      ...(insecure && disk !== node.installDisk ? { installError: `specified install disk does not exist: "${disk}"` } : {}),
    });
    recordInstalledConfig(state, node, cfg);
    const labels = impliedNodeLabels(cfg);
    if (node.role === 'controlplane' && state.faults.keepCpExcludeLabel === true) labels[EXCLUDE_LB] = '';
    node.labels = labels;
    node.appliedConfigSha = sha256(patchSpecs.length ? `${text}\n${patchSpecs.join('\n')}` : text);
    // The cluster's pod/service subnets as the machine config sets them: the lab's Kubernetes side allocates
    // pod IPs (and so global-service backends) from here, as kube-controller-manager would.
    const network = ((cfg.cluster as Record<string, unknown> | undefined)?.network ?? {}) as { podSubnets?: string[]; serviceSubnets?: string[] };
    const cluster = state.clusters[node.cluster];
    const firstV4 = (list?: string[]) => list?.find((c) => /^\d+\.\d+\.\d+\.\d+\//.test(c));
    if (cluster) {
      const pod = firstV4(network.podSubnets);
      const svc = firstV4(network.serviceSubnets);
      if (pod) cluster.extra.podCidr = pod;
      if (svc) cluster.extra.serviceCidr = svc;
    }
    if (insecure) {
      // maintenance mode: the config is handed to the installer; no mode details are returned
      node.stage = 'installing';
      node.stageSince = now;
      return '';
    }
    if (mode === 'reboot') {
      node.stage = 'rebooting';
      node.stageSince = now;
      return 'Applied configuration with a reboot';
    }
    return mode === 'staged' ? 'Staged configuration to be applied after the next reboot' : 'Applied configuration without a reboot';
  });
  if (details) io.err(`${details}\n`);
  return 0;
}

/**
 * cmd/talosctl/cmd/talos/bootstrap.go + v1alpha1_server.go Bootstrap (and EtcdRecover for `--recover-from`): the
 * client reads the snapshot's status and prints it, uploads the file, then asks for the bootstrap; the node's
 * etcd starts from the snapshot's data (lab: the cluster's Kubernetes objects and Helm releases come back).
 */
export async function bootstrap(io: ToolIO, p: ParsedCommand): Promise<number> {
  const t = resolveTarget(p, io.env, false);
  if (((p.flags.nodes as string[] | undefined) ?? []).length > 1) throw new TalosctlError('command "bootstrap" is not supported with multiple nodes');
  const recoverFrom = (p.flags['recover-from'] as string | undefined) ?? '';
  let recovered: ReturnType<typeof readSnapshot> | undefined;
  if (recoverFrom) {
    const file = toolPath(recoverFrom);
    // etcdutl's snapshot Status stats the file first (held to the real talosctl by test/conformance/talos.test.ts)
    if (!existsSync(file)) throw new TalosctlError(`stat ${recoverFrom}: no such file or directory`);
    try {
      recovered = readSnapshot(readFileSync(file));
    } catch (err) {
      if (err instanceof SnapshotFileError) throw new TalosctlError(err.message);
      throw err;
    }
    io.out(`recovering from snapshot ${JSON.stringify(recoverFrom)}: ${snapshotInfoLine(recovered.status).slice('snapshot info: '.length)}`);
  }
  const wrap = (e: string) => `error executing bootstrap: ${e}`;
  const uploaded = (e: string) => `error uploading snapshot: ${e}`;
  await onNode(io, t, recovered ? uploaded : wrap, (state, node, now) => {
    const running = effectiveStage(state, node, now).stage === 'running';
    const worker = nodeRecord(state, node.address)?.machineType === 'worker';
    if (recovered) {
      // EtcdRecover runs first: the node's etcd must be waiting for a bootstrap, on a control plane
      if (!running) throw new TalosctlError(uploaded(rpc('FailedPrecondition', 'etcd service is not ready for recovery yet')));
      if (worker) throw new TalosctlError(uploaded(rpc('Unimplemented', 'etcd recover is only available on control plane nodes')));
    }
    if (!running) throw new TalosctlError(wrap(rpc('FailedPrecondition', 'bootstrap is not available yet')));
    if (worker) throw new TalosctlError(wrap(rpc('FailedPrecondition', 'bootstrap can only be performed on a control plane node')));
    const cluster = state.clusters[node.cluster]!;
    if (cluster.bootstrappedAt) throw new TalosctlError(wrap(rpc('AlreadyExists', 'etcd data directory is not empty')));
    if (recovered) {
      // etcd's snapshot restore checks the trailing sha256 unless told not to [inference: etcdutl snapshot
      // restore's "snapshot file integrity check failed"; Talos wraps the recovery error in the bootstrap reply]
      if (!recovered.hashOk && p.flags['recover-skip-hash-check'] !== true) {
        throw new TalosctlError(wrap(rpc('Unknown', 'error recovering etcd: snapshot file integrity check failed')));
      }
      cluster.kube = structuredClone(recovered.body.kube);
      cluster.helm = structuredClone(recovered.body.helm);
      const lab = k8sLab(cluster);
      lab.rv = Math.max(lab.rv, recovered.body.revision);
      cluster.extra.recoveredFrom = { cluster: recovered.body.cluster, revision: recovered.body.revision, at: now };
    }
    cluster.bootstrappedAt = now;
    cluster.bootstrapCount += 1;
    settleTalosState(state, now);
  });
  return 0;
}

/**
 * cmd/talosctl/cmd/talos/etcd.go etcdSnapshotCmd + v1alpha1_server.go EtcdSnapshot: streams the member's snapshot
 * into `<path>.part` (0600), checks `size % 512 == 32` (the trailing sha256), renames it to `<path>`, prints the
 * saved line and the snapshot's status. Errors in the stream surface from the copy as "error reading: ...".
 */
export async function etcdSnapshot(io: ToolIO, p: ParsedCommand): Promise<number> {
  const t = resolveTarget(p, io.env, false);
  failIfMulti(p, 'etcd snapshot');
  const dbPath = p.args[0]!;
  const full = toolPath(dbPath);
  const part = `${full}.part`;
  const read = (e: string) => `error reading: ${e}`;
  // the client creates <path>.part before it asks the node for anything
  if (!existsSync(path.dirname(part))) throw new TalosctlError(`error creating temporary file: open ${dbPath}.part: no such file or directory`);
  const data = await onNode(io, t, (e) => `error reading file: ${e}`, (state, node, now) => {
    if (nodeRecord(state, node.address)?.machineType === 'worker') throw new TalosctlError(read(rpc('Unimplemented', 'etcd snapshot is only available on control plane nodes')));
    // no local etcd member yet (not bootstrapped, or this member has not joined) [inference: clientv3 dial timeout]
    if (!isEtcdMember(state, node, now)) throw new TalosctlError(read(rpc('Unknown', 'failed reading etcd snapshot: context deadline exceeded')));
    return snapshotOf(state.clusters[node.cluster]!);
  });
  try {
    writeFileSync(part, data, { mode: 0o600 });
    renameSync(part, full);
  } finally {
    rmSync(part, { force: true });
  }
  io.out(`etcd snapshot saved to ${JSON.stringify(dbPath)} (${data.length} bytes)\n`);
  io.out(snapshotInfoLine(readSnapshot(data).status));
  return 0;
}

/** cmd/talosctl/cmd/talos/kubeconfig.go (the file is written by the client, mode 0600). */
export async function kubeconfig(io: ToolIO, p: ParsedCommand): Promise<number> {
  const t = resolveTarget(p, io.env, false);
  failIfMulti(p, 'kubeconfig');
  let local = toolPath(p.args[0] ?? '.');
  if (existsSync(local) && statSync(local).isDirectory()) local = path.join(local, 'kubeconfig');
  let merge = p.flags.merge !== false;
  if (existsSync(local) && !(p.flags.force === true || merge)) {
    throw new TalosctlError(`kubeconfig file already exists, use --force to overwrite: "${local}"`);
  }
  if (!existsSync(local)) merge = false;
  const data = await onNode(io, t, (e) => `error copying: ${e}`, (state, node) => {
    const cluster = state.clusters[node.cluster]!;
    const name = nodeRecord(state, node.address)?.clusterName || cluster.name;
    return adminKubeconfig(name, cluster.endpoint.startsWith('https://') ? cluster.endpoint : `https://${cluster.endpoint}`);
  });
  mkdirSync(path.dirname(local), { recursive: true });
  writeFileSync(local, merge ? mergeKubeconfig(readFileSync(local, 'utf8'), data, p.flags.force === true) : data, { mode: 0o600 });
  return 0;
}

type Named = { name: string };
/** pkg/kubeconfig merge: entries by name, conflicts renamed unless --force (non-interactive), context activated. */
function mergeKubeconfig(existing: string, incoming: string, force: boolean): string {
  const a = (parse(existing) ?? {}) as Record<string, Named[] | string>;
  const b = parse(incoming) as Record<string, Named[] | string>;
  for (const key of ['clusters', 'contexts', 'users']) {
    const into = ((a[key] as Named[] | undefined) ?? []).slice();
    for (const item of b[key] as Named[]) {
      const at = into.findIndex((x) => x.name === item.name);
      if (at >= 0 && force) into[at] = item;
      else if (at >= 0) into.push({ ...item, name: `${item.name}-1` });
      else into.push(item);
    }
    a[key] = into;
  }
  a['current-context'] = b['current-context'] as string;
  return stringify(a);
}

/** cmd/talosctl/cmd/talos/etcd.go etcdMemberListCmd (QueryLocal). */
export async function etcdMembers(io: ToolIO, p: ParsedCommand): Promise<number> {
  const t = resolveTarget(p, io.env, false);
  const wrap = (e: string) => `error getting members: ${e}`;
  const out = await onNode(io, t, wrap, (state, node, now) => {
    if (nodeRecord(state, node.address)?.machineType === 'worker') {
      throw new TalosctlError(wrap(rpc('Unimplemented', 'member list is only available on control plane nodes')));
    }
    // no local etcd yet: the etcd client's dial gives up [inference: clientv3 DialTimeout text]
    if (!isEtcdMember(state, node, now)) throw new TalosctlError(wrap(rpc('Unknown', 'context deadline exceeded')));
    return etcdMembersTable(state, t.node, node.cluster, now);
  });
  io.out(out);
  return 0;
}

/** cmd/talosctl/cmd/talos/version.go (server part) */
export async function serverVersion(io: ToolIO, p: ParsedCommand): Promise<number> {
  const insecure = p.flags.insecure === true;
  const t = resolveTarget(p, io.env, insecure);
  io.out(`${clientVersionText(p.flags.short === true)}Server:\n`);
  // the server block is the node's own build (pkg/machinery/version printLong): its Tag is the version it runs
  const tag = await onNode(io, t, (e) => `error getting version: ${e}`, (state, node) => {
    if (insecure) throw new TalosctlError(`error getting version: ${rpc('Unimplemented', 'API is not implemented in maintenance mode')}`);
    return talosVersionOf(state, node);
  });
  const build = clientVersionText(false).split('\n').slice(1).join('\n').replace(/(\tTag:\s+)\S+/, `$1${tag}`);
  io.out(`\tNODE:        ${t.node}\n${build}\tEnabled:     RBAC\n`);
  return 0;
}

const CHECKS_BEFORE_READY = [
  'etcd to be healthy',
  'etcd members to be consistent across nodes',
  'etcd members to be control plane nodes',
  'apid to be ready',
  'all nodes memory sizes',
  'all nodes disk sizes',
  'no diagnostics',
  'kubelet to be healthy',
  'all nodes to finish boot sequence',
  'all k8s nodes to report',
  'all control plane static pods to be running',
  'all control plane components to be ready',
];

/**
 * `talosctl health` in server mode (default): the node runs pkg/cluster/check DefaultClusterChecks +
 * ExtraClusterChecks and streams "waiting for <check>: ..." / ": OK" lines, printed on stderr
 * (cmd/talosctl/cmd/talos/health.go healthOnServer, v1alpha1_cluster.go HealthCheck). Node readiness needs a
 * CNI: with `cni: none` it waits until Cilium is deployed.
 */
export async function health(io: ToolIO, p: ParsedCommand): Promise<number> {
  const t = resolveTarget(p, io.env, false);
  failIfMulti(p, 'health');
  const clusterName = await onNode(io, t, (e) => e, (_s, node) => node.cluster);
  const deadline = Date.now() + Math.min(parseDuration(p.flags['wait-timeout'] as string), TALOS_TIMING.healthMaxWaitMs);
  const explicit = [...((p.flags['control-plane-nodes'] as string[] | undefined) ?? []), ...((p.flags['worker-nodes'] as string[] | undefined) ?? [])];
  const checks = [...CHECKS_BEFORE_READY, 'all k8s nodes to report ready', 'kube-proxy to report ready', 'coredns to report ready', 'all k8s nodes to report schedulable'];
  // check.Wait runs the checks in order and never repeats one that passed
  let next = 0;
  let lastWhy = '';
  for (;;) {
    const state = readLabState(io.labDir);
    const now = Date.now();
    const nodes = explicit.length
      ? explicit.map((a) => state.nodes[a]).filter((n): n is LabNode => Boolean(n))
      : Object.values(state.nodes).filter((n) => n.cluster === clusterName && n.appliedConfigSha);
    if (next === 0 && !lastWhy) io.err(`discovered nodes: [${nodes.map((n) => JSON.stringify(n.address)).join(' ')}]\n`);
    const cluster = state.clusters[clusterName];
    const notRunning = nodes.filter((n) => effectiveStage(state, n, now).stage !== 'running');
    const problem = (check: string): string | undefined => {
      if (check === 'etcd to be healthy' && !cluster?.bootstrappedAt) return 'etcd is not bootstrapped';
      if (check === 'apid to be ready' && notRunning.length) return `some nodes are not available: [${notRunning.map((n) => n.address).join(' ')}]`;
      if (check === 'all k8s nodes to report ready' && !ciliumDeployed(cluster)) return `some nodes are not ready: [${nodes.map((n) => n.name).join(' ')}]`;
      return undefined;
    };
    while (next < checks.length) {
      const check = checks[next]!;
      const why = problem(check);
      if (why) {
        if (why !== lastWhy) io.err(`waiting for ${check}: ${why}\n`);
        lastWhy = why;
        break;
      }
      if (!lastWhy) io.err(`waiting for ${check}: ...\n`);
      io.err(`waiting for ${check}: ${check === 'kube-proxy to report ready' ? 'SKIP' : 'OK'}\n`);
      lastWhy = '';
      next++;
    }
    if (next === checks.length) return 0;
    if (Date.now() >= deadline) throw new TalosctlError(rpc('DeadlineExceeded', 'context deadline exceeded'));
    await new Promise((r) => setTimeout(r, TALOS_TIMING.healthPollMs));
  }
}

