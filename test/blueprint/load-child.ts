// Child process for hostile-input.test.ts: loads each file given on the command line with the real loader and
// prints one JSON line per file: what a user would see (ok, the first messages, how big the report is).
import { loadBlueprintFile } from '../../blueprint/load.ts';

for (const file of process.argv.slice(2)) {
  const r = await loadBlueprintFile(file);
  const report = JSON.stringify({ ok: r.ok, errors: r.errors, warnings: r.warnings });
  process.stdout.write(
    `${JSON.stringify({ file, ok: r.ok, errors: r.errors.length, first: r.errors.slice(0, 3), last: r.errors.at(-1), reportBytes: report.length, heapMB: Math.round(process.memoryUsage().heapUsed / 1e6) })}\n`,
  );
}
