import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { bool, FlagError, list, parseDuration, parseFlags, positionals, str, type FlagSpec } from '../kube/cobra.ts';
import { beginInstallOrUpgrade, finish, getRelease, isPending, lastRevision, rollback, uninstall, type Release, type Revision } from '../kube/releases.ts';
import { onCluster, pollUntil, type Outcome, type Refusal } from '../kube/session.ts';
import { keyOf, type KubeObject } from '../kube/store.ts';
import { mergeValues, setPath, type Values } from '../kube/values.ts';
import { chartRefusal, MODELLED_CHART_VERSION } from '../kube/chart-validation.ts';
import { renderCiliumChart } from '../kube/chart.ts';
import { isReady } from '../kube/view.ts';
import type { LabCluster } from '../state.ts';
import type { SimulatedTool, ToolIO } from './io.ts';
import { toolPath } from './call-context.ts';

/**
 * Simulated helm v3.16.4 (helm/helm@v3.16.4 cmd/helm/*.go, pkg/action/*.go) for the one chart meshpilot
 * installs: cilium/cilium. Release records live in the lab state; `--wait` polls the lab's readiness clocks. The
 * chart refuses values as lab/kube/chart-validation.ts says (held to the real chart by
 * test/conformance/helm.test.ts), or as the real chart itself says when the lab is given one.
 */
const HELM_VERSION = 'v3.16.4';
const HELM_COMMIT = '7877b45b63f95635153b29a42c0c2f4273ec45ca';

const GLOBAL: FlagSpec[] = [
  { name: 'kube-context', kind: 'string' },
  { name: 'kubeconfig', kind: 'string' },
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'debug', kind: 'bool' },
];
const INSTALL_FLAGS: FlagSpec[] = [
  { name: 'install', short: 'i', kind: 'bool' },
  { name: 'version', kind: 'string' },
  { name: 'values', short: 'f', kind: 'strings' },
  { name: 'set', kind: 'strings' },
  { name: 'set-string', kind: 'strings' },
  { name: 'wait', kind: 'bool' },
  { name: 'wait-for-jobs', kind: 'bool' },
  { name: 'timeout', kind: 'duration' },
  { name: 'atomic', kind: 'bool' },
  { name: 'create-namespace', kind: 'bool' },
  { name: 'reuse-values', kind: 'bool' },
  { name: 'reset-values', kind: 'bool' },
  { name: 'reset-then-reuse-values', kind: 'bool' },
  { name: 'output', short: 'o', kind: 'string' },
  { name: 'history-max', kind: 'int' },
  { name: 'cleanup-on-fail', kind: 'bool' },
  { name: 'force', kind: 'bool' },
  { name: 'skip-crds', kind: 'bool' },
  { name: 'description', kind: 'string' },
  { name: 'repo', kind: 'string' },
];
const COMMANDS: Record<string, FlagSpec[]> = {
  version: [
    { name: 'short', kind: 'bool' },
    { name: 'template', kind: 'string' },
  ],
  upgrade: INSTALL_FLAGS,
  install: INSTALL_FLAGS.filter((f) => !['install', 'reuse-values', 'reset-values', 'reset-then-reuse-values', 'history-max', 'cleanup-on-fail', 'force'].includes(f.name)),
  template: [
    ...INSTALL_FLAGS.filter((f) => ['version', 'values', 'set', 'set-string', 'repo', 'create-namespace', 'skip-crds', 'description'].includes(f.name)),
    { name: 'kube-version', kind: 'string' },
    { name: 'include-crds', kind: 'bool' },
    { name: 'skip-tests', kind: 'bool' },
    { name: 'validate', kind: 'bool' },
  ],
  status: [
    { name: 'output', short: 'o', kind: 'string' },
    { name: 'revision', kind: 'int' },
    { name: 'show-desc', kind: 'bool' },
    { name: 'show-resources', kind: 'bool' },
  ],
  list: [
    { name: 'output', short: 'o', kind: 'string' },
    { name: 'all', short: 'a', kind: 'bool' },
    { name: 'pending', kind: 'bool' },
    { name: 'failed', kind: 'bool' },
    { name: 'deployed', kind: 'bool' },
    { name: 'filter', short: 'f', kind: 'string' },
    { name: 'all-namespaces', short: 'A', kind: 'bool' },
  ],
  ls: [],
  history: [
    { name: 'output', short: 'o', kind: 'string' },
    { name: 'max', kind: 'int' },
  ],
  rollback: [
    { name: 'wait', kind: 'bool' },
    { name: 'timeout', kind: 'duration' },
    { name: 'force', kind: 'bool' },
    { name: 'cleanup-on-fail', kind: 'bool' },
    { name: 'history-max', kind: 'int' },
  ],
  uninstall: [
    { name: 'wait', kind: 'bool' },
    { name: 'timeout', kind: 'duration' },
    { name: 'keep-history', kind: 'bool' },
    { name: 'ignore-not-found', kind: 'bool' },
  ],
  get: [
    { name: 'output', short: 'o', kind: 'string' },
    { name: 'all', short: 'a', kind: 'bool' },
    { name: 'revision', kind: 'int' },
  ],
};
COMMANDS.ls = COMMANDS.list!;

