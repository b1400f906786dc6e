// Which cluster did a kubectl/helm/cilium call talk to? The lab's call log has argv only (the kubeconfig comes
// through KUBECONFIG), so the bench puts a tiny shim first on PATH that notes "pid server" before exec'ing the
// lab tool: exec keeps the pid, so it joins the call log's `pid`. Shell builtins only (no fork): the shim adds
// well under a millisecond to a call, identically for meshpilot and for the sequential runbook.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labBinDir } from '../workers/deps.ts';

export const TAG_LOG_ENV = 'MESHPILOT_BENCH_TAG_LOG';
const TOOLS = ['talosctl', 'helm', 'cilium', 'kubectl'] as const;

/** Writes the shims into `dir`; returns the directory to put first on PATH. */
export function writeToolShims(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const tool of TOOLS) {
    const file = path.join(dir, tool);
    writeFileSync(
      file,
      [
        '#!/bin/sh',
        'f=${KUBECONFIG%%:*}; s=',
        'if [ -n "$f" ] && [ -r "$f" ]; then',
        '  while IFS= read -r line; do case $line in *server:*) s=${line#*server:}; break;; esac; done < "$f"',
        'fi',
        `printf '%s %s\\n' "$$" "$s" >> "$${TAG_LOG_ENV}"`,
        `exec "${path.join(labBinDir, tool)}" "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(file, 0o755);
  }
  return dir;
}

/** pid → the API server URL its KUBECONFIG pointed at ('' when none). */
export function readTags(file: string): Map<number, string> {
  const tags = new Map<number, string>();
  if (!existsSync(file)) return tags;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) ?(.*)$/.exec(line);
    if (m) tags.set(Number(m[1]), m[2]!.trim());
  }
  return tags;
}

/** Puts the shims first on a tool environment's PATH and points them at their tag log. */
export function withShims(env: NodeJS.ProcessEnv, shimDir: string, tagLog: string): NodeJS.ProcessEnv {
  env.PATH = `${shimDir}${path.delimiter}${env.PATH ?? ''}`;
  env[TAG_LOG_ENV] = tagLog;
  return env;
}
