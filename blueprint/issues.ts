// What validation reports: every problem at once, each naming the field it is about and how to fix it, up
// to MAX_REPORTED_ISSUES of each kind (the rest are counted, never listed: a broken file stays a short report).
import { MAX_REPORTED_ISSUES } from './limits.ts';

export type IssuePath = Array<string | number>;

export interface BlueprintIssue {
  /** dotted field path, e.g. clusters[1].network.podSubnets[0] */
  path: string;
  message: string;
  /** 1-based line in the YAML file, when the blueprint came from one */
  line?: number;
}

export interface ValidationResult {
  ok: boolean;
  errors: BlueprintIssue[];
  warnings: BlueprintIssue[];
}

/** Issues as the checks produce them: the path stays structured until the loader maps it to a YAML line. */
export interface RawIssue {
  path: IssuePath;
  message: string;
}

export interface CheckReport {
  errors: RawIssue[];
  warnings: RawIssue[];
  /** problems found beyond the listed ones */
  omitted?: { errors: number; warnings: number };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

/** Collects issues for one check; checks never stop at the first problem, but only the first ones are kept. */
export class IssueSink implements CheckReport {
  readonly errors: RawIssue[] = [];
  readonly warnings: RawIssue[] = [];
  readonly omitted = { errors: 0, warnings: 0 };
  constructor(private readonly max = MAX_REPORTED_ISSUES) {}
  error(path: IssuePath, message: string): void {
    if (this.errors.length < this.max) this.errors.push({ path, message });
    else this.omitted.errors += 1;
  }
  warn(path: IssuePath, message: string): void {
    if (this.warnings.length < this.max) this.warnings.push({ path, message });
    else this.omitted.warnings += 1;
  }
  get errorCount(): number {
    return this.errors.length + this.omitted.errors;
  }
}

/** The closing line of a capped list: how many more there are, and that they are not shown. */
export function omittedIssue(count: number, kind: 'error' | 'warning'): RawIssue {
  return {
    path: [],
    message: `${count} more ${kind}${count === 1 ? '' : 's'} not listed (only the first ${MAX_REPORTED_ISSUES} are): fix these and validate again`,
  };
}