/** pkg/cli/output/output.go EncodeJSON: json.Encoder, compact, newline. */
const json = (v: unknown) => `${JSON.stringify(v)}\n`;
const goTime = (iso: string) => iso.replace(/Z$/, '.000000000Z');

function refusalText(r: Refusal, prefix = ''): string {
  if (r.kind === 'kubeconfig') return `Error: ${prefix}Kubernetes cluster unreachable: ${r.message}\n`;
  const server = r.target?.server ?? 'http://localhost:8080';
  const hp = r.target?.hostPort ?? '127.0.0.1:8080';
  const why = r.kind === 'flaky' ? 'net/http: TLS handshake timeout' : `dial tcp ${hp}: connect: connection refused`;
  // pkg/kube/client.go IsReachable: "Kubernetes cluster unreachable: <discovery error>"
  return `Error: ${prefix}Kubernetes cluster unreachable: Get "${server.replace(/\/$/, '')}/version": ${why}\n`;
}

export const helm: SimulatedTool = async (io) => {
  const pos = positionals(io.argv, [...GLOBAL, ...Object.values(COMMANDS).flat()]);
  const cmd = pos[0];
  if (!cmd) {
    io.out('The Kubernetes package manager\n\nUsage:\n  helm [command]\n');
    return 0;
  }
  const specs = COMMANDS[cmd];
  if (!specs) {
    io.err(`Error: unknown command "${cmd}" for "helm"\nRun 'helm --help' for usage.\n`);
    return 1;
  }
  let flags: ReturnType<typeof parseFlags>['flags'];
  let args: string[];
  try {
    const p = parseFlags(io.argv, [...GLOBAL, ...specs]);
    flags = p.flags;
    args = p.args.slice(1);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.err(`Error: ${err.message}\n`);
    return 1;
  }
  const ns = str(flags, 'namespace') ?? 'default';
  const open = { tool: 'helm', kubeconfig: str(flags, 'kubeconfig'), context: str(flags, 'kube-context'), env: io.env };
  const needArgs = (n: number, usage: string): boolean => {
    if (args.length === n) return true;
    io.err(`Error: "helm ${usage}" requires ${n} argument${n > 1 ? 's' : ''}\n\nUsage:  helm ${usage} [flags]\n`);
    return false;
  };

  switch (cmd) {
    case 'version': {
      // cmd/helm/version.go
      if (bool(flags, 'short')) io.out(`${HELM_VERSION}+g${HELM_COMMIT.slice(0, 7)}\n`);
      else io.out(`version.BuildInfo{Version:"${HELM_VERSION}", GitCommit:"${HELM_COMMIT}", GitTreeState:"clean", GoVersion:"go1.22.7"}\n`);
      return 0;
    }
    case 'template':
      return template(io, args, flags);
    case 'upgrade':
    case 'install':
      if (!needArgs(2, `${cmd} [RELEASE] [CHART]`)) return 1;
      return upgrade(io, open, cmd, args[0]!, args[1]!, flags, ns);
    case 'status':
      if (!needArgs(1, 'status RELEASE_NAME')) return 1;
      return simple(io, open, (c) => {
        const rel = getRelease(c, ns, args[0]!);
        if (!rel) return { code: 1, err: 'Error: release: not found\n' };
        const wanted = flags.revision ? rel.revisions.find((r) => r.revision === Number(flags.revision)) : lastRevision(rel);
        if (!wanted) return { code: 1, err: 'Error: release: not found\n' };
        return { code: 0, out: str(flags, 'output') === 'json' ? json(statusJson(rel, wanted)) : statusText(rel, wanted) };
      });
    case 'list':
    case 'ls':
      return simple(io, open, (c) => {
        // cmd/helm/list.go: default state mask is deployed|failed; -a = all; --pending adds pending-*
        const rows = Object.values(c.helm as Record<string, Release>)
          .filter((r) => r.revisions.length && (bool(flags, 'all-namespaces') || r.namespace === ns))
          .map((r) => ({ r, last: lastRevision(r) }))
          .filter(({ last }) =>
            bool(flags, 'all') ? true : bool(flags, 'pending') ? isPending(last.status) : ['deployed', 'failed'].includes(last.status),
          )
          .map(({ r, last }) => ({
            name: r.name,
            namespace: r.namespace,
            revision: String(last.revision),
            updated: `${last.updated.replace('T', ' ').replace('Z', '')}.000000000 +0000 UTC`,
            status: last.status,
            chart: `${last.chartName}-${last.chartVersion}`,
            app_version: last.appVersion,
          }));
        if (str(flags, 'output') === 'json') return { code: 0, out: json(rows) };
        const lines = ['NAME\tNAMESPACE\tREVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION', ...rows.map((x) => [x.name, x.namespace, x.revision, x.updated, x.status, x.chart, x.app_version].join('\t'))];
        return { code: 0, out: `${lines.join('\n')}\n` };
      });
    case 'history':
      if (!needArgs(1, 'history RELEASE_NAME')) return 1;
      return simple(io, open, (c) => {
        const rel = getRelease(c, ns, args[0]!);
        if (!rel) return { code: 1, err: 'Error: release: not found\n' };
        const max = Number(flags.max ?? 256);
        const rows = rel.revisions.slice(-max).map((r) => ({
          revision: r.revision,
          updated: goTime(r.updated),
          status: r.status,
          chart: `${r.chartName}-${r.chartVersion}`,
          app_version: r.appVersion,
          description: r.description,
        }));
        if (str(flags, 'output') === 'json') return { code: 0, out: json(rows) };
        return { code: 0, out: ['REVISION\tUPDATED\tSTATUS\tCHART\tAPP VERSION\tDESCRIPTION', ...rows.map((r) => [r.revision, r.updated, r.status, r.chart, r.app_version, r.description].join('\t'))].join('\n') + '\n' };
      });
    case 'rollback':
      if (args.length < 1 || args.length > 2) {
        io.err('Error: "helm rollback" requires at least 1 argument\n');
        return 1;
      }
      return simple(io, open, (c, now) => {
        const rel = getRelease(c, ns, args[0]!);
        if (!rel) return { code: 1, err: 'Error: release: not found\n' };
        // pkg/action/rollback.go: no revision (or 0) means the previous one
        const target = args[1] && args[1] !== '0' ? Number(args[1]) : lastRevision(rel).revision - 1;
        const rev = rel.revisions.find((r) => r.revision === target);
        if (!rev) return { code: 1, err: `Error: release has no ${target} version\n` };
        rollback(c, rel, rev, now);
        return { code: 0, out: 'Rollback was a success! Happy Helming!\n' };
      });
    case 'uninstall':
      if (!needArgs(1, 'uninstall RELEASE_NAME')) return 1;
      return simple(io, open, (c) => {
        if (!uninstall(c, ns, args[0]!)) {
          if (bool(flags, 'ignore-not-found')) return { code: 0 };
          return { code: 1, err: `Error: uninstall: Release not loaded: ${args[0]}: release: not found\n` };
        }
        return { code: 0, out: `release "${args[0]}" uninstalled\n` };
      });
    case 'get': {
      if (args[0] !== 'values' || args.length !== 2) {
        io.err(`Error: the lab helm serves only "helm get values RELEASE_NAME"\n`);
        return 1;
      }
      return simple(io, open, (c) => {
        const rel = getRelease(c, ns, args[1]!);
        if (!rel) return { code: 1, err: 'Error: release: not found\n' };
        const rev = flags.revision ? rel.revisions.find((r) => r.revision === Number(flags.revision)) : lastRevision(rel);
        if (!rev) return { code: 1, err: 'Error: release: not found\n' };
        // cmd/helm/get_values.go: user-supplied values only (unless --all)
        if (str(flags, 'output') === 'json') return { code: 0, out: json(rev.config) };
        return { code: 0, out: `USER-SUPPLIED VALUES:\n${Object.keys(rev.config).length ? stringify(rev.config) : 'null\n'}` };
      });
    }
  }
  return 1;
};

