import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { blocked, fatal, transient } from '../contracts/failures.ts';
import { secretRefs, type ActivityDeps } from './deps.ts';
import { runTool, type ToolResult } from './exec/run-tool.ts';
import { activityAttempt } from './context.ts';
import { pollWithin } from './poll.ts';
import { nodeArgv } from './talos/argv.ts';
import { clusterEndpointUrl, parseInput, schemas } from './talos/inputs.ts';
import { machineStatusSchema, parseEtcdMembers, parseJsonStream } from './talos/parse.ts';
import { stderrTail, talosFailure, talosProblem, unreachableFailure } from './talos/problems.ts';
import { secretValuesOf, withScratchDir, withSecretFile } from './talos/secret-files.ts';

/**
 * meshpilot's Talos adapters: plain async functions over `talosctl` (deps first, input second). Each reads
 * the node's or the store's state before acting, so a retried or replayed activity does nothing twice.
 * Secrets travel as store references; values are materialized into 0600 files only for the call.
 */

/** `configured`: Talos answers but refuses the maintenance API for want of a client certificate, i.e. it is installed. */
export type NodeStage = 'maintenance' | 'installing' | 'booting' | 'running' | 'upgrading' | 'rebooting' | 'configured' | 'unreachable' | 'unknown';

const QUICK_MS = 30_000;
export const talosctl = (deps: ActivityDeps, args: string[], secrets: string[] = [], timeoutMs = QUICK_MS) =>
  runTool(deps.tools, 'talosctl', args, { timeoutMs, secrets });

export async function talosClientVersion(deps: ActivityDeps): Promise<{ version: string }> {
  const r = await talosctl(deps, ['version', '--client', '--short']);
  if (r.exitCode !== 0) throw talosFailure('talosctl version', r);
  const m = /Talos (v\d+\.\d+\.\d+\S*)/.exec(r.stdout);
  if (!m) throw fatal(`talosctl version printed no Talos tag: ${JSON.stringify(r.stdout.slice(0, 200))}`, 'install talosctl v1.9');
  return { version: m[1]! };
}

/** Generated once, ever: the bundle is the cluster's identity (CAs, tokens); regenerating it would orphan every node. */
export async function ensureTalosSecrets(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; talosVersion: string },
): Promise<{ secretsRef: string; created: boolean }> {
  const i = parseInput(schemas.secrets, input, 'ensureTalosSecrets');
  const secretsRef = secretRefs.talosSecrets(i.mesh, i.cluster);
  if (await deps.secrets.has(secretsRef)) return { secretsRef, created: false };
  return withScratchDir(async (dir) => {
    const file = path.join(dir, 'secrets.yaml');
    const r = await talosctl(deps, ['gen', 'secrets', '-o', file, '--talos-version', i.talosVersion]);
    if (r.exitCode !== 0) throw talosFailure('talosctl gen secrets', r);
    // ifAbsent: of two racing activities, the first bundle stored wins and the other is discarded
    const created = await deps.secrets.put(secretsRef, await readFile(file), { ifAbsent: true });
    return { secretsRef, created };
  });
}

const INPUTS_MARKER = '# meshpilot-inputs: ';

/**
 * Renders controlplane/worker configs and the talosconfig from the stored bundle and the blueprint's patches,
 * validates both configs for metal, and stores them. Skipped when the stored configs came from the same
 * inputs (the marker line carries their hash), so an amended blueprint regenerates and a retry does not.
 */
