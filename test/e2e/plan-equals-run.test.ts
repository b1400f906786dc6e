// `meshpilot plan --out` promises the exact files each step hands to a tool. Given every example blueprint and a
// healthy lab, a real rollout runs with talosctl, helm and kubectl wrapped by small recording scripts (fixture
// executables in front of the lab's tools): every file and stdin document they received must be byte for byte a
// file the plan wrote, and every file the plan wrote for a tool must have reached it.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ARTIFACT } from '../../blueprint/artifact-paths.ts';
import { planArtifacts } from '../../blueprint/artifacts.ts';
import { projectRoot } from '../../config/env.ts';
import { labBinDir } from '../../workers/deps.ts';
import { startLabWorker, type LabWorker } from '../helpers/lab-worker.ts';
import { isFinished, start, waitFor } from '../helpers/rollout.ts';
import { startTemporal } from '../helpers/temporal.ts';

const EXAMPLES = ['usa-europe.yaml', 'three-regions.yaml', 'usa-europe-pool-fixed.yaml'];

/**
 * A POSIX sh wrapper for one tool: it copies every file named after -f/--values or as @FILE, and stdin when it is
 * `-f -`, with the argv and the kube context (KUBECONFIG's current-context), then runs the lab's tool unchanged.
 */
function recordingWrapper(tool: string, captureDir: string): string {
  return `#!/bin/sh
n="${captureDir}/$(date +%s%N)-$$"
mkdir -p "$n"
printf '%s\\n' "$@" > "$n/argv"
if [ -n "$KUBECONFIG" ] && [ -f "$KUBECONFIG" ]; then sed -n 's/^current-context: *//p' "$KUBECONFIG" > "$n/context"; fi
i=0; prev=""; stdin=0
for a in "$@"; do
  case "$prev" in
    -f|--values) if [ "$a" = "-" ]; then stdin=1; elif [ -f "$a" ]; then cp "$a" "$n/file-$i"; fi ;;
  esac
  case "$a" in
    @*) if [ -f "\${a#@}" ]; then cp "\${a#@}" "$n/file-$i"; fi ;;
  esac
  prev="$a"; i=$((i+1))
done
if [ "$stdin" = 1 ]; then
  tee "$n/stdin" | "${path.join(labBinDir, tool)}" "$@"
  exit $?
fi
exec "${path.join(labBinDir, tool)}" "$@"
`;
}

interface Capture {
  tool: string;
  argv: string[];
  context?: string;
  /** argv index of the file's name → its content */
  files: Map<number, string>;
  stdin?: string;
}

function readCaptures(dir: string, tool: string): Capture[] {
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const d = path.join(dir, name);
      const argv = readFileSync(path.join(d, 'argv'), 'utf8').replace(/\n$/, '').split('\n');
      const files = new Map<number, string>();
      for (const f of readdirSync(d)) if (f.startsWith('file-')) files.set(Number(f.slice(5)), readFileSync(path.join(d, f), 'utf8'));
      const context = existsSync(path.join(d, 'context')) ? readFileSync(path.join(d, 'context'), 'utf8').trim().replace(/^admin@/, '') : undefined;
      const stdin = existsSync(path.join(d, 'stdin')) ? readFileSync(path.join(d, 'stdin'), 'utf8') : undefined;
      return { tool, argv, files, ...(context ? { context } : {}), ...(stdin !== undefined ? { stdin } : {}) };
    });
}

