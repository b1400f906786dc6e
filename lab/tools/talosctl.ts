import { CliError, findCommand, parseCommand, type CommandSpec, type FlagSpec, type ParsedCommand } from '../talos/cli.ts';
import { TalosctlError } from '../talos/connect.ts';
import { DEFAULT_KUBERNETES_VERSION, TALOS_VERSION } from '../talos/machine-config.ts';

/** upgrade-k8s --to defaults to the Kubernetes the client's Talos ships (constants.DefaultKubernetesVersion). */
const UPGRADE_K8S_DEFAULT_TO = DEFAULT_KUBERNETES_VERSION;
import type { SimulatedTool, ToolIO } from './io.ts';

/**
 * The lab's talosctl (Talos v1.9.5): the commands meshpilot uses, with the real flags (each command's init()
 * in siderolabs/talos@v1.9.5 cmd/talosctl/cmd/{talos,mgmt}/...), outputs and errors. Real commands the lab
 * does not simulate fail with a lab message rather than pretending to work. The offline commands are held to
 * the real talosctl by test/conformance/talos.test.ts. See docs/lab-talosctl.md.
 */
const b = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({ name, kind: 'bool', usage, default: false, ...extra });
const s = (name: string, usage: string, extra: Partial<FlagSpec> = {}): FlagSpec => ({ name, kind: 'string', usage, ...extra });

const GEN_FORCE = b('force', 'will overwrite existing files', { short: 'f' });

