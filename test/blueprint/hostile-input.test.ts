// #12, case 2: a blueprint under 1 MiB must not run the validator out of memory or time. Each hostile file is
// loaded by the real loader in a child whose V8 heap is capped (the bound under test; the unbounded validator
// took 4.5 GB on the first file). The wall-clock limit is only a hang guard, sized for a loaded CI machine.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_BLUEPRINT_BYTES } from '../../blueprint/limits.ts';
import { loadBlueprintFile, loadBlueprintText } from '../../blueprint/load.ts';

const CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));
const HEAP_MB = 192;
const HANG_GUARD_MS = 300_000;

const HEAD = [
  'apiVersion: meshpilot.dev/v1alpha1',
  'kind: MeshBlueprint',
  'metadata: {name: hostile}',
  'versions: {talos: v1.9.5, kubernetes: 1.32.3, cilium: 1.16.19, ciliumCli: v0.16.24}',
  'mesh: {method: cilium-connect, maxConnectedClusters: 511}',
  'clusters:',
].join('\n');

/** One-line clusters that all claim the same ranges: the file from the issue (2,500 of them, ~0.9 MB). */
function sameRangeClusters(count: number): string {
  const lines = Array.from(
    { length: count },
    (_, i) =>
      `- {name: c${i}, id: ${(i % 511) + 1}, region: r, site: s, endpoint: "https://10.0.0.1:6443", network: {podSubnets: [10.1.0.0/16], serviceSubnets: [10.96.0.0/16], nodeSubnets: [10.0.0.0/24]}, loadBalancer: {mode: l2, pool: [{cidr: 10.0.0.240/28}]}, nodes: [{name: n, role: controlplane, address: 10.0.0.1}]}`,
  );
  return `${HEAD}\n${lines.join('\n')}\n`;
}

interface ChildLine {
  file: string;
  ok: boolean;
  errors: number;
  first: Array<{ path: string; message: string; line?: number }>;
  last?: { path: string; message: string };
  reportBytes: number;
}

function loadInBoundedChild(files: string[]): Promise<Map<string, ChildLine>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [`--max-old-space-size=${HEAP_MB}`, '--import', 'tsx', CHILD, ...files],
      { timeout: HANG_GUARD_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`the loader died (heap capped at ${HEAP_MB} MB): ${err.message}\n${stderr.slice(-2000)}`));
        const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as ChildLine);
        resolve(new Map(lines.map((l) => [path.basename(l.file), l])));
      },
    );
  });
}

describe('hostile blueprints under 1 MiB get a clear answer within a bounded heap', () => {
  let dir: string;
  let results: Map<string, ChildLine>;
  const files: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-hostile-'));
    const write = (name: string, text: string) => {
      assert.ok(Buffer.byteLength(text) <= MAX_BLUEPRINT_BYTES, `${name} stays under the size limit (${Buffer.byteLength(text)} bytes)`);
      files[name] = path.join(dir, name);
      writeFileSync(files[name], text);
    };
    write('issue-2500-clusters.yaml', sameRangeClusters(2500));
    write('511-same-ranges.yaml', sameRangeClusters(511));
    write('deep-flow.yaml', `a: ${'['.repeat(400_000)}${']'.repeat(400_000)}\n`);
    write('flat-list.yaml', `clusters: [${Array(99_990).fill('1').join(',')}]\n`);
    write('wide-mapping.yaml', `metadata:\n${Array.from({ length: 49_990 }, (_, i) => `  k${i}: v`).join('\n')}\n`);
    write('compact-nesting.yaml', `a:\n  ${'- '.repeat(400_000)}x\n`);
    write('block-nesting.yaml', Array.from({ length: 1400 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + `\n${' '.repeat(1400)}v\n`);
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 30 }, (_, i) => `b${i}: &b${i} [${Array(10).fill(i === 0 ? '*a' : `*b${i - 1}`).join(', ')}]`)];
    write('aliases.yaml', `${laughs.join('\n')}\n`);
    results = await loadInBoundedChild(Object.values(files));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const result = (name: string): ChildLine => {
    const r = results.get(name);
    assert.ok(r, `no result for ${name}`);
    assert.equal(r.ok, false, name);
    return r;
  };

  test("the issue's file (2,500 one-line clusters, same ranges) is refused with one clear error naming its line", () => {
    const r = result('issue-2500-clusters.yaml');
    assert.equal(r.errors, 1);
    assert.match(r.first[0]!.message, /more than 100000 YAML values/);
    assert.ok(r.first[0]!.line && r.first[0]!.line > 1000, 'points at where the file went over');
  });

  test('511 clusters with the same ranges: a capped report (100 listed, the rest counted), never megabytes', () => {
    const r = result('511-same-ranges.yaml');
    assert.equal(r.errors, 101);
    assert.match(r.last!.message, /^\d+ more errors not listed \(only the first 100 are\)/);
    assert.ok(r.reportBytes < 64 * 1024, `report is ${r.reportBytes} bytes`);
  });

  test('deep nesting, huge lists and mappings, compact nesting and alias bombs each get their own message', () => {
    assert.match(result('deep-flow.yaml').first[0]!.message, /nested more than 32 levels deep/);
    assert.match(result('flat-list.yaml').first[0]!.message, /a list of 99990 items; no blueprint list takes more than 5000/);
    assert.match(result('wide-mapping.yaml').first[0]!.message, /a mapping with 49990 keys/);
    assert.match(result('compact-nesting.yaml').first[0]!.message, /more than 100000 YAML values/);
    assert.match(result('block-nesting.yaml').first[0]!.message, /nested too deeply to read/);
    assert.match(result('aliases.yaml').first[0]!.message, /Excessive alias count/);
  });
});

describe('what the loader reads', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-load-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('invalid UTF-8 is an error naming its line, never silently replaced (#12, case 8)', async () => {
    const file = path.join(dir, 'latin1.yaml');
    writeFileSync(file, Buffer.concat([Buffer.from('apiVersion: meshpilot.dev/v1alpha1\nmetadata:\n  description: "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]));
    const r = await loadBlueprintFile(file);
    assert.equal(r.ok, false);
    assert.match(r.errors[0]!.message, /is not valid UTF-8 \(byte 0xe9 at offset \d+\)/);
    assert.equal(r.errors[0]!.line, 3);
  });

  test('a key given twice is an error naming the line of the second, found in linear time (the parser\'s own check is quadratic)', () => {
    const r = loadBlueprintText('apiVersion: meshpilot.dev/v1alpha1\nkind: MeshBlueprint\napiVersion: other\n');
    assert.match(r.errors[0]!.message, /the key "apiVersion" appears twice/);
    assert.equal(r.errors[0]!.line, 3);
  });
});
