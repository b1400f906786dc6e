/**
 * talosctl's command line as cobra/pflag parse it (spf13/pflag flag.go parseLongArg/parseShortArg; cobra
 * args.go for positional checks). talosctl sets SilenceErrors and prints the bare error, then, when the text
 * mentions "arg(s)", "flag" or "command", a blank line and the usage (siderolabs/talos@v1.9.5
 * cmd/talosctl/cmd/root.go Execute) — so there is no "Error: " prefix.
 */
export type FlagKind = 'bool' | 'string' | 'slice' | 'array' | 'duration';
export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  usage: string;
  default?: string | boolean;
  /** how --help shows the default when it is not `default` itself (slices: "[a,b]") */
  shownDefault?: string;
  /** the value's name in --help when it is not the type's (a custom pflag.Value) */
  varname?: string;
  /** registered but left out of --help (cobra MarkHidden) */
  hidden?: boolean;
  required?: boolean;
}
export type FlagValue = string | boolean | string[];

export interface CommandSpec {
  /** full path after `talosctl`, e.g. ['gen', 'config'] */
  path: string[];
  aliases?: string[];
  use: string;
  flags: FlagSpec[];
  /** cobra positional validator: [min, max] */
  args: [number, number];
  /** persistent flags of a parent command (`gen --force`), listed under Global Flags */
  inherited?: FlagSpec[];
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** Persistent flags of the root command (cmd/talosctl/cmd/root.go). */
export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'talosconfig', kind: 'string', usage: "The path to the Talos configuration file. Defaults to 'TALOSCONFIG' env variable if set, otherwise '$HOME/.talos/config' and '/var/run/secrets/talos.dev/config' in order." },
  { name: 'context', kind: 'string', usage: 'Context to be used in command' },
  { name: 'nodes', short: 'n', kind: 'slice', usage: 'target the specified nodes' },
  { name: 'endpoints', short: 'e', kind: 'slice', usage: 'override default endpoints in Talos configuration' },
  { name: 'cluster', kind: 'string', usage: 'Cluster to connect to if a proxy endpoint is used.' },
];

export interface ParsedCommand {
  spec: CommandSpec;
  flags: Record<string, FlagValue>;
  /** flags given explicitly on the command line */
  set: Set<string>;
  args: string[];
}

/**
 * pflag FlagUsagesWrapped: flags sorted by name, the usage column aligned per section on the longest "-x, --name type",
 * a non-zero default appended as ` (default …)`.
 */
function flagLines(flags: FlagSpec[]): string[] {
  const varname: Record<FlagKind, string> = { bool: '', duration: 'duration', string: 'string', slice: 'strings', array: 'stringArray' };
  const rows = [...flags]
    .filter((f) => !f.hidden)
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((f) => {
      const type = f.varname ?? varname[f.kind];
      const head = `${f.short ? `  -${f.short}, --${f.name}` : `      --${f.name}`}${type ? ` ${type}` : ''}`;
      const dflt = f.shownDefault !== undefined
        ? ` (default ${f.shownDefault})`
        : f.default === undefined || f.default === false || f.default === '' ? '' : f.kind === 'string' ? ` (default ${JSON.stringify(f.default)})` : ` (default ${f.default})`;
      return { head, usage: `${f.usage}${dflt}` };
    });
  const width = Math.max(...rows.map((r) => r.head.length)) + 1;
  return rows.map((r) => `${r.head.padEnd(width)}  ${r.usage}`);
}

export function usageOf(spec: CommandSpec): string {
  // cobra's UseLine appends " [flags]" whenever the command has available flags, and -h/--help always is one
  const lines = ['Usage:', `  talosctl ${spec.use} [flags]`];
  if (spec.aliases?.length) lines.push('', 'Aliases:', `  ${[spec.path.at(-1), ...spec.aliases].join(', ')}`);
  const own = [...spec.flags, { name: 'help', short: 'h', kind: 'bool', usage: `help for ${spec.path.at(-1)}` } as FlagSpec];
  lines.push('', 'Flags:', ...flagLines(own), '', 'Global Flags:', ...flagLines([...(spec.inherited ?? []), ...GLOBAL_FLAGS]), '');
  return lines.join('\n');
}