export const COMMANDS: CommandSpec[] = [
  {
    path: ['version'],
    use: 'version',
    args: [0, 0],
    flags: [b('short', 'Print the short version'), b('client', 'Print client version only'), b('insecure', 'use Talos maintenance mode API', { short: 'i' }), b('json', '', { hidden: true })],
  },
  {
    path: ['gen', 'secrets'],
    use: 'gen secrets',
    args: [0, 0],
    flags: [
      s('output-file', 'path of the output file', { short: 'o', default: 'secrets.yaml' }),
      s('talos-version', 'the desired Talos version to generate secrets bundle for (backwards compatibility, e.g. v0.8)'),
      s('from-controlplane-config', 'use the provided controlplane Talos machine configuration as input'),
      s('from-kubernetes-pki', 'use a Kubernetes PKI directory (e.g. /etc/kubernetes/pki) as input', { short: 'p' }),
      s('kubernetes-bootstrap-token', 'use the provided bootstrap token as input', { short: 't' }),
    ],
    inherited: [GEN_FORCE],
  },
  {
    path: ['gen', 'config'],
    use: 'gen config <cluster name> <cluster endpoint>',
    args: [2, 2],
    flags: [
      s('install-disk', 'the disk to install to', { default: '/dev/sda' }),
      s('install-image', 'the image used to perform an installation', { default: `ghcr.io/siderolabs/installer:${TALOS_VERSION}` }),
      { name: 'additional-sans', kind: 'slice', usage: 'additional Subject-Alt-Names for the APIServer certificate', default: undefined },
      s('dns-domain', 'the dns domain to use for cluster', { default: 'cluster.local' }),
      s('version', 'the desired machine config version to generate', { default: 'v1alpha1' }),
      s('talos-version', 'the desired Talos version to generate config for (backwards compatibility, e.g. v0.8)'),
      s('kubernetes-version', 'desired kubernetes version to run', { default: DEFAULT_KUBERNETES_VERSION }),
      { name: 'config-patch', kind: 'array', usage: 'patch generated machineconfigs (applied to all node types), use @file to read a patch from file' },
      { name: 'config-patch-control-plane', kind: 'array', usage: "patch generated machineconfigs (applied to 'init' and 'controlplane' types)" },
      { name: 'config-patch-worker', kind: 'array', usage: "patch generated machineconfigs (applied to 'worker' type)" },
      { name: 'registry-mirror', kind: 'slice', usage: 'list of registry mirrors to use in format: <registry host>=<mirror URL>' },
      b('persist', 'the desired persist value for configs', { short: 'p', default: true }),
      b('with-examples', 'renders all machine configs with the commented examples', { default: true }),
      b('with-docs', 'renders all machine configs adding the documentation for each field', { default: true }),
      b('with-cluster-discovery', 'enable cluster discovery feature', { default: true }),
      b('with-kubespan', 'enable KubeSpan feature'),
      s('with-secrets', "use a secrets file generated using 'gen secrets'"),
      {
        name: 'output-types',
        short: 't',
        kind: 'slice',
        usage: 'types of outputs to be generated. valid types are: ["controlplane" "worker" "talosconfig"]',
        default: undefined,
        shownDefault: '[controlplane,worker,talosconfig]',
      },
      s('output', 'destination to output generated files. when multiple output types are specified, it must be a directory. for a single output type, it must either be a file path, or "-" for stdout', { short: 'o' }),
      s('output-dir', 'destination to output generated files', { hidden: true }),
    ],
    inherited: [GEN_FORCE],
  },
  ...(['machineconfig', 'mc'] as const).map(
    (parent): CommandSpec => ({
      path: [parent, 'patch'],
      use: 'machineconfig patch <machineconfig-file>',
      args: [1, 1],
      flags: [
        s('output', 'output destination. if not specified, output will be printed to stdout', { short: 'o' }),
        { name: 'patch', short: 'p', kind: 'array', usage: 'patch generated machineconfigs (applied to all node types), use @file to read a patch from file' },
      ],
    }),
  ),
  {
    path: ['validate'],
    use: 'validate',
    args: [0, 0],
    flags: [
      s('config', 'the path of the config file', { short: 'c' }),
      s('mode', 'the mode to validate the config for (valid values are metal, cloud, and container)', { short: 'm', required: true }),
      b('strict', 'treat validation warnings as errors'),
    ],
  },
  {
    path: ['apply-config'],
    aliases: ['apply'],
    use: 'apply-config',
    args: [0, 1],
    flags: [
      s('file', 'the filename of the updated configuration', { short: 'f' }),
      b('insecure', 'apply the config using the insecure (encrypted with no auth) maintenance service', { short: 'i' }),
      b('dry-run', 'check how the config change will be applied in dry-run mode'),
      { name: 'cert-fingerprint', kind: 'slice', usage: 'list of server certificate fingeprints to accept (defaults to no check)' },
      { name: 'config-patch', short: 'p', kind: 'array', usage: 'the list of config patches to apply to the local config file before sending it to the node' },
      { name: 'timeout', kind: 'duration', usage: 'the config will be rolled back after specified timeout (if try mode is selected)', default: '1m0s' },
      s('mode', 'apply config mode', { short: 'm', default: 'auto', varname: 'auto, interactive, no-reboot, reboot, staged, try', shownDefault: 'auto' }),
    ],
  },
  {
    path: ['get'],
    aliases: ['g'],
    use: 'get <type> [<id>]',
    args: [1, 2],
    flags: [
      s('namespace', 'resource namespace (default is to use default namespace per resource)'),
      s('output', 'output mode (json, table, yaml, jsonpath)', { short: 'o', default: 'table' }),
      b('watch', 'watch resource changes', { short: 'w' }),
      b('insecure', 'get resources using the insecure (encrypted with no auth) maintenance service', { short: 'i' }),
    ],
  },
  {
    path: ['bootstrap'],
    use: 'bootstrap',
    args: [0, 0],
    flags: [s('recover-from', 'recover etcd cluster from the snapshot'), b('recover-skip-hash-check', 'skip integrity check when recovering etcd (use when recovering from data directory copy)')],
  },
  {
    path: ['kubeconfig'],
    use: 'kubeconfig [local-path]',
    args: [0, 1],
    flags: [
      b('force', 'Force overwrite of kubeconfig if already present, force overwrite on kubeconfig merge', { short: 'f' }),
      s('force-context-name', 'Force context name for kubeconfig merge'),
      b('merge', 'Merge with existing kubeconfig', { short: 'm', default: true }),
    ],
  },
  // cmd/talosctl/cmd/talos/etcd.go: no Args validator, so cobra's legacyArgs lets a leaf command take any arguments
  { path: ['etcd', 'members'], use: 'etcd members', args: [0, Infinity], flags: [] },
  { path: ['etcd', 'status'], use: 'etcd status', args: [0, Infinity], flags: [] },
  { path: ['etcd', 'snapshot'], use: 'etcd snapshot <path>', args: [1, 1], flags: [] },
  {
    // cmd/talosctl/cmd/talos/upgrade.go init() + track.go addTrackActionFlags
    path: ['upgrade'],
    use: 'upgrade',
    args: [0, 0],
    flags: [
      b('debug', 'debug operation from kernel logs. --wait is set to true when this flag is set'),
      b('force', 'force the upgrade (skip checks on etcd health and members, might lead to data loss)', { short: 'f' }),
      s('image', 'the container image to use for performing the install', { short: 'i', default: `ghcr.io/siderolabs/installer:${TALOS_VERSION}` }),
      b('insecure', 'upgrade using the insecure (encrypted with no auth) maintenance service'),
      // hidden in the real --help (MarkHidden), still accepted
      b('preserve', 'preserve data', { short: 'p', hidden: true }),
      s('reboot-mode', 'select the reboot mode during upgrade. Mode "powercycle" bypasses kexec. Valid values are: ["default" "powercycle"].', { short: 'm', default: 'default' }),
      b('stage', 'stage the upgrade to perform it after a reboot', { short: 's' }),
      { name: 'timeout', kind: 'duration', usage: 'time to wait for the operation is complete if --debug or --wait is set', default: '30m0s' },
      b('wait', 'wait for the operation to complete, tracking its progress. always set to true when --debug is set', { default: true }),
    ],
  },
  {
    // cmd/talosctl/cmd/talos/upgrade-k8s.go init()
    path: ['upgrade-k8s'],
    use: 'upgrade-k8s',
    args: [0, 0],
    flags: [
      s('apiserver-image', 'kube-apiserver image to use', { default: 'registry.k8s.io/kube-apiserver' }),
      s('controller-manager-image', 'kube-controller-manager image to use', { default: 'registry.k8s.io/kube-controller-manager' }),
      b('dry-run', 'skip the actual upgrade and show the upgrade plan instead'),
      s('endpoint', 'the cluster control plane endpoint'),
      s('from', 'the Kubernetes control plane version to upgrade from'),
      s('kubelet-image', 'kubelet image to use', { default: 'ghcr.io/siderolabs/kubelet' }),
      b('pre-pull-images', 'pre-pull images before upgrade', { default: true }),
      s('proxy-image', 'kube-proxy image to use', { default: 'registry.k8s.io/kube-proxy' }),
      s('scheduler-image', 'kube-scheduler image to use', { default: 'registry.k8s.io/kube-scheduler' }),
      s('to', 'the Kubernetes control plane version to upgrade to', { default: UPGRADE_K8S_DEFAULT_TO }),
      b('upgrade-kubelet', 'upgrade kubelet service', { default: true }),
      b('with-docs', 'patch all machine configs adding the documentation for each field', { default: true }),
      b('with-examples', 'patch all machine configs with the commented examples', { default: true }),
    ],
  },
  {
    path: ['health'],
    use: 'health',
    args: [0, 0],
    flags: [
      { name: 'control-plane-nodes', kind: 'slice', usage: 'specify IPs of control plane nodes' },
      { name: 'worker-nodes', kind: 'slice', usage: 'specify IPs of worker nodes' },
      s('init-node', 'specify IPs of init node'),
      { name: 'wait-timeout', kind: 'duration', usage: 'timeout to wait for the cluster to be ready', default: '20m0s' },
      s('k8s-endpoint', 'use endpoint instead of kubeconfig default'),
      b('server', 'run server-side check', { default: true }),
      b('run-e2e', 'run Kubernetes e2e test'),
    ],
  },
];

