// docs/rehearsal.md, run as written: its `sh` blocks are the commands (in order, against a real dev server started
// the way the page says), its `text` blocks the output the command before them must show. Edit the page and this
// test follows; break the product and the page's promise fails here.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { planFromFile } from '../../blueprint/plan-file.ts';
import type { CliIO } from '../../cli/io.ts';
import { main } from '../../cli/main.ts';
import { projectRoot } from '../../config/env.ts';
import { freePort } from '../helpers/sushy.ts';

interface DocCommand {
  line: string;
  argv: string[];
  background: boolean;
  exitCode: number;
  /** lines of the `text` blocks that follow it: each must match a line of its output (`…` is any text) */
  expect: string[];
}

/** Splits a command line into words: whitespace-separated, double quotes group. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The walk-through's commands: every `meshpilot …` line of the `sh` blocks, with the `text` blocks after them. */
function parseWalkthrough(markdown: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const block of markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
    const [, lang, body] = block;
    if (lang === 'sh') {
      for (const raw of body!.split('\n')) {
        const [code = '', comment = ''] = raw.split(/\s#\s?/, 2);
        let line = code.trim();
        if (!line) continue;
        assert.match(line, /^meshpilot /, `docs/rehearsal.md: a sh line that is not a meshpilot command: ${raw}`);
        const background = line.endsWith(' &');
        if (background) line = line.slice(0, -2).trim();
        const exit = /^exits (\d+)/.exec(comment.trim());
        commands.push({ line, argv: words(line).slice(1), background, exitCode: exit ? Number(exit[1]) : 0, expect: [] });
      }
    } else if (lang === 'text') {
      const last = commands.at(-1);
      assert.ok(last, 'docs/rehearsal.md: a text block before any command');
      last.expect.push(...body!.split('\n').map((l) => l.trim()).filter(Boolean));
    }
  }
  return commands;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A doc line as a pattern: `…` is any text, a run of spaces any run of whitespace. */
const lineMatcher = (doc: string) => new RegExp(doc.split('…').map((part) => part.trim().split(/\s+/).map(escape).join('\\s+')).join('.*'));

describe('docs/rehearsal.md', () => {
  const doc = readFileSync(path.join(projectRoot, 'docs/rehearsal.md'), 'utf8');
  let dev: { child: ResultPromise<{ all: true; reject: false }>; output: () => string } | undefined;

  after(async () => {
    if (dev && dev.child.exitCode === null) {
      dev.child.kill('SIGINT');
      await dev.child;
    }
  });

  test('the page parses into the commands it shows', () => {
    const commands = parseWalkthrough(doc);
    assert.equal(commands[0]?.line, 'meshpilot dev --lab');
    assert.ok(commands[0]?.background);
    const breaks = commands.filter((c) => c.argv[0] === 'lab' && c.argv[1] === 'break').map((c) => c.argv[2]);
    const heals = commands.filter((c) => c.argv[0] === 'lab' && c.argv[1] === 'heal').map((c) => c.argv[2]);
    assert.equal(new Set(breaks).size, 3, 'three faults are rehearsed');
    assert.deepEqual(heals, breaks, 'each one is healed');
    assert.ok(commands.some((c) => c.argv[0] === 'verify' && c.exitCode === 1), 'verify shows a fault');
    assert.ok(commands.some((c) => c.argv[0] === 'status'), 'status shows a paused rollout');
  });

  test('every command runs as the page says, and prints what the page shows', async () => {
    process.chdir(projectRoot); // the page's paths are relative to the clone
    const revision = (await planFromFile('examples/usa-europe.yaml')).revision;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MESHPILOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'meshpilot-rehearsal-')),
      MESHPILOT_DEV_PORT: String(port),
      MESHPILOT_UI_PORT: String(await freePort()),
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      MESHPILOT_ACTOR: 'rehearsal',
      NO_COLOR: '1',
    };
    delete env.MESHPILOT_LOG_LEVEL;

    for (const cmd of parseWalkthrough(doc.replaceAll('<rev>', revision))) {
      if (cmd.background) {
        assert.equal(cmd.argv[0], 'dev', `only meshpilot dev runs in the background: ${cmd.line}`);
        let output = '';
        const child = execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), ...cmd.argv], { env, reject: false, all: true });
        child.all.on('data', (d: Buffer) => void (output += d.toString()));
        dev = { child, output: () => output };
        const deadline = Date.now() + 180_000;
        while (!/Web UI at/.test(output)) {
          assert.equal(child.exitCode, null, `${cmd.line} exited early: ${output}`);
          assert.ok(Date.now() < deadline, `${cmd.line} not ready within 3 minutes: ${output}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        continue;
      }
      let out = '';
      const io: CliIO = { out: (t) => void (out += t), err: (t) => void (out += t), isTTY: false, color: false, env };
      const code = await main(cmd.argv, io);
      assert.equal(code, cmd.exitCode, `${cmd.line} exited ${code}, the page says ${cmd.exitCode}:\n${out}`);
      const lines = out.split('\n');
      for (const want of cmd.expect) {
        assert.ok(lines.some((l) => lineMatcher(want).test(l)), `${cmd.line}: no output line matches "${want}":\n${out}`);
      }
    }

    // The dev terminal told the story in words: the etcd pause as one line, and no raw JSON anywhere.
    const devLines = dev!.output().split('\n');
    assert.ok(devLines.some((l) => /⏸ paused .*etcd peer round-trip/.test(l)), `the pause is one human line in dev:\n${dev!.output()}`);
    for (const l of devLines.filter((x) => x.trim())) assert.throws(() => JSON.parse(l) as unknown, `a JSON line in dev's output: ${l}`);
    dev!.child.kill('SIGINT');
    const r = await dev!.child;
    assert.equal(r.exitCode, 0, r.all);
  });
});