/** Finds the subcommand the way cobra's Find does: leading non-flag words, skipping persistent-flag values. */
export function findCommand(argv: string[], commands: CommandSpec[], known: Map<string, string[]>): { spec?: CommandSpec; words: string[] } {
  const takesValue = new Set(GLOBAL_FLAGS.filter((f) => f.kind !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]));
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (!a.includes('=') && takesValue.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  let best: CommandSpec | undefined;
  for (const spec of commands) {
    const names = (i: number) => (i === spec.path.length - 1 ? [spec.path[i]!, ...(spec.aliases ?? [])] : [spec.path[i]!]);
    if (spec.path.every((_, i) => names(i).includes(words[i] ?? '')) && (!best || spec.path.length > best.path.length)) best = spec;
  }
  if (best) return { spec: best, words };
  // a known parent (`gen`, `etcd`) with an unknown child: cobra reports it against the parent
  const parent = words[0] ?? '';
  if (known.has(parent) && words[1]) {
    throw new CliError(`unknown command "${words[1]}" for "talosctl ${parent}"`);
  }
  return { words };
}

const DURATION = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/;

/** Go's time.ParseDuration subset: "20m", "1m30s", "500ms". */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`time: invalid duration "${text}"`);
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * unit[m[2]!]!;
  return ms;
}

export function parseCommand(argv: string[], spec: CommandSpec): ParsedCommand {
  const all = [...spec.flags, ...(spec.inherited ?? []), ...GLOBAL_FLAGS];
  const byName = new Map(all.map((f) => [f.name, f]));
  const byShort = new Map(all.filter((f) => f.short).map((f) => [f.short!, f]));
  const flags: Record<string, FlagValue> = {};
  const set = new Set<string>();
  for (const f of all) if (f.default !== undefined) flags[f.name] = f.default;
  const usage = usageOf(spec);
  const assign = (f: FlagSpec, raw: string | true, shown: string) => {
    set.add(f.name);
    if (f.kind === 'bool') {
      if (raw !== true && !/^(1|t|T|true|TRUE|True|0|f|F|false|FALSE|False)$/.test(raw)) {
        throw new CliError(`invalid argument "${raw}" for "${shown}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`, usage);
      }
      flags[f.name] = raw === true || /^(1|t|T|true|TRUE|True)$/.test(raw);
    } else if (f.kind === 'slice' || f.kind === 'array') {
      const prev = set.has(`${f.name}#seen`) ? (flags[f.name] as string[]) : [];
      set.add(`${f.name}#seen`);
      flags[f.name] = [...prev, ...(f.kind === 'slice' ? String(raw).split(',') : [String(raw)])];
    } else {
      if (f.kind === 'duration') {
        try {
          parseDuration(String(raw));
        } catch (err) {
          throw new CliError(`invalid argument "${raw}" for "${shown}" flag: ${(err as Error).message}`, usage);
        }
      }
      flags[f.name] = String(raw);
    }
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const f = byName.get(name);
      if (!f) throw new CliError(`unknown flag: --${name}`, usage);
      if (eq >= 0) assign(f, a.slice(eq + 1), `--${name}`);
      else if (f.kind === 'bool') assign(f, true, `--${name}`);
      else if (i + 1 < argv.length) assign(f, argv[++i]!, `--${name}`);
      else throw new CliError(`flag needs an argument: --${name}`, usage);
    } else if (a.startsWith('-') && a.length > 1) {
      const c = a[1]!;
      const f = byShort.get(c);
      if (!f) throw new CliError(`unknown shorthand flag: '${c}' in ${a}`, usage);
      const rest = a.slice(2).replace(/^=/, '');
      const shown = `-${c}, --${f.name}`;
      if (f.kind === 'bool') assign(f, rest || true, shown);
      else if (rest) assign(f, rest, shown);
      else if (i + 1 < argv.length) assign(f, argv[++i]!, shown);
      else throw new CliError(`flag needs an argument: '${c}' in -${c}`, usage);
    } else positional.push(a);
  }
  // the command words are the leading positionals (cobra's Find strips them)
  const args = positional.slice(spec.path.length);
  const missing = spec.flags.filter((f) => f.required && !set.has(f.name)).map((f) => `"${f.name}"`);
  if (missing.length) throw new CliError(`required flag(s) ${missing.join(', ')} not set`, usage);
  const [min, max] = spec.args;
  if (max === 0 && args.length > 0) throw new CliError(`unknown command "${args[0]}" for "talosctl ${spec.path.join(' ')}"`, usage);
  if (min === max && args.length !== min) throw new CliError(`accepts ${min} arg(s), received ${args.length}`, usage);
  if (args.length < min || args.length > max) {
    throw new CliError(
      min === 0 ? `accepts at most ${max} arg(s), received ${args.length}` : `accepts between ${min} and ${max} arg(s), received ${args.length}`,
      usage,
    );
  }
  return { spec, flags, set, args };
}
