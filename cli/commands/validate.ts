// `meshpilot validate FILE`: every problem in the blueprint at once, with file:line, field path and the fix.
import type { Command } from 'commander';
import { colors, printJson, type CliIO } from '../io.ts';
import { formatIssue, loadBlueprintFile, type LoadedBlueprint } from '../../blueprint/load.ts';

/** Shared with `plan`: the human report of a validation result. */
export function printIssues(io: CliIO, file: string, r: LoadedBlueprint): void {
  const c = colors(io);
  for (const e of r.errors) io.out(`${c.red('error')}   ${formatIssue(file, e)}\n`);
  for (const w of r.warnings) io.out(`${c.yellow('warning')} ${formatIssue(file, w)}\n`);
}

export function register(program: Command, io: CliIO): void {
  program
    .command('validate')
    .description('check a mesh blueprint against the schema and the safety rules (exit 1 when invalid)')
    .argument('<file>', 'blueprint YAML')
    .option('--json', 'print {ok, errors, warnings} as JSON')
    .option('--strict', 'treat unverified version combinations as errors')
    .action(async (file: string, opts: { json?: boolean; strict?: boolean }) => {
      const r = await loadBlueprintFile(file, { strict: opts.strict ?? false });
      if (!r.ok) io.exitCode = 1;
      if (opts.json) {
        printJson(io, { ok: r.ok, errors: r.errors, warnings: r.warnings });
        return;
      }
      printIssues(io, file, r);
      const c = colors(io);
      const summary = `${r.errors.length} error(s), ${r.warnings.length} warning(s)`;
      io.out(r.ok ? `${c.green('valid')}: ${file} (${r.blueprint?.clusters.length ?? 0} clusters; ${summary})\n` : `${c.red('invalid')}: ${file} (${summary})\n`);
    });
}
