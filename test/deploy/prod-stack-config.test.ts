// One source of truth for the two ways the production stack runs: docker-compose.yml mounts the very files
// scripts/prod-stack.sh starts the native server and UI with, and the real server binary accepts them. Bad input
// to the script is refused naming what is wrong, before anything starts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { parse } from 'yaml';
import { projectRoot } from '../../config/env.ts';

const read = (rel: string) => readFileSync(path.join(projectRoot, rel), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string>; volumes?: string[]; entrypoint?: string[] }>;
};
const script = read('scripts/prod-stack.sh');
const serverBin = path.join(projectRoot, '.tools', 'bin', 'temporal-server');

describe('production stack configuration', () => {
  test('compose mounts the server config, dynamic config and UI config that prod-stack.sh uses', () => {
    const temporal = compose.services.temporal!;
    const mounted = (file: string, svc: { volumes?: string[] }) => svc.volumes?.find((v) => v.startsWith(`./${file}:`))?.split(':')[1];
    const serverConfig = mounted('deploy/temporal/server.yaml', temporal);
    assert.ok(serverConfig, 'the server config is mounted');
    assert.equal(temporal.environment?.TEMPORAL_SERVER_CONFIG_FILE_PATH, serverConfig);
    assert.match(script, /TEMPORAL_SERVER_CONFIG_FILE_PATH="\$MESHPILOT_ROOT\/deploy\/temporal\/server\.yaml"/);
    const dynamic = mounted('deploy/temporal/dynamicconfig', temporal);
    assert.equal(temporal.environment?.DYNAMIC_CONFIG_FILE_PATH, `${dynamic}/meshpilot.yaml`);
    assert.match(script, /DYNAMIC_CONFIG_FILE_PATH="\$MESHPILOT_ROOT\/deploy\/temporal\/dynamicconfig\/meshpilot\.yaml"/);
    assert.equal(mounted('deploy/temporal/ui/docker.yaml', compose.services['temporal-ui']!), '/home/ui-server/config/docker.yaml');
    assert.match(script, /temporal-ui-server --root "\$MESHPILOT_ROOT\/deploy\/temporal" --config ui --env docker start/);
    for (const job of ['temporal-schema', 'temporal-init']) {
      const file = compose.services[job]!.entrypoint!.at(-1)!.replace('/deploy/', 'deploy/');
      assert.match(script, new RegExp(`sh ${file.replace(/[.]/g, '\\.')}`), `prod-stack.sh runs ${file} like the ${job} job`);
    }
  });

  test('the server config is PostgreSQL for persistence and visibility, secrets only from the environment', () => {
    const text = read('deploy/temporal/server.yaml');
    assert.match(text.split('\n')[0]!, /enable-template/);
    assert.equal((text.match(/pluginName: postgres12/g) ?? []).length, 2);
    assert.match(text, /password: \{\{ env "POSTGRES_PWD"/);
    assert.doesNotMatch(text, /password: "[^{]/);
    for (const service of ['frontend', 'history', 'matching', 'worker']) assert.match(text, new RegExp(`^  ${service}:\\n    rpc:`, 'm'));
  });

  test('the real server accepts the dynamic config', async () => {
    const r = await execa(serverBin, ['validate-dynamic-config', path.join(projectRoot, 'deploy/temporal/dynamicconfig/meshpilot.yaml')], { reject: false });
    assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /warning/i, "every key is known and well-typed");
  });

  test('bad input is refused before anything starts', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meshpilot-prod-args-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = (args: string[], env: Record<string, string> = {}) =>
      execa('bash', [path.join(projectRoot, 'scripts/prod-stack.sh'), ...args], { env: { MESHPILOT_PROD_DIR: dir, ...env }, reject: false });
    const usage = await run([]);
    assert.equal(usage.exitCode, 2);
    assert.match(usage.stderr, /usage: scripts\/prod-stack\.sh up \[--lab\]/);
    const flag = await run(['up', '--fast']);
    assert.equal(flag.exitCode, 1);
    assert.match(flag.stderr, /up: unknown argument '--fast'/);
    const port = await run(['up'], { FRONTEND_GRPC_PORT: 'seventy' });
    assert.equal(port.exitCode, 1);
    assert.match(port.stderr, /FRONTEND_GRPC_PORT: expected a port number, got 'seventy'/);
    const membership = await run(['up'], { HISTORY_MEMBERSHIP_PORT: '40000' });
    assert.equal(membership.exitCode, 1);
    assert.match(membership.stderr, /HISTORY_MEMBERSHIP_PORT: 40000 is above 32767; Temporal stores membership ports as SMALLINT/);
    const restart = await run(['restart', 'frontend']);
    assert.equal(restart.exitCode, 1);
    assert.match(restart.stderr, /restart: unknown service 'frontend' \(one of: postgresql temporal/);
    const status = await run(['status']);
    assert.equal(status.exitCode, 3);
  });
});
