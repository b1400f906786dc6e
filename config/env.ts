import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** Thrown when an environment setting is malformed; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const projectRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port, for example localhost:7233')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535');

const port = z.coerce.number().int().min(1).max(65535);
const existingFile = z.string().min(1).refine((p) => existsSync(p), 'file does not exist');

/** Every environment variable meshpilot reads, with its default. The README's configuration table mirrors this. */
const envSchema = z
  .object({
    TEMPORAL_ADDRESS: hostPort.default('localhost:7233'),
    TEMPORAL_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'not a valid namespace name').default('default'),
    TEMPORAL_TLS_CERT: existingFile.optional(),
    TEMPORAL_TLS_KEY: existingFile.optional(),
    TEMPORAL_TLS_CA: existingFile.optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_CLI_PATH: z.string().min(1).optional(),
    MESHPILOT_TASK_QUEUE: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'not a valid task queue name').default('meshpilot'),
    MESHPILOT_SITE: z.string().regex(/^[a-z0-9-]{1,63}$/, 'expected a lower-case site name').optional(),
    MESHPILOT_METRICS_PORT: port.optional(),
    MESHPILOT_DEV_PORT: port.default(7233),
    MESHPILOT_UI_PORT: port.default(8233),
    MESHPILOT_DATA_DIR: z.string().min(1).default(path.join(projectRoot, '.data')),
    MESHPILOT_UI_URL: z.string().url().optional(),
    MESHPILOT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    MESHPILOT_SECRET_KEY: z.string().min(1).optional(),
    MESHPILOT_SECRET_TMPDIR: z.string().min(1).optional(),
    MESHPILOT_LAB_PROCESS_PER_CALL: z.enum(['0', '1'], { message: 'expected 1 (one process per simulated call) or 0' }).default('0').transform((v) => v === '1'),
    // Worker sizing (docs/deployment.md, "Sizing"): unset = the SDK's defaults, except 64 activity slots.
    MESHPILOT_WORKER_ACTIVITY_SLOTS: z.coerce.number().int().min(1).max(10_000).default(64),
    MESHPILOT_WORKER_WORKFLOW_TASK_SLOTS: z.coerce.number().int().min(2).max(10_000).optional(),
    MESHPILOT_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
    MESHPILOT_WORKER_WORKFLOW_POLLERS: z.coerce.number().int().min(2).max(1_000).optional(),
    MESHPILOT_WORKER_ACTIVITY_POLLERS: z.coerce.number().int().min(1).max(1_000).optional(),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT'],
        message: 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together (mTLS client certificate and its key)',
      });
    }
  });

export type MeshpilotEnv = z.infer<typeof envSchema>;

/** The MESHPILOT_WORKER_* sizing variables a worker reads. */
export function workerEnvKeys(): string[] {
  return Object.keys(envSchema.shape).filter((k) => k.startsWith('MESHPILOT_WORKER_'));
}

/** Parses the environment once, failing fast with every malformed setting named. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): MeshpilotEnv {
  const picked = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((k) => [k, source[k]] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0] ?? 'environment');
      const value = key in picked ? ` (got ${JSON.stringify(redactIfSecret(key, String(picked[key])))})` : '';
      return `  ${key}: ${i.message}${value}`;
    });
    throw new ConfigError(`invalid meshpilot configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

function redactIfSecret(key: string, value: string): string {
  return /KEY|SECRET|TOKEN/.test(key) && !key.endsWith('_PATH') ? '<redacted>' : value;
}

/** Slots, pollers and sticky cache of a worker, from MESHPILOT_WORKER_*; what is unset stays the SDK's default. */
export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTaskPolls?: number;
  maxConcurrentActivityTaskPolls?: number;
}

export function workerTuning(env: MeshpilotEnv): WorkerTuning {
  const tuning: WorkerTuning = { maxConcurrentActivityTaskExecutions: env.MESHPILOT_WORKER_ACTIVITY_SLOTS };
  if (env.MESHPILOT_WORKER_WORKFLOW_TASK_SLOTS !== undefined) tuning.maxConcurrentWorkflowTaskExecutions = env.MESHPILOT_WORKER_WORKFLOW_TASK_SLOTS;
  if (env.MESHPILOT_WORKER_MAX_CACHED_WORKFLOWS !== undefined) tuning.maxCachedWorkflows = env.MESHPILOT_WORKER_MAX_CACHED_WORKFLOWS;
  if (env.MESHPILOT_WORKER_WORKFLOW_POLLERS !== undefined) tuning.maxConcurrentWorkflowTaskPolls = env.MESHPILOT_WORKER_WORKFLOW_POLLERS;
  if (env.MESHPILOT_WORKER_ACTIVITY_POLLERS !== undefined) tuning.maxConcurrentActivityTaskPolls = env.MESHPILOT_WORKER_ACTIVITY_POLLERS;
  return tuning;
}

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  tls?: { clientCertPath?: string; clientKeyPath?: string; caPath?: string; serverName?: string };
  apiKey?: string;
}

export function temporalSettings(env: MeshpilotEnv): TemporalConnectionSettings {
  const wantsTls = env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_CA || env.TEMPORAL_API_KEY || env.TEMPORAL_TLS_SERVER_NAME;
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    apiKey: env.TEMPORAL_API_KEY,
    tls: wantsTls
      ? {
          clientCertPath: env.TEMPORAL_TLS_CERT,
          clientKeyPath: env.TEMPORAL_TLS_KEY,
          caPath: env.TEMPORAL_TLS_CA,
          serverName: env.TEMPORAL_TLS_SERVER_NAME,
        }
      : undefined,
  };
}