export async function genMachineConfigs(
  deps: ActivityDeps,
  input: {
    mesh: string;
    cluster: string;
    endpoint: string;
    talosVersion: string;
    kubernetesVersion: string;
    installDisk: string;
    installImage?: string;
    patches: { all: string; controlplane: string; worker: string };
  },
): Promise<{ talosconfigRef: string; controlplaneRef: string; workerRef: string }> {
  const i = parseInput(schemas.genConfigs, input, 'genMachineConfigs');
  const refs = {
    talosconfigRef: secretRefs.talosconfig(i.mesh, i.cluster),
    controlplaneRef: secretRefs.machineConfig(i.mesh, i.cluster, 'controlplane'),
    workerRef: secretRefs.machineConfig(i.mesh, i.cluster, 'worker'),
  };
  const bundleRef = secretRefs.talosSecrets(i.mesh, i.cluster);
  if (!(await deps.secrets.has(bundleRef))) {
    throw fatal(`genMachineConfigs: no Talos secrets for ${i.cluster} (${bundleRef})`, 'run ensureTalosSecrets first (workflow ordering bug)');
  }
  const bundle = await deps.secrets.get(bundleRef);
  const inputsHash = createHash('sha256').update(JSON.stringify({ i, bundle: createHash('sha256').update(bundle).digest('hex') })).digest('hex');
  if (await storedFrom(deps, refs, inputsHash)) return refs;

  const endpoint = clusterEndpointUrl(i.endpoint);
  return withScratchDir(async (dir) => {
    const redactions = secretValuesOf(bundle.toString('utf8'));
    await writeFile(path.join(dir, 'secrets.yaml'), bundle, { mode: 0o600 });
    const args = ['gen', 'config', i.cluster, endpoint, '--with-secrets', path.join(dir, 'secrets.yaml')];
    for (const [flag, text, file] of [
      ['--config-patch', i.patches.all, 'all.yaml'],
      ['--config-patch-control-plane', i.patches.controlplane, 'controlplane-patch.yaml'],
      ['--config-patch-worker', i.patches.worker, 'worker-patch.yaml'],
    ] as const) {
      if (!text.trim()) continue;
      await writeFile(path.join(dir, file), text);
      args.push(flag, `@${path.join(dir, file)}`);
    }
    args.push('--install-disk', i.installDisk, '--kubernetes-version', i.kubernetesVersion, '--talos-version', i.talosVersion);
    if (i.installImage) args.push('--install-image', i.installImage);
    const out = path.join(dir, 'out');
    args.push('--with-docs=false', '--with-examples=false', '-o', out, '--force');
    const gen = await talosctl(deps, args, redactions);
    if (gen.exitCode !== 0) {
      if (/error parsing config JSON patch|JSON 6902/.test(gen.stderr)) {
        throw fatal(`talosctl gen config rejected a patch: ${stderrTail(gen)}`, "fix the blueprint's Talos patches (strategic merge YAML)");
      }
      throw talosFailure('talosctl gen config', gen);
    }
    for (const role of ['controlplane', 'worker'] as const) {
      const v = await talosctl(deps, ['validate', '-c', path.join(out, `${role}.yaml`), '-m', 'metal'], redactions);
      if (v.exitCode !== 0) {
        throw fatal(`the generated ${role} config is not valid for metal: ${stderrTail(v)}`, "fix the blueprint's Talos patches (see `talosctl validate -m metal`)");
      }
    }
    await deps.secrets.put(refs.talosconfigRef, await readFile(path.join(out, 'talosconfig')));
    await deps.secrets.put(refs.workerRef, await readFile(path.join(out, 'worker.yaml')));
    // the control-plane config goes last and carries the marker, so a crash before this point regenerates
    const cp = await readFile(path.join(out, 'controlplane.yaml'), 'utf8');
    await deps.secrets.put(refs.controlplaneRef, `${INPUTS_MARKER}${inputsHash}\n${cp}`);
    return refs;
  });
}

async function storedFrom(deps: ActivityDeps, refs: Record<string, string>, hash: string): Promise<boolean> {
  for (const ref of Object.values(refs)) if (!(await deps.secrets.has(ref))) return false;
  const cp = (await deps.secrets.get(refs.controlplaneRef!)).toString('utf8');
  return cp.startsWith(`${INPUTS_MARKER}${hash}\n`);
}

const STAGES = new Set<NodeStage>(['maintenance', 'installing', 'booting', 'running', 'upgrading', 'rebooting']);

function stageFrom(r: ToolResult): NodeStage {
  const doc = parseJsonStream(r.stdout)[0];
  const parsed = machineStatusSchema.safeParse(doc);
  if (!parsed.success) throw transient(`talosctl get machinestatus printed no machine status: ${JSON.stringify(r.stdout.slice(0, 200))}`);
  const stage = parsed.data.spec.stage as NodeStage;
  return STAGES.has(stage) ? stage : 'unknown';
}

/** One probe: the maintenance API first unless credentials are given, then the authenticated API. */
async function probeStage(deps: ActivityDeps, address: string, talosconfig?: { file: string; secrets: string[] }): Promise<NodeStage> {
  const insecure = async (): Promise<{ stage: NodeStage; r: ToolResult }> => {
    const r = await talosctl(deps, ['get', 'machinestatus', '-o', 'json', '--insecure', '-n', address]);
    if (r.exitCode === 0) return { stage: stageFrom(r), r };
    const p = talosProblem(r);
    if (p === 'unreachable' || p === 'timeout') return { stage: 'unreachable', r };
    if (p === 'configured') return { stage: 'configured', r };
    throw talosFailure(`probing ${address}`, r);
  };
  if (!talosconfig) return (await insecure()).stage;
  const r = await talosctl(deps, nodeArgv.machineStatus(address, talosconfig.file), talosconfig.secrets);
  if (r.exitCode === 0) return stageFrom(r);
  const p = talosProblem(r);
  if (p === 'unreachable' || p === 'timeout') return 'unreachable';
  if (p === 'untrusted') {
    // untrusted is also what a node still in maintenance answers: ask the maintenance API before blaming PKI
    const m = await insecure();
    if (m.stage !== 'unknown') return m.stage;
  }
  throw talosFailure(`probing ${address}`, r);
}