describe('the plan is exactly what runs', { concurrency: true }, () => {
  let env: TestWorkflowEnvironment;
  const labs: LabWorker[] = [];
  const work = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-plan-run-'));
  before(async () => {
    env = await startTemporal();
  });
  after(async () => {
    for (const l of labs) await l.stop();
    await env?.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  for (const example of EXAMPLES) {
    test(`${example}: every file handed to talosctl, helm and kubectl is a plan artifact, and every artifact is handed over`, async () => {
      const lab = await startLabWorker(env, { scenario: 'happy', blueprint: path.join(projectRoot, 'examples', example) });
      labs.push(lab);
      const captures: Record<string, string> = {};
      const bin = path.join(work, `${example}-bin`);
      for (const tool of ['talosctl', 'helm', 'kubectl']) {
        captures[tool] = path.join(work, `${example}-${tool}`);
        mkdirp(captures[tool]!);
        mkdirp(bin);
        writeFileSync(path.join(bin, tool), recordingWrapper(tool, captures[tool]!));
        chmodSync(path.join(bin, tool), 0o755);
      }
      // The worker's tool environment, as the activities see it: the wrappers first, the lab's tools behind them.
      lab.deps.tools.env.PATH = `${bin}${path.delimiter}${lab.deps.tools.env.PATH ?? ''}`;

      const started = await start(env.client, lab.plan, lab.taskQueue);
      const view = await waitFor(env.client, started.workflowId, isFinished, 300_000);
      assert.equal(view.state, 'completed', JSON.stringify(view.clusters.map((c) => [c.name, c.state, c.error])));

      const artifacts = new Map(planArtifacts(lab.plan).map((a) => [a.path, a.content]));
      const artifact = (p: string) => {
        const content = artifacts.get(p);
        assert.ok(content !== undefined, `the plan writes ${p}`);
        return content;
      };
      const clusters = lab.plan.clusters.map((c) => c.name);

      // talosctl gen config: each patch file is the plan's, for the cluster named in argv
      const gens = readCaptures(captures.talosctl!, 'talosctl').filter((c) => c.argv[0] === 'gen' && c.argv[1] === 'config');
      for (const cluster of clusters) {
        const own = gens.filter((c) => c.argv[2] === cluster);
        assert.ok(own.length >= 1, `${cluster}: talosctl gen config ran`);
        const flags = { '--config-patch': ARTIFACT.patchAll(cluster), '--config-patch-control-plane': ARTIFACT.patchControlplane(cluster), '--config-patch-worker': ARTIFACT.patchWorker(cluster) };
        for (const g of own) {
          const passed = new Map([...g.files].map(([i, content]) => [g.argv[i - 1]!, content]));
          for (const [flag, file] of Object.entries(flags)) {
            if (artifact(file).trim() === '') assert.ok(!passed.has(flag), `${cluster}: an empty ${file} is not passed`);
            else assert.equal(passed.get(flag), artifact(file), `${cluster}: ${flag} is ${file}, byte for byte`);
          }
        }
      }

      // helm upgrade --install: the values file (the first -f/--values) is one of the cluster's three, in step order
      const upgrades = readCaptures(captures.helm!, 'helm').filter((c) => c.argv[0] === 'upgrade');
      for (const cluster of clusters) {
        const steps = [ARTIFACT.values(cluster), ARTIFACT.clustermeshValues(cluster), ...(lab.plan.meshPhase.method === 'helm' ? [ARTIFACT.connectValues(cluster)] : [])];
        const seen: string[] = [];
        for (const u of upgrades.filter((c) => c.context === cluster)) {
          // the first -f/--values names the values file; the secret values (the mesh CA) follow on stdin (`--values -`)
          const valuesArg = u.argv.findIndex((a) => a === '-f' || a === '--values') + 1;
          const values = u.files.get(valuesArg);
          assert.ok(values !== undefined, `${cluster}: helm got its values as a file`);
          const match = steps.find((p) => artifact(p) === values);
          assert.ok(match, `${cluster}: the values helm got are byte for byte one of ${steps.join(', ')}:\n${values}`);
          if (seen.at(-1) !== match) seen.push(match);
        }
        assert.deepEqual(seen, steps, `${cluster}: helm got each values file, in step order`);
      }

      // kubectl apply -f -: the LB-IPAM manifests, the global canary and the mesh manifests are the plan's
      const applies = readCaptures(captures.kubectl!, 'kubectl').filter((c) => c.argv[0] === 'apply' && c.stdin !== undefined);
      for (const cluster of clusters) {
        const expected = [ARTIFACT.lbIpam(cluster), ARTIFACT.globalCanary(cluster), ARTIFACT.meshManifests(cluster)].filter((p) => artifacts.has(p));
        const applied = new Set<string>();
        for (const a of applies.filter((c) => c.context === cluster)) {
          // the lb-ipam step's throwaway canary Service is the activity's own probe, not a blueprint artifact
          if (a.stdin!.includes('meshpilot-lb-canary')) continue;
          const match = expected.find((p) => artifact(p) === a.stdin);
          assert.ok(match, `${cluster}: kubectl applied byte for byte one of ${expected.join(', ')}:\n${a.stdin}`);
          applied.add(match);
        }
        assert.deepEqual([...applied].sort(), [...expected].sort(), `${cluster}: every manifest the plan writes was applied`);
      }
    });
  }
});

function mkdirp(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
}