/** Real talosctl v1.9 commands outside the lab's scope, so they fail as "not simulated", not "unknown". */
const REAL_UNSIMULATED = new Set([
  'cgroups', 'cluster', 'completion', 'config', 'conformance', 'containers', 'copy', 'cp', 'dashboard', 'disks', 'dmesg',
  'docs', 'edit', 'events', 'image', 'inject', 'inspect', 'list', 'ls', 'logs', 'memory', 'meta', 'mounts',
  'netstat', 'patch', 'pcap', 'processes', 'ps', 'read', 'cat', 'reboot', 'reset', 'restart', 'rollback', 'rotate-ca',
  'service', 'services', 'shutdown', 'stats', 'support', 'time', 'usage', 'du', 'wipe', 'help',
]);
const PARENTS = new Map([
  ['gen', ['secrets', 'config', 'ca', 'crt', 'csr', 'key', 'keypair', 'secureboot']],
  ['etcd', ['members', 'status', 'alarm', 'defrag', 'leave', 'remove-member', 'forfeit-leadership', 'snapshot']],
  ['machineconfig', ['gen', 'patch']],
  ['mc', ['gen', 'patch']],
]);

async function run(io: ToolIO, p: ParsedCommand): Promise<number> {
  const local = await import('../talos/commands-local.ts');
  switch (p.spec.path.join(' ')) {
    case 'version':
      if (p.flags.client === true) return io.out(local.clientVersionText(p.flags.short === true)), 0;
      return (await import('../talos/commands-node.ts')).serverVersion(io, p);
    case 'gen secrets':
      return local.genSecrets(p);
    case 'gen config':
      return local.genConfig(io, p);
    case 'validate':
      return local.validate(io, p);
    case 'machineconfig patch':
    case 'mc patch':
      return local.machineconfigPatch(io, p);
  }
  const node = await import('../talos/commands-node.ts');
  switch (p.spec.path.join(' ')) {
    case 'apply-config':
      return node.applyConfig(io, p);
    case 'get':
      return node.get(io, p);
    case 'bootstrap':
      return node.bootstrap(io, p);
    case 'kubeconfig':
      return node.kubeconfig(io, p);
    case 'etcd members':
      return node.etcdMembers(io, p);
    case 'etcd snapshot':
      return node.etcdSnapshot(io, p);
    case 'health':
      return node.health(io, p);
  }
  const day2 = await import('../talos/commands-upgrade.ts');
  switch (p.spec.path.join(' ')) {
    case 'upgrade':
      return day2.upgrade(io, p);
    case 'upgrade-k8s':
      return day2.upgradeK8s(io, p);
    case 'etcd status':
      return day2.etcdStatus(io, p);
  }
  throw new Error(`lab talosctl: no handler for ${p.spec.path.join(' ')}`);
}

export const talosctl: SimulatedTool = async (io) => {
  try {
    const { spec, words } = findCommand(io.argv, COMMANDS, PARENTS);
    if (!spec) {
      const word = words[0];
      if (!word) {
        io.out('A CLI for out-of-band management of Kubernetes nodes created by Talos\n');
        return 0;
      }
      const sub = PARENTS.has(word) ? words[1] : undefined;
      if (REAL_UNSIMULATED.has(word) || (sub && PARENTS.get(word)!.includes(sub)) || PARENTS.has(word)) {
        io.err(`meshpilot lab: "talosctl ${[word, sub].filter(Boolean).join(' ')}" is a real talosctl command the lab does not simulate\n`);
        return 1;
      }
      throw new CliError(`unknown command "${word}" for "talosctl"`);
    }
    return await run(io, parseCommand(io.argv, spec));
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`${err.message}\n`);
      // root.go prints the usage after errors that mention arg(s)/flag/command
      if (/arg\(s\)|flag|command/.test(err.message)) io.err(`\n${err.usage ?? 'Usage:\n  talosctl [command]\n\nUse "talosctl [command] --help" for more information about a command.\n'}\n`);
      return 1;
    }
    if (err instanceof TalosctlError) {
      io.err(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
};
