// No container engine runs here: these checks read docker-compose.yml, the env templates and the Dockerfile.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { parse } from 'yaml';
import { z } from 'zod';
import { projectRoot } from '../../config/env.ts';
import { ALL_SEARCH_ATTRIBUTES, siteTaskQueue } from '../../contracts/names.ts';

const read = (rel: string) => readFileSync(path.join(projectRoot, rel), 'utf8');

const duration = z.string().regex(/^\d+(ms|s|m|h)$/);
/** The subset of the Compose specification meshpilot uses; `.strict()` turns a typo into a failure. */
const serviceSchema = z
  .object({
    image: z.string().min(1),
    build: z.object({ context: z.string(), dockerfile: z.string() }).strict().optional(),
    init: z.boolean().optional(),
    restart: z.union([z.enum(['no', 'always', 'unless-stopped']), z.string().regex(/^on-failure(:\d+)?$/)]).optional(),
    command: z.array(z.string()).optional(),
    entrypoint: z.array(z.string()).optional(),
    environment: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/), z.string()).optional(),
    env_file: z.array(z.string()).optional(),
    ports: z.array(z.string().regex(/^(127\.0\.0\.1:)?\d+:\d+$/)).optional(),
    volumes: z.array(z.string()).optional(),
    depends_on: z
      .record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) }).strict())
      .optional(),
    healthcheck: z
      .object({
        test: z.array(z.string()).min(2),
        interval: duration,
        timeout: duration,
        retries: z.number().int().positive(),
        start_period: duration,
      })
      .strict()
      .optional(),
  })
  .strict();
const composeSchema = z
  .object({
    name: z.string(),
    services: z.record(z.string(), serviceSchema),
    volumes: z.record(z.string(), z.null()).optional(),
  })
  .catchall(z.unknown())
  .refine((c) => Object.keys(c).every((k) => ['name', 'services', 'volumes'].includes(k) || k.startsWith('x-')), 'unknown top-level key');

const compose = composeSchema.parse(parse(read('docker-compose.yml'), { merge: true }));
const services = Object.entries(compose.services);
const docs = read('docs/deployment.md');
const pkg = JSON.parse(read('package.json')) as { version: string };

/** Services other services wait on to finish: one-shot jobs, not daemons. */
const jobs = new Set(
  services.flatMap(([, s]) =>
    Object.entries(s.depends_on ?? {})
      .filter(([, d]) => d.condition === 'service_completed_successfully')
      .map(([name]) => name),
  ),
);

function envFileKeys(file: string): Array<[string, string]> {
  return read(`${file}.example`)
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#'))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]);
}

const SECRET_NAME = /PASSWORD|PWD|SECRET|TOKEN|API_KEY|CODEC_KEYS$/;

