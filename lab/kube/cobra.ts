/**
 * The flag grammar of cobra/pflag (spf13/pflag flag.go: parseLongArg/parseShortArg), which all three real
 * tools use: `--name=v`, `--name v`, `-n v`, `-nv`, bool flags without a value, `--` ends flags.
 */
export type FlagKind = 'bool' | 'string' | 'strings' | 'int' | 'duration';
export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
}
export type FlagValues = Record<string, string | boolean | string[] | undefined>;
export interface Parsed {
  flags: FlagValues;
  args: string[];
  /** everything after `--` (kubectl exec) */
  dashArgs: string[];
}

export class FlagError extends Error {}

export function parseFlags(argv: string[], specs: FlagSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: FlagValues = {};
  const args: string[] = [];
  const set = (spec: FlagSpec, value: string | boolean) => {
    if (spec.kind === 'strings') {
      const prev = (flags[spec.name] as string[] | undefined) ?? [];
      flags[spec.name] = [...prev, ...String(value).split(',').filter(Boolean)];
    } else flags[spec.name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { flags, args, dashArgs: argv.slice(i + 1) };
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = byName.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (eq >= 0) set(spec, spec.kind === 'bool' ? a.slice(eq + 1) !== 'false' : a.slice(eq + 1));
      else if (spec.kind === 'bool') set(spec, true);
      else if (i + 1 < argv.length) set(spec, argv[++i]!);
      else throw new FlagError(`flag needs an argument: --${name}`);
    } else if (a.startsWith('-') && a.length > 1) {
      const c = a[1]!;
      const spec = byShort.get(c);
      if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${a}`);
      const rest = a.slice(2).replace(/^=/, '');
      if (spec.kind === 'bool') set(spec, rest !== 'false');
      else if (rest) set(spec, rest);
      else if (i + 1 < argv.length) set(spec, argv[++i]!);
      else throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
    } else args.push(a);
  }
  return { flags, args, dashArgs: [] };
}

/** Positionals before parsing fully: skips values of flags that take one, so the subcommand can be found. */
export function positionals(argv: string[], specs: FlagSpec[]): string[] {
  const takesValue = new Set<string>();
  for (const s of specs) {
    if (s.kind === 'bool') continue;
    takesValue.add(`--${s.name}`);
    if (s.short) takesValue.add(`-${s.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (takesValue.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Go's time.ParseDuration for the forms the tools get (`5m0s`, `120s`, `1m`, `500ms`). */
export function parseDuration(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000; // kubectl --timeout accepts bare seconds
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    consumed += m[0].length;
  }
  if (consumed !== text.length || consumed === 0) throw new FlagError(`time: invalid duration "${text}"`);
  return total;
}

export const str = (f: FlagValues, name: string): string | undefined => f[name] as string | undefined;
export const bool = (f: FlagValues, name: string): boolean => f[name] === true;
export const list = (f: FlagValues, name: string): string[] => (f[name] as string[] | undefined) ?? [];
