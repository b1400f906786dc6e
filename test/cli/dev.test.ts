// `meshpilot dev`: the real dev server + UI + worker in one process tree; Ctrl-C stops all of it, and nothing of it
// outlives even a SIGKILL of meshpilot dev; the SQLite file keeps a paused rollout across a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { projectRoot } from '../../config/env.ts';
import { processesWhere } from '../helpers/processes.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits (bounded) until no process of the stack is left; returns the command lines of any that are. */
async function leftovers(dir: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while (processesUsing(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return processesUsing(dir).map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
    } catch {
      return `${pid}: (gone)`;
    }
  });
}

/**
 * Processes of the stack: the temporal server child (its SQLite is in the data dir, on its command line) and the
 * lab's simulated tools (the lab dir is in their environment).
 */
function processesUsing(dir: string): number[] {
  return processesWhere((p) => p.cmdline.includes(dir) || p.environ.includes(`MESHPILOT_LAB_DIR=${dir}`));
}

function startDev(env: NodeJS.ProcessEnv) {
  const child = execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), 'dev', '--lab'], { env, reject: false, all: true });
  const ready = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.all!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (/Web UI at/.test(buf)) resolve(buf);
    });
    void child.then((r) => reject(new Error(`meshpilot dev exited early (${r.exitCode}): ${buf}`)));
  });
  return { child, ready };
}

describe('meshpilot dev', () => {
  test('prints the UI address, serves rollouts, keeps them across a restart, and Ctrl-C leaves no orphans', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-dev-'));
    const port = await freePort();
    const uiPort = await freePort();
    const env = { ...process.env, MESHPILOT_DATA_DIR: dataDir, MESHPILOT_DEV_PORT: String(port), MESHPILOT_UI_PORT: String(uiPort), TEMPORAL_ADDRESS: `127.0.0.1:${port}`, MESHPILOT_LOG_LEVEL: 'warn', NO_COLOR: '1' };
    const cli = async (...argv: string[]) => {
      let out = '';
      let err = '';
      const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false, color: false, env };
      const code = await main(argv, io);
      return { code, out, err };
    };

    let dev = startDev(env);
    const banner = await dev.ready;
    assert.match(banner, new RegExp(`Web UI at http://localhost:${uiPort}`));
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200, 'the Web UI answers');

    const started = await cli('rollout', path.join(projectRoot, 'examples/usa-europe.yaml'), '--lab', 'node-unreachable', '--json');
    assert.equal(started.code, 0, started.err);
    const { workflowId, ui: link } = JSON.parse(started.out) as { workflowId: string; ui: string };
    assert.equal(link, `http://localhost:${uiPort}/namespaces/default/workflows/${workflowId}`);
    const paused = await cli('watch', workflowId, '--until-paused');
    assert.match(paused.out, /paused at cluster-usa\/boot/);

    dev.child.kill('SIGINT');
    const r = await dev.child;
    assert.equal(r.exitCode, 0, r.all);
    assert.deepEqual(await leftovers(dataDir), [], `no process of the dev stack is left; dev said: ${r.all}`);

    dev = startDev(env);
    await dev.ready;
    try {
      const status = JSON.parse((await cli('status', workflowId, '--json')).out) as { state: string; blocked?: { step: string } };
      assert.equal(status.state, 'paused', 'the rollout survived the restart (SQLite)');
      assert.equal(status.blocked?.step, 'boot');
    } finally {
      // no handler of ours runs on SIGKILL: the server and the tools die by their parent-death signal
      dev.child.kill('SIGKILL');
      await dev.child;
    }
    assert.deepEqual(await leftovers(dataDir), [], 'nothing of the stack outlives a SIGKILL of meshpilot dev');
  });
});
