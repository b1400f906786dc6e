// What validation reports: every problem at once, each naming the field it is about and how to fix it.

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
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

/** Collects issues for one check; checks never stop at the first problem. */
export class IssueSink implements CheckReport {
  readonly errors: RawIssue[] = [];
  readonly warnings: RawIssue[] = [];
  error(path: IssuePath, message: string): void {
    this.errors.push({ path, message });
  }
  warn(path: IssuePath, message: string): void {
    this.warnings.push({ path, message });
  }
}