type Open = { tool: string; kubeconfig?: string; context?: string; env: NodeJS.ProcessEnv };
type Reply = { code: number; out?: string; err?: string };

async function simple(io: ToolIO, open: Open, fn: (c: LabCluster, now: number) => Reply): Promise<number> {
  const res = await onCluster(io.labDir, open, (_s, c, now) => fn(c, now));
  return emit(io, res);
}

function emit(io: ToolIO, res: Outcome<Reply>, prefix = ''): number {
  if (!res.ok) {
    io.err(refusalText(res.refusal, prefix));
    return 1;
  }
  if (res.value.out) io.out(res.value.out);
  if (res.value.err) io.err(res.value.err);
  return res.value.code;
}

/** pkg/release/release.go as `helm status -o json` prints it (chart stripped). */
function statusJson(rel: Release, rev: Revision) {
  return {
    name: rel.name,
    info: {
      first_deployed: goTime(rev.firstDeployed),
      last_deployed: goTime(rev.updated),
      deleted: '',
      description: rev.description,
      status: rev.status,
      notes: notes(rev.chartVersion),
    },
    config: rev.config,
    manifest: `---\n# Source: cilium/templates/...\n# ${rev.objects.length} objects rendered by the lab\n`,
    version: rev.revision,
    namespace: rel.namespace,
  };
}