export async function nodeStage(deps: ActivityDeps, input: { address: string; talosconfigRef?: string }): Promise<{ stage: NodeStage }> {
  const i = parseInput(schemas.nodeStage, input, 'nodeStage');
  if (!i.talosconfigRef) return { stage: await probeStage(deps, i.address) };
  return withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => ({ stage: await probeStage(deps, i.address, { file, secrets }) }));
}

/**
 * Sends the machine config through the maintenance API. A node that already has a config (the insecure
 * probe is refused for want of a client certificate) is left alone: re-applying would reinstall it.
 */
export async function applyMachineConfig(
  deps: ActivityDeps,
  /** installDisk: this node's disk when it differs from the one in its role's config (a per-node patch) */
  input: { address: string; nodeName: string; configRef: string; installDisk?: string },
): Promise<{ applied: boolean; stageBefore: string }> {
  const i = parseInput(schemas.apply, input, 'applyMachineConfig');
  const probe = await talosctl(deps, ['get', 'machinestatus', '-o', 'json', '--insecure', '-n', i.address]);
  if (probe.exitCode !== 0) {
    const p = talosProblem(probe);
    if (p === 'configured') return { applied: false, stageBefore: 'configured' };
    if (p === 'unreachable' || p === 'timeout') throw unreachableFailure(activityAttempt(), i.nodeName, i.address, probe);
    throw talosFailure(`probing ${i.nodeName} (${i.address})`, probe);
  }
  const stageBefore = stageFrom(probe);
  if (stageBefore !== 'maintenance') throw transient(`node ${i.nodeName} (${i.address}) is ${stageBefore}, waiting for maintenance mode`);
  return withSecretFile(deps.secrets, i.configRef, async (file, secrets) => {
    const perNode = i.installDisk ? ['--config-patch', JSON.stringify({ machine: { install: { disk: i.installDisk } } })] : [];
    const r = await talosctl(deps, ['apply-config', '--insecure', '-n', i.address, '-f', file, ...perNode], secrets, 120_000);
    if (r.exitCode === 0) return { applied: true, stageBefore };
    const p = talosProblem(r);
    // an earlier attempt's apply landed after all: the node left maintenance
    if (p === 'configured') return { applied: false, stageBefore };
    if (p === 'unreachable' || p === 'timeout') throw unreachableFailure(activityAttempt(), i.nodeName, i.address, r);
    throw talosFailure(`applying the machine config to ${i.nodeName} (${i.address})`, r);
  });
}

const STAGE_HINTS: Partial<Record<NodeStage, string>> = {
  maintenance: 'The node is back in maintenance mode without a config (reset or reinstalled): resume to apply the config again.',
  installing: "The installer is not finishing: compare the blueprint's installDisk with `talosctl get disks --insecure -n ADDRESS`, fix it and resume.",
  unreachable: 'The node stopped answering on port 50000: check power (BMC console), cabling and VLAN, then resume.',
  booting: 'The node is stuck booting: check its console (BMC) for boot errors, then resume.',
  rebooting: 'The node is stuck rebooting: check its console (BMC), then resume.',
};

/** Polls the node's stage until it runs, heartbeating; past deps.pollBudgetMs the step reports blocked. */
export async function waitNodeRunning(deps: ActivityDeps, input: { address: string; nodeName: string; talosconfigRef: string }): Promise<void> {
  const i = parseInput(schemas.waitRunning, input, 'waitNodeRunning');
  const started = Date.now();
  const interval = Math.max(100, Math.min(2_000, Math.floor(deps.pollBudgetMs / 20)));
  await withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => {
    let stage: NodeStage = 'unknown';
    let lastError = '';
    const running = await pollWithin(
      deps.pollBudgetMs,
      interval,
      `${i.nodeName} (${i.address}) running`,
      async () => {
        try {
          stage = await probeStage(deps, i.address, { file, secrets });
          lastError = '';
        } catch (err) {
          // flaky probes are part of waiting; a blocked/fatal verdict (wrong PKI) is not
          if ((err as { type?: string }).type !== 'MeshpilotTransient') throw err;
          lastError = (err as Error).message;
        }
        return stage === 'running' ? true : undefined;
      },
      () => ({ address: i.address, stage, waitedMs: Date.now() - started }),
    );
    if (running) return;
    throw blocked({
      reason: `Node ${i.nodeName} (${i.address}) is still ${stage} after ${Math.round((Date.now() - started) / 1000)}s`,
      hint: (STAGE_HINTS[stage] ?? 'Check the node with `talosctl get machinestatus`, then resume.').replace('ADDRESS', i.address),
      evidence: { node: i.nodeName, address: i.address, stage, ...(lastError ? { error: lastError.slice(0, 300) } : {}) },
    });
  });
}

