import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/**
 * The real Kubernetes stack of scripts/real-stack.sh (etcd, kube-apiserver v1.32.3, cilium-operator-generic
 * v1.16.19 on loopback) for one test file: started in a fresh state dir with free ports, stopped by `stop()`, on
 * the process's exit, or (a runner that kills the file on a timeout) by the stack's own watchdog once this
 * process is gone. A missing binary fails the start naming the set-up script.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = path.join(ROOT, 'scripts/real-stack.sh');
export const TOOLS_BIN = path.join(ROOT, '.tools/bin');
export const REAL_KUBECTL = path.join(TOOLS_BIN, 'kubectl');

const REQUIRED: [string, string][] = [
  [path.join(TOOLS_BIN, 'kube-apiserver'), 'scripts/setup.d/tests/70-kubernetes.sh'],
  [REAL_KUBECTL, 'scripts/setup.d/tests/70-kubernetes.sh'],
  [path.join(TOOLS_BIN, 'cilium-operator-generic'), 'scripts/setup.d/tests/71-cilium-operator.sh'],
];

export interface KubectlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RealStack {
  dir: string;
  kubeconfig: string;
  /** the real kubectl against this stack */
  kubectl(args: string[], opts?: { input?: string }): Promise<KubectlResult>;
  /** the last lines each component logged, for assertion messages */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export async function startRealStack(tag: string): Promise<RealStack> {
  for (const [bin, script] of REQUIRED) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash ${script} (or scripts/setup.sh --all)`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `meshpilot-real-${tag}-`));
  const down = () => execFileSync('bash', [SCRIPT, 'down', '--dir', dir], { stdio: 'ignore', timeout: 60_000 });
  const onExit = () => {
    try {
      down();
    } catch {
      // best effort while the process exits
    }
  };
  process.once('exit', onExit);
  // Cold starts on a loaded 2-core machine: etcd, the apiserver's post-start hooks, the operator's CRDs.
  const up = await execa('bash', [SCRIPT, 'up', '--dir', dir, '--owner-pid', String(process.pid)], { reject: false, timeout: 10 * 60_000, env: { ...process.env, MESHPILOT_DATA_DIR: dir } });
  if (up.exitCode !== 0) {
    onExit();
    process.removeListener('exit', onExit);
    throw new Error(`scripts/real-stack.sh up failed (exit ${up.exitCode}):\n${up.stderr}`);
  }
  const kubeconfig = up.stdout.trim().split('\n').at(-1)!;
  const kubectl = async (args: string[], opts: { input?: string } = {}): Promise<KubectlResult> => {
    const r = await execa(REAL_KUBECTL, ['--kubeconfig', kubeconfig, ...args], { reject: false, input: opts.input ?? '', timeout: 120_000 });
    return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    dir,
    kubeconfig,
    kubectl,
    async logs() {
      const parts: string[] = [];
      for (const name of ['etcd', 'kube-apiserver', 'cilium-operator']) {
        const text = await readFile(path.join(dir, 'logs', `${name}.log`), 'utf8').catch(() => '');
        parts.push(`--- ${name}\n${text.split('\n').slice(-20).join('\n')}`);
      }
      return parts.join('\n');
    },
    async stop() {
      await execa('bash', [SCRIPT, 'down', '--dir', dir], { reject: false, timeout: 60_000 });
      process.removeListener('exit', onExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