const notes = (v: string) =>
  `You have successfully installed Cilium.\n\nYour release version is ${v}.\n\nFor any further help, visit https://docs.cilium.io/en/v${v.split('.').slice(0, 2).join('.')}/gettinghelp\n`;

/** cmd/helm/status.go table output */
function statusText(rel: Release, rev: Revision): string {
  return [
    `NAME: ${rel.name}`,
    `LAST DEPLOYED: ${new Date(rev.updated).toUTCString().replace('GMT', 'UTC')}`,
    `NAMESPACE: ${rel.namespace}`,
    `STATUS: ${rev.status}`,
    `REVISION: ${rev.revision}`,
    'TEST SUITE: None',
    'NOTES:',
    notes(rev.chartVersion),
  ].join('\n');
}

/**
 * cmd/helm values.Options MergeValues: -f files in order, then --set (typed by strvals), then --set-string.
 * stdin: the text of `--values -` (pkg/cli/values/options.go readFile reads stdin for "-").
 */
function readValues(flags: ReturnType<typeof parseFlags>['flags'], stdin = ''): Values {
  let values: Values = {};
  for (const f of list(flags, 'values')) {
    if (f !== '-' && !existsSync(toolPath(f))) throw new Error(`open ${f}: no such file or directory`);
    values = mergeValues(values, (parse(f === '-' ? stdin : readFileSync(toolPath(f), 'utf8')) as Values | null) ?? {});
  }
  const pairs = (flag: string, typed: boolean) => {
    for (const kv of list(flags, flag)) {
      const eq = kv.indexOf('=');
      if (eq < 0) throw new Error(`failed parsing --${flag} data: key "${kv}" has no value`);
      const raw = kv.slice(eq + 1);
      // pkg/strvals typedVal: true/false/null and base-10 integers; everything else stays a string
      const v = !typed ? raw : raw === 'true' ? true : raw === 'false' ? false : raw === 'null' ? null : /^(0|-?[1-9]\d*)$/.test(raw) ? Number(raw) : raw;
      values = setPath(values, kv.slice(0, eq), v);
    }
  };
  pairs('set', true);
  pairs('set-string', false);
  return values;
}