describe('docker-compose.yml', () => {
  test('has the production services', () => {
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'codec-server', 'worker', 'worker-usa', 'worker-europe', 'chat']) {
      assert.ok(compose.services[name], `service ${name}`);
    }
  });

  test('every image tag is pinned to a version', () => {
    for (const [name, s] of services) {
      const m = s.image.match(/^([a-z0-9./_-]+):([A-Za-z0-9._-]+)$/);
      assert.ok(m, `${name}: image ${s.image} has no tag`);
      assert.notEqual(m[2], 'latest', `${name}: latest`);
      assert.match(m[2]!, /^v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/, `${name}: tag ${m[2]} is not a version`);
    }
    const own = services.filter(([, s]) => s.build);
    assert.ok(own.length >= 4);
    for (const [name, s] of own) assert.equal(s.image, `meshpilot:${pkg.version}`, `${name} builds the meshpilot image`);
  });

  test('every long-running service has a health check; jobs are one-shot', () => {
    assert.deepEqual([...jobs].sort(), ['temporal-init', 'temporal-schema']);
    for (const [name, s] of services) {
      if (jobs.has(name)) {
        assert.match(s.restart ?? 'no', /^(no|on-failure(:\d+)?)$/, `${name} must not restart forever`);
        assert.equal(s.ports, undefined);
      } else {
        assert.ok(s.healthcheck, `${name} has no healthcheck`);
      }
    }
  });

  test('dependencies exist and wait for health or completion', () => {
    for (const [name, s] of services) {
      for (const [dep, d] of Object.entries(s.depends_on ?? {})) {
        assert.ok(compose.services[dep], `${name} depends on unknown ${dep}`);
        if (!jobs.has(dep)) assert.equal(d.condition, 'service_healthy', `${name} -> ${dep}`);
      }
    }
  });

  test('no secret values in the file; secrets come from env files with committed templates', () => {
    for (const [name, s] of services) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        // A flag such as TEMPORAL_CODEC_PASS_ACCESS_TOKEN=false names a secret without holding one.
        if (!/^(true|false)$/.test(value)) assert.doesNotMatch(key, SECRET_NAME, `${name}: ${key} belongs in an env_file`);
        assert.doesNotMatch(value, /^[A-Za-z0-9+/]{32,}={0,2}$|[0-9a-f]{32,}/i, `${name}: ${key} looks like key material`);
      }
      for (const file of s.env_file ?? []) {
        assert.match(file, /^deploy\/[a-z-]+\.env$/, `${name}: env file ${file}`);
        for (const [key, value] of envFileKeys(file)) {
          if (SECRET_NAME.test(key)) assert.equal(value, '', `${file}.example: ${key} must be empty in the template`);
        }
      }
    }
    const ignored = read('deploy/.gitignore');
    assert.match(ignored, /^\*\.env$/m);
    assert.match(ignored, /^!\*\.env\.example$/m);
    const templates = readdirSync(path.join(projectRoot, 'deploy')).filter((f) => f.endsWith('.env.example'));
    const used = new Set(services.flatMap(([, s]) => s.env_file ?? []).map((f) => path.basename(f)));
    assert.deepEqual(templates.map((f) => f.replace(/\.example$/, '')).sort(), [...used].sort());
  });

  test('every environment variable referenced is documented in docs/deployment.md', () => {
    const referenced = new Set<string>();
    for (const [, s] of services) {
      Object.keys(s.environment ?? {}).forEach((k) => referenced.add(k));
      for (const file of s.env_file ?? []) envFileKeys(file).forEach(([k]) => referenced.add(k));
    }
    for (const m of read('docker-compose.yml').matchAll(/\$\{?([A-Z_][A-Z0-9_]*)/g)) referenced.add(m[1]!);
    for (const key of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_API_KEY', 'MESHPILOT_CODEC_KEY_IDS']) referenced.add(key);
    const missing = [...referenced].filter((k) => !docs.includes(`\`${k}\``));
    assert.deepEqual(missing, []);
  });

  test('the UI decodes through the codec server, which allows the UI origin', () => {
    const ui = compose.services['temporal-ui']!;
    const codec = compose.services['codec-server']!;
    const endpoint = new URL(ui.environment!.TEMPORAL_CODEC_ENDPOINT!);
    const codecPort = codec.ports!.map((p) => p.split(':').slice(-2)).find(([, inner]) => inner === '8888')?.[0];
    assert.equal(endpoint.port, codecPort, 'TEMPORAL_CODEC_ENDPOINT uses the published codec port');
    const uiPort = ui.ports![0]!.split(':').at(-2);
    const origins = codec.command!.slice(codec.command!.indexOf('--ui-origin') + 1);
    assert.ok(origins.includes(`http://localhost:${uiPort}`), `codec server must allow the UI origin, got ${origins}`);
    assert.ok(codec.command!.includes('0.0.0.0') && codec.ports!.every((p) => p.startsWith('127.0.0.1:')));
  });

  test('site workers poll their own site queue; the init job registers every search attribute', () => {
    for (const site of ['usa', 'europe']) {
      const w = compose.services[`worker-${site}`]!;
      assert.deepEqual(w.command, ['worker', '--site', site]);
      assert.deepEqual(w.healthcheck!.test.slice(-3), ['worker', '--site', site]);
      assert.equal(siteTaskQueue(site), `meshpilot-site-${site}`);
    }
    const init = read('deploy/temporal/init-namespace.sh');
    for (const key of ALL_SEARCH_ATTRIBUTES) assert.match(init, new RegExp(`\\b${key.name}\\b`), key.name);
  });

  test('deploy shell scripts parse', async () => {
    for (const f of ['deploy/install-tools.sh', 'deploy/temporal/setup-postgres.sh', 'deploy/temporal/init-namespace.sh']) {
      await execa('sh', ['-n', path.join(projectRoot, f)]);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const args = new Map([...dockerfile.matchAll(/^ARG ([A-Z_]+)(?:=(.*))?$/gm)].map((m) => [m[1]!, m[2] ?? '']));

  test('pins the node base image and every tool version', () => {
    assert.match(args.get('NODE_VERSION') ?? '', /^20\.\d+\.\d+$/, 'Node 20, exact');
    for (const tool of ['TALOSCTL_VERSION', 'HELM_VERSION', 'CILIUM_CLI_VERSION', 'KUBECTL_VERSION']) {
      assert.match(args.get(tool) ?? '', /^v\d+\.\d+\.\d+$/, `${tool} pinned`);
      assert.ok(docs.includes(`\`${tool}\``), `${tool} documented`);
    }
    for (const from of dockerfile.matchAll(/^FROM (\S+)/gm)) assert.equal(from[1], 'node:${NODE_VERSION}-bookworm-slim');
  });

  test('verifies checksums, installs production deps and runs as non-root', () => {
    const installer = read('deploy/install-tools.sh');
    assert.equal((installer.match(/^verify \S+ "\$\{[A-Z_]+_SHA256:-\}"/gm) ?? []).length, 4, 'each tool is checksum-verified');
    assert.match(dockerfile, /npm ci --omit=dev/);
    const user = [...dockerfile.matchAll(/^USER (\S+)/gm)].at(-1)?.[1];
    assert.ok(user && user !== 'root' && user !== '0', 'final stage runs as a non-root user');
    const ignore = read('.dockerignore');
    for (const entry of ['node_modules', '.tools', '.data', 'deploy/*.env']) assert.ok(ignore.split('\n').includes(entry), entry);
  });
});
