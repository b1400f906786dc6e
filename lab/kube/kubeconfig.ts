import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { LabCluster, LabState } from '../state.ts';
import { KUBE_TIMING } from './timing.ts';
import { toolPath } from '../tools/call-context.ts';

/**
 * client-go's loading rules (k8s.io/client-go/tools/clientcmd/loader.go): `--kubeconfig` wins, else every file
 * of the colon-separated KUBECONFIG merged with the first file winning per name; `--context` else current-context.
 */
export interface KubeTarget {
  context: string;
  /** host:port the client dials, as it prints it in connection errors */
  hostPort: string;
  server: string;
  cluster?: LabCluster;
}

interface Named<T> {
  name: string;
  value: T;
}
interface LoadedConfig {
  clusters: Named<{ server?: string }>[];
  contexts: Named<{ cluster?: string }>[];
  currentContext?: string;
}

export class KubeconfigError extends Error {
  constructor(
    message: string,
    /** no-context-empty: a context asked for when there is no kubeconfig at all (kubectl words it otherwise) */
    readonly kind: 'no-config' | 'no-context' | 'no-context-empty' | 'invalid',
  ) {
    super(message);
  }
}

export function loadKubeconfig(env: NodeJS.ProcessEnv, explicit?: string): LoadedConfig | undefined {
  const files = explicit ? [explicit] : (env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (explicit && !existsSync(toolPath(explicit))) {
    throw new KubeconfigError(`stat ${explicit}: no such file or directory`, 'invalid');
  }
  const out: LoadedConfig = { clusters: [], contexts: [] };
  let any = false;
  for (const f of files) {
    if (!existsSync(toolPath(f))) continue;
    any = true;
    const doc = (parse(readFileSync(toolPath(f), 'utf8')) ?? {}) as Record<string, unknown>;
    const clusters = (doc.clusters as { name: string; cluster?: { server?: string } }[] | undefined) ?? [];
    const contexts = (doc.contexts as { name: string; context?: { cluster?: string } }[] | undefined) ?? [];
    for (const c of clusters) if (!out.clusters.some((x) => x.name === c.name)) out.clusters.push({ name: c.name, value: c.cluster ?? {} });
    for (const c of contexts) if (!out.contexts.some((x) => x.name === c.name)) out.contexts.push({ name: c.name, value: c.context ?? {} });
    if (!out.currentContext && typeof doc['current-context'] === 'string' && doc['current-context']) {
      out.currentContext = doc['current-context'];
    }
  }
  return any ? out : undefined;
}

function hostPortOf(server: string): string {
  try {
    const u = new URL(server);
    return `${u.hostname}:${u.port || (u.protocol === 'http:' ? '80' : '443')}`;
  } catch {
    return server;
  }
}

const stripScheme = (s: string) => s.replace(/^[a-z]+:\/\//, '').replace(/\/$/, '');

/** Resolves the kube context to a lab cluster (by kubeconfig cluster name = Talos cluster name, else by server). */
export function resolveTarget(state: LabState, env: NodeJS.ProcessEnv, kubeconfig?: string, context?: string): KubeTarget {
  const cfg = loadKubeconfig(env, kubeconfig);
  // no kubeconfig: client-go's default server; the dial error names the address localhost resolved to
  if (!cfg) {
    if (context) throw new KubeconfigError(`context "${context}" does not exist`, 'no-context-empty');
    return { context: '', hostPort: '127.0.0.1:8080', server: 'http://localhost:8080' };
  }
  const ctxName = context || cfg.currentContext;
  if (!ctxName) throw new KubeconfigError('current-context is not set', 'no-context');
  const ctx = cfg.contexts.find((c) => c.name === ctxName);
  if (!ctx) throw new KubeconfigError(`context "${ctxName}" does not exist`, 'no-context');
  const kc = cfg.clusters.find((c) => c.name === ctx.value.cluster);
  if (!kc?.value.server) throw new KubeconfigError(`cluster "${ctx.value.cluster}" has no server`, 'invalid');
  const server = kc.value.server;
  const cluster =
    state.clusters[kc.name] ??
    Object.values(state.clusters).find((c) => stripScheme(c.endpoint) === stripScheme(server));
  return { context: ctxName, hostPort: hostPortOf(server), server, cluster };
}

/** The apiserver answers only once the cluster is bootstrapped (and a moment later). */
export function apiServerUp(cluster: LabCluster | undefined, now: number): cluster is LabCluster {
  return Boolean(cluster?.bootstrappedAt && now >= cluster.bootstrappedAt + KUBE_TIMING.apiServerUpMs);
}