/** What `--wait` waits for (pkg/kube/ready.go): DaemonSets/Deployments ready, LoadBalancer Services with an ingress. */
function releaseReady(c: LabCluster, rev: Revision, now: number): boolean {
  return rev.objects.every((key) => {
    const o = c.kube[key] as KubeObject | undefined;
    if (!o) return true;
    if (o.kind === 'DaemonSet' || o.kind === 'Deployment') return isReady(c, keyOf(o), now);
    if (o.kind === 'Service' && o.spec?.type === 'LoadBalancer') return Boolean(o.status?.loadBalancer?.ingress?.length) || Boolean(o.spec?.externalIPs?.length);
    return true;
  });
}

/**
 * helm's command prefix for a failed operation (cmd/helm/install.go, upgrade.go): `install` wraps errors with
 * "INSTALLATION FAILED", `upgrade` with "UPGRADE FAILED" — except `upgrade --install` of a release that does not
 * exist yet, which runs the install and returns its error unwrapped.
 */
const failPrefix = (cmd: 'upgrade' | 'install', installing: boolean) => (cmd === 'install' ? 'INSTALLATION FAILED: ' : installing ? '' : 'UPGRADE FAILED: ');

/** The chart's verdict on values: the real chart when the lab is given one (realChartCheck), else the lab's rules. */
async function chartVerdict(io: ToolIO, version: string, values: Values): Promise<string | undefined> {
  const real = await realChartCheck(io.env, version, values);
  if (real !== undefined) return real || undefined;
  return chartRefusal(values)?.message;
}

/**
 * With MESHPILOT_LAB_HELM (a real helm 3.16 binary) and MESHPILOT_LAB_CHARTS (a directory holding
 * cilium-<version>.tgz) the lab validates values by rendering the real chart (`helm template`), and reports the real
 * error. Returns the error text, "" when the chart takes the values, or undefined when no real chart is at hand.
 */
