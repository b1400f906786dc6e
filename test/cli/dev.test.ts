// `meshpilot dev`: the real dev server + UI + worker in one process tree; Ctrl-C and SIGTERM stop all of it, and
// nothing of it outlives even a SIGKILL of meshpilot dev; the SQLite file keeps a paused rollout across a restart.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { main } from '../../cli/main.ts';
import type { CliIO } from '../../cli/io.ts';
import { projectRoot } from '../../config/env.ts';
import { describePids, processesWhere, untilNone } from '../helpers/processes.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits (bounded, generously: a loaded machine reaps slowly) until no process of the stack is left; returns the command lines of any that are. */
async function leftovers(dir: string): Promise<string[]> {
  return describePids(await untilNone(() => processesUsing(dir), 30_000));
}

/**
 * Processes of the stack: the temporal server child (its SQLite is in the data dir, on its command line) and the
 * lab's simulated tools (the lab dir is in their environment).
 */
function processesUsing(dir: string): number[] {
  return processesWhere((p) => p.cmdline.includes(dir) || p.environ.includes(`MESHPILOT_LAB_DIR=${dir}`));
}

/** Start-up on a loaded 2-core machine (tsx, the SQLite server, the UI, the worker's bundle) can take minutes. */
const START_BUDGET_MS = 240_000;
/** A graceful stop: the worker's 3 s grace, the server's own stop (SIGKILL after 10 s), and a loaded machine. */
const STOP_BUDGET_MS = 120_000;

function startDev(env: NodeJS.ProcessEnv) {
  const child = execa('node', [path.join(projectRoot, 'bin/meshpilot.mjs'), 'dev', '--lab'], { env, reject: false, all: true, forceKillAfterDelay: false });
  let buf = '';
  child.all!.on('data', (d: Buffer) => {
    buf += d.toString();
  });
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`meshpilot dev printed no UI address within ${START_BUDGET_MS} ms: ${buf}`));
    }, START_BUDGET_MS);
    const check = () => {
      if (/Web UI at/.test(buf)) {
        clearTimeout(timer);
        resolve(buf);
      }
    };
    child.all!.on('data', check);
    void child.then((r) => {
      clearTimeout(timer);
      reject(new Error(`meshpilot dev exited early (${r.exitCode}): ${buf}`));
    });
  });
  ready.catch(() => undefined);
  return { child, ready };
}

/** Sends `signal` to meshpilot dev alone (not its group, as a supervisor would) and waits, bounded, for it to exit. */
async function stopDev(child: ResultPromise<{ all: true; reject: false }>, signal: NodeJS.Signals) {
  child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_BUDGET_MS);
  });
  const r = await Promise.race([child, late]);
  clearTimeout(timer);
  if (r === 'late') {
    child.kill('SIGKILL');
    const output = (await child).all;
    assert.fail(`meshpilot dev did not exit within ${STOP_BUDGET_MS} ms of ${signal}: ${output}`);
  }
  return r;
}

describe('meshpilot dev', () => {
  test('prints the UI address, serves rollouts, keeps them across a restart; Ctrl-C, SIGTERM and SIGKILL leave no orphans', async () => {
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
    try {
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

      const byCtrlC = await stopDev(dev.child, 'SIGINT');
      assert.equal(byCtrlC.exitCode, 0, byCtrlC.all);
      assert.deepEqual(await leftovers(dataDir), [], `no process of the dev stack is left after SIGINT; dev said: ${byCtrlC.all}`);

      dev = startDev(env);
      await dev.ready;
      const status = JSON.parse((await cli('status', workflowId, '--json')).out) as { state: string; blocked?: { step: string } };
      assert.equal(status.state, 'paused', 'the rollout survived the restart (SQLite)');
      assert.equal(status.blocked?.step, 'boot');
      // what a supervisor (systemd, a container runtime) sends
      const bySupervisor = await stopDev(dev.child, 'SIGTERM');
      assert.equal(bySupervisor.exitCode, 0, bySupervisor.all);
      assert.deepEqual(await leftovers(dataDir), [], `no process of the dev stack is left after SIGTERM; dev said: ${bySupervisor.all}`);

      dev = startDev(env);
      await dev.ready;
      // no handler of ours runs on SIGKILL: the server and the tools die by their parent-death signal
      await stopDev(dev.child, 'SIGKILL');
      assert.deepEqual(await leftovers(dataDir), [], 'nothing of the stack outlives a SIGKILL of meshpilot dev');
    } finally {
      // a failed assertion must not leave a stack behind: its server and tools follow it by their parent-death signal
      if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGKILL');
      await dev.child;
    }
  });
});
