// Baseline (b): the seed's runbook as a plain script — one cluster after another, one command after another,
// calling the same simulated tools with the worker's PATH/env. No retries beyond "poll until ready", no state.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type { ClusterPlan, RolloutPlan } from '../blueprint/plan.ts';
import type { ActivityDeps } from '../activities/deps.ts';

/** How often the script re-runs a "wait until ready" command: the lab's own poll period is 100 ms. */
const POLL_MS = 200;
const WAIT_LIMIT_MS = 120_000;

type Run = (tool: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string }) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

function runner(deps: ActivityDeps): Run {
  return async (tool, args, opts = {}) => {
    const r = await execa(tool, args, {
      env: { ...deps.tools.env, ...opts.env },
      extendEnv: false,
      cwd: deps.tools.cwd,
      reject: false,
      timeout: 60_000,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
}

async function must(run: Run, tool: string, args: string[], opts?: Parameters<Run>[2]) {
  const r = await run(tool, args, opts);
  if (r.exitCode !== 0) throw new Error(`runbook: ${tool} ${args.slice(0, 3).join(' ')} failed (${r.exitCode}): ${r.stderr.trim().slice(-300)}`);
  return r;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`runbook: gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const context = (c: ClusterPlan) => `admin@${c.name}`;

/** Phases 1–2 of the seed for one cluster: Talos config, install, bootstrap, Cilium, LB-IPAM, clustermesh enable. */
async function oneCluster(run: Run, c: ClusterPlan, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'out');
  await must(run, 'talosctl', ['gen', 'secrets', '-o', path.join(dir, 'secrets.yaml'), '--talos-version', c.talos.version]);
  const gen = ['gen', 'config', c.name, c.endpoint, '--with-secrets', path.join(dir, 'secrets.yaml')];
  for (const [flag, text, file] of [
    ['--config-patch', c.talos.patches.all, 'all.yaml'],
    ['--config-patch-control-plane', c.talos.patches.controlplane, 'cp.yaml'],
    ['--config-patch-worker', c.talos.patches.worker, 'worker.yaml'],
  ] as const) {
    if (!text.trim()) continue;
    writeFileSync(path.join(dir, file), text);
    gen.push(flag, `@${path.join(dir, file)}`);
  }
  gen.push('--install-disk', c.nodes[0]!.installDisk, '--kubernetes-version', c.talos.kubernetesVersion, '--talos-version', c.talos.version);
  if (c.talos.installImage) gen.push('--install-image', c.talos.installImage);
  await must(run, 'talosctl', [...gen, '--with-docs=false', '--with-examples=false', '-o', out, '--force']);
  const talosconfig = path.join(out, 'talosconfig');
  for (const n of c.nodes) await must(run, 'talosctl', ['apply-config', '--insecure', '-n', n.address, '-f', path.join(out, `${n.role}.yaml`)]);
  for (const n of c.nodes) {
    await until(`${n.name} running`, async () => {
      const r = await run('talosctl', ['get', 'machinestatus', '-o', 'json', '-n', n.address, '-e', n.address, '--talosconfig', talosconfig]);
      return r.exitCode === 0 && /"stage":\s*"running"/.test(r.stdout);
    });
  }
  const cp = c.nodes.find((n) => n.role === 'controlplane')!;
  const secure = ['-n', cp.address, '-e', cp.address, '--talosconfig', talosconfig];
  await until(`${c.name} bootstrap`, async () => (await run('talosctl', ['bootstrap', ...secure])).exitCode === 0);
  const kubeconfig = path.join(dir, 'kubeconfig');
  await must(run, 'talosctl', ['kubeconfig', kubeconfig, '--merge=false', '--force', ...secure]);
  const env = { KUBECONFIG: kubeconfig };
  writeFileSync(path.join(dir, 'values.yaml'), stringify(c.cilium.values));
  await until(`${c.name} helm install`, async () =>
    (await run('helm', ['upgrade', '--install', 'cilium', 'cilium', '--repo', 'https://helm.cilium.io/', '--version', c.cilium.chartVersion, '-n', 'kube-system', '-f', path.join(dir, 'values.yaml')], { env })).exitCode === 0,
  );
  await until(`${c.name} cilium ready`, async () => (await run('cilium', ['status', '-o', 'json'], { env })).exitCode === 0);
  // The seed's bare-metal note: the L2 pool must exist before clustermesh enable, or the LoadBalancer stays <pending>.
  for (const crd of ['ciliumloadbalancerippools.cilium.io', 'ciliuml2announcementpolicies.cilium.io']) {
    await until(`${crd} established`, async () => (await run('kubectl', ['wait', '--for=condition=Established', `crd/${crd}`, '--timeout=5s'], { env })).exitCode === 0);
  }
  await must(run, 'kubectl', ['apply', '-f', '-'], { env, input: c.lbIpam.manifests });
  await must(run, 'cilium', ['clustermesh', 'enable', '--context', context(c), '--service-type', 'LoadBalancer'], { env });
  return kubeconfig;
}

/** Runs the whole runbook; returns its wall time in ms. Throws if any command fails for good. */
export async function runSequentialRunbook(deps: ActivityDeps, plan: RolloutPlan, workDir: string): Promise<number> {
  const run = runner(deps);
  const started = Date.now();
  const kubeconfigs: string[] = [];
  for (const c of plan.clusters) kubeconfigs.push(await oneCluster(run, c, path.join(workDir, c.name)));
  const env = { KUBECONFIG: kubeconfigs.join(':') };
  // Phase 3: `cilium clustermesh connect` is pairwise and bidirectional, so a full mesh is every pair once.
  for (const [i, a] of plan.clusters.entries()) {
    for (const b of plan.clusters.slice(i + 1)) {
      await until(`connect ${a.name} ${b.name}`, async () =>
        (await run('cilium', ['clustermesh', 'connect', '--context', context(a), '--destination-context', context(b)], { env })).exitCode === 0,
      );
    }
  }
  for (const c of plan.clusters) {
    await until(`${c.name} clustermesh status`, async () => (await run('cilium', ['clustermesh', 'status', '--context', context(c), '--wait'], { env })).exitCode === 0);
  }
  return Date.now() - started;
}