async function realChartCheck(env: NodeJS.ProcessEnv, version: string, values: Values): Promise<string | undefined> {
  const helmBin = env.MESHPILOT_LAB_HELM;
  const chart = env.MESHPILOT_LAB_CHARTS ? path.join(env.MESHPILOT_LAB_CHARTS, `cilium-${version}.tgz`) : '';
  if (!helmBin || !chart || !existsSync(chart)) return undefined;
  // helm's own state only: the values (key material among them) go through stdin, never to a file
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-helm-'));
  try {
    const r = await execa(helmBin, ['template', 'cilium', chart, '--namespace', 'kube-system', '--kube-version', KUBE_VERSION, '--values', '-'], {
      input: JSON.stringify(values),
      reject: false,
      env: { HELM_CACHE_HOME: dir, HELM_CONFIG_HOME: dir, HELM_DATA_HOME: dir, PATH: env.PATH ?? '' },
      extendEnv: false,
      timeout: 120_000,
    });
    if (r.exitCode === 0) return '';
    // cmd/helm/helm.go prints "Error: <err>"; `template` adds a --debug hint to render errors
    const m = /(?:^|\n)Error: ([\s\S]*?)(?:\n\nUse --debug flag to render out invalid YAML)?\n*$/.exec(String(r.stderr));
    return m ? `${m[1]!.replace(/\n$/, '')}${m[1]!.startsWith('values don') ? '\n' : ''}` : String(r.stderr).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Kubernetes version the lab's clusters run (the examples' pin); `helm template` needs one the chart accepts. */
const KUBE_VERSION = '1.32.3';

function locateChart(io: ToolIO, chart: string, flags: ReturnType<typeof parseFlags>['flags']): string | undefined {
  // pkg/action/install.go LocateChart: a bare name needs --repo, else it is a path
  if (chart === 'cilium' && !str(flags, 'repo')) {
    io.err(`Error: non-absolute URLs should be in form of repo_name/path_to_chart, got: ${chart}\n`);
    return undefined;
  }
  if (!/(^|\/)cilium(-\d+\.\d+\.\d+\.tgz)?$/.test(chart)) {
    const repo = chart.split('/')[0];
    io.err(chart.includes('/') && !chart.startsWith('.') && !chart.startsWith('/') ? `Error: repo ${repo} not found\n` : `Error: path "${chart}" not found\n`);
    return undefined;
  }
  const version = str(flags, 'version') ?? /cilium-(\d+\.\d+\.\d+)\.tgz$/.exec(chart)?.[1] ?? MODELLED_CHART_VERSION;
  if (!/^1\.1[4-7]\.\d+$/.test(version)) {
    io.err(`Error: chart "cilium" matching ${version} not found in cilium index. (try 'helm repo update'): no chart version found for cilium-${version}\n`);
    return undefined;
  }
  return version;
}

async function upgrade(io: ToolIO, open: Open, cmd: 'upgrade' | 'install', name: string, chart: string, flags: ReturnType<typeof parseFlags>['flags'], ns: string): Promise<number> {
  const version = locateChart(io, chart, flags);
  if (!version) return 1;
  let userValues: Values;
  let timeoutMs: number;
  const stdin = list(flags, 'values').includes('-') ? await io.stdin() : '';
  try {
    userValues = readValues(flags, stdin);
    timeoutMs = parseDuration(str(flags, 'timeout') ?? '5m0s');
  } catch (err) {
    io.err(`Error: ${(err as Error).message}\n`);
    return 1;
  }
  const wait = bool(flags, 'wait') || bool(flags, 'atomic');
  // the release history first (it needs the cluster), then the chart's verdict on the values, then the change
  const plan = await onCluster(io.labDir, open, (_s, c) => {
    const existing = getRelease(c, ns, name);
    const last = existing ? lastRevision(existing) : undefined;
    const installing = !last || last.status === 'uninstalled';
    if (cmd === 'install' && !installing) return { err: 'Error: INSTALLATION FAILED: cannot re-use a name that is still in use\n' };
    if (cmd === 'upgrade' && installing && !bool(flags, 'install')) return { err: `Error: UPGRADE FAILED: "${name}" has no deployed releases\n` };
    // pkg/action/upgrade.go prepareUpgrade: a pending last revision blocks every new operation
    if (last && isPending(last.status)) return { err: `Error: ${failPrefix(cmd, false)}another operation (install/upgrade/rollback) is in progress\n` };
    const reuse = bool(flags, 'reuse-values') || (!installing && !list(flags, 'values').length && !list(flags, 'set').length && !list(flags, 'set-string').length && !bool(flags, 'reset-values'));
    return { installing, config: reuse && last ? mergeValues(last.config, userValues) : userValues };
  });
  // cmd/helm/upgrade.go: with --install the history lookup runs first and its error (an unreachable cluster) comes
  // back unwrapped; the real helm 3.16.4 prints "Error: Kubernetes cluster unreachable: …" (test/conformance/helm.test.ts)
  if (!plan.ok) return emit(io, { ok: false, refusal: plan.refusal }, cmd === 'upgrade' && bool(flags, 'install') ? '' : failPrefix(cmd, false));
  if ('err' in plan.value) {
    io.err(plan.value.err!);
    return 1;
  }
  const { installing, config } = plan.value as { installing: boolean; config: Values };
  // cmd/helm/upgrade.go prints the notice (table output only) before it runs the install
  if (installing && cmd === 'upgrade' && str(flags, 'output') !== 'json') io.out(`Release "${name}" does not exist. Installing it now.\n`);
  const refused = await chartVerdict(io, version, config);
  if (refused) {
    io.err(`Error: ${failPrefix(cmd, installing)}${refused}\n`);
    return 1;
  }
  const started = await onCluster(io.labDir, { ...open, countFlaky: false }, (_s, c, now) => {
    const { rev } = beginInstallOrUpgrade(c, ns, name, version, config, now);
    if (!wait) finish(c, ns, name, rev.revision, true, now);
    return rev.revision;
  });
  if (!started.ok) return emit(io, { ok: false, refusal: started.refusal }, failPrefix(cmd, installing));
  const revision = started.value;
  if (wait) {
    const done = await pollUntil(Date.now() + timeoutMs, async () => {
      const r = await onCluster(io.labDir, { ...open, countFlaky: false }, (_s, c, now) => {
        const rel = getRelease(c, ns, name);
        const rev = rel?.revisions.find((x) => x.revision === revision);
        if (!rev || !releaseReady(c, rev, now)) return undefined;
        finish(c, ns, name, revision, true, now);
        return true;
      });
      return r.ok ? r.value : undefined;
    });
    if (!done) {
      await onCluster(io.labDir, { ...open, countFlaky: false }, (_s, c, now) => finish(c, ns, name, revision, false, now, 'context deadline exceeded'));
      io.err(`Error: ${failPrefix(cmd, installing)}context deadline exceeded\n`);
      return 1;
    }
  }
  const final = await onCluster(io.labDir, { ...open, countFlaky: false }, (_s, c) => {
    const rel = getRelease(c, ns, name)!;
    return { rel, rev: rel.revisions.find((x) => x.revision === revision)! };
  });
  if (!final.ok) return emit(io, { ok: false, refusal: final.refusal });
  const { rel, rev } = final.value;
  if (str(flags, 'output') === 'json') io.out(json(statusJson(rel, rev)));
  else {
    if (!installing && cmd === 'upgrade') io.out(`Release "${name}" has been upgraded. Happy Helming!\n`);
    io.out(statusText(rel, rev));
  }
  return 0;
}

/** Where each object the lab renders comes from in the chart (the `# Source:` line of `helm template`). */
function sourceOf(o: KubeObject): string {
  const n = o.metadata.name;
  if (o.kind === 'ConfigMap' && n === 'cilium-config') return 'templates/cilium-configmap.yaml';
  if (n === 'cilium') return 'templates/cilium-agent/daemonset.yaml';
  if (n === 'cilium-envoy') return 'templates/cilium-envoy/daemonset.yaml';
  if (n === 'cilium-operator') return 'templates/cilium-operator/deployment.yaml';
  if (n === 'hubble-relay') return 'templates/hubble-relay/deployment.yaml';
  if (n === 'clustermesh-apiserver') return `templates/clustermesh-apiserver/${o.kind === 'Service' ? 'service' : 'deployment'}.yaml`;
  return 'templates/';
}

/**
 * `helm template` (cmd/helm/template.go): no cluster; the values are checked like an install, then the objects the
 * lab models are printed. A render error gets template.go's --debug hint.
 */
async function template(io: ToolIO, args: string[], flags: ReturnType<typeof parseFlags>['flags']): Promise<number> {
  if (args.length < 1 || args.length > 2) {
    io.err(`Error: "helm template" requires at least 1 argument\n\nUsage:  helm template [NAME] [CHART] [flags]\n`);
    return 1;
  }
  const [name, chart] = args.length === 2 ? [args[0]!, args[1]!] : ['release-name', args[0]!];
  const version = locateChart(io, chart, flags);
  if (!version) return 1;
  let values: Values;
  const stdin = list(flags, 'values').includes('-') ? await io.stdin() : '';
  try {
    values = readValues(flags, stdin);
  } catch (err) {
    io.err(`Error: ${(err as Error).message}\n`);
    return 1;
  }
  const refused = await chartVerdict(io, version, values);
  if (refused) {
    io.err(`Error: ${refused}\n${refused.startsWith('execution error') ? '\nUse --debug flag to render out invalid YAML\n' : ''}`);
    return 1;
  }
  const ns = str(flags, 'namespace') ?? 'default';
  for (const o of renderCiliumChart(values, version, name, ns)) io.out(`---\n# Source: cilium/${sourceOf(o)}\n${stringify(o)}`);
  return 0;
}