/** Bootstraps etcd once per cluster; `AlreadyExists etcd data directory is not empty` means it already was. */
export async function bootstrapEtcd(
  deps: ActivityDeps,
  input: { cluster: string; address: string; talosconfigRef: string },
): Promise<{ bootstrapped: boolean; alreadyBootstrapped: boolean }> {
  const i = parseInput(schemas.bootstrap, input, 'bootstrapEtcd');
  return withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => {
    // Read state first: an etcd that already lists members was bootstrapped (by us or by hand), so no second call.
    const members = await talosctl(deps, nodeArgv.etcdMembers(i.address, file), secrets);
    if (members.exitCode === 0 && parseEtcdMembersSafe(members.stdout).length > 0) return { bootstrapped: false, alreadyBootstrapped: true };
    const r = await talosctl(deps, nodeArgv.bootstrap(i.address, file), secrets);
    if (r.exitCode === 0) return { bootstrapped: true, alreadyBootstrapped: false };
    const p = talosProblem(r);
    if (p === 'already-exists') return { bootstrapped: false, alreadyBootstrapped: true };
    if (p === 'not-ready') throw transient(`bootstrap of ${i.cluster} on ${i.address} is not available yet: ${stderrTail(r)}`);
    throw talosFailure(`bootstrapping etcd of ${i.cluster} on ${i.address}`, r);
  });
}

function parseEtcdMembersSafe(stdout: string): Array<{ id: string }> {
  try {
    return parseEtcdMembers(stdout);
  } catch {
    return [];
  }
}

/** The admin kubeconfig, fetched once and kept in the store; its context must be `admin@<cluster>`. */
export async function fetchKubeconfig(
  deps: ActivityDeps,
  input: { mesh: string; cluster: string; address: string; talosconfigRef: string },
): Promise<{ kubeconfigRef: string }> {
  const i = parseInput(schemas.kubeconfig, input, 'fetchKubeconfig');
  const kubeconfigRef = secretRefs.kubeconfig(i.mesh, i.cluster);
  if (await deps.secrets.has(kubeconfigRef)) return { kubeconfigRef };
  return withSecretFile(deps.secrets, i.talosconfigRef, (file, secrets) =>
    withScratchDir(async (dir) => {
      const target = path.join(dir, 'kubeconfig');
      const r = await talosctl(deps, nodeArgv.kubeconfig(i.address, file, target), secrets);
      if (r.exitCode !== 0) throw talosFailure(`fetching the kubeconfig of ${i.cluster}`, r);
      const text = await readFile(target, 'utf8');
      const doc = (parse(text) ?? {}) as { contexts?: Array<{ name?: string }> };
      const want = `admin@${i.cluster}`;
      if (!doc.contexts?.some((c) => c.name === want)) {
        throw fatal(
          `the kubeconfig of ${i.cluster} has no context ${want} (contexts: ${(doc.contexts ?? []).map((c) => c.name).join(', ') || 'none'})`,
          'the Talos cluster name must equal the blueprint cluster name, so kube contexts do not collide across the mesh',
        );
      }
      await deps.secrets.put(kubeconfigRef, text);
      return { kubeconfigRef };
    }),
  );
}

export async function etcdMembers(
  deps: ActivityDeps,
  input: { address: string; talosconfigRef: string },
): Promise<Array<{ id: string; hostname: string; peerUrls: string[] }>> {
  const i = parseInput(schemas.etcdMembers, input, 'etcdMembers');
  return withSecretFile(deps.secrets, i.talosconfigRef, async (file, secrets) => {
    const r = await talosctl(deps, nodeArgv.etcdMembers(i.address, file), secrets);
    if (r.exitCode !== 0) {
      if (talosProblem(r) === 'not-ready') throw transient(`etcd on ${i.address} is not up yet: ${stderrTail(r)}`);
      throw talosFailure(`listing etcd members on ${i.address}`, r);
    }
    try {
      return parseEtcdMembers(r.stdout);
    } catch (err) {
      throw transient(`talosctl etcd members on ${i.address}: ${(err as Error).message}`);
    }
  });
}
