import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from './domain/scenes/limits.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './graphql/limits.js';
import type { ProviderChoice } from './infrastructure/onnx/sessions.js';
import type { BucketRule } from './domain/identity/rate-limit.js';

/** The repository root (this file is at apps/server/{src,dist}/config.*). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Everything the server can be configured with; parsed once from the environment. */
export interface Config {
  /** `PORT` @default 4000 */
  port: number;
  /** `HOST` @default '127.0.0.1' */
  host: string;
  /** `STRATA_DATA_DIR`: the embedded database and PNG blobs. @default '<repo>/data' */
  dataDir: string;
  /** `STRATA_MODELS_DIR`: where manifest.json and the ONNX files are. @default '<repo>/models' */
  modelsDir: string;
  /** `STRATA_EXECUTION_PROVIDER`: `auto` (CUDA when installed, else CPU), `cpu` or `cuda`. @default 'auto' */
  provider: ProviderChoice;
  /** `STRATA_WORKERS`: inference worker threads. @default 2 */
  workers: number;
  /** `STRATA_THREADS_PER_WORKER`: intra-op threads of each session. @default 1 */
  threadsPerWorker: number;
  /**
   * `STRATA_BATCHING`: `on`/`auto` batch steps of different scenes per model (a step waits for a batch
   * only while another batch runs, so a lone scene never waits), `off` never batches. @default 'auto'
   */
  batching: 'on' | 'off' | 'auto';
  /** `STRATA_MAX_BATCH` @default 8 */
  maxBatch: number;
  /** `STRATA_MAX_WAIT_MS` @default 2 */
  maxWaitMs: number;
  /** `STRATA_LOG`: `info`, `error` or `silent`. @default 'info' */
  log: 'info' | 'error' | 'silent';
  limits: Limits;
  queryLimits: QueryLimits;
  /** `STRATA_SECRET`: signs session tokens. @default a random key kept in `<dataDir>/secret.key` */
  secret: string | null;
  /** Pointer and selection updates reach others at most this often, ms. @default 50 */
  presenceThrottleMs: number;
  /** `STRATA_RATE_MUTATIONS` (per second, burst twice that), `STRATA_MAX_SUBSCRIPTIONS` (open streams per user). */
  rateLimits: { mutations: BucketRule; presence: BucketRule; subscriptions: number };
}

class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw))
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** Parse and validate the configuration; throws a readable error naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env['HOST'] || '127.0.0.1',
    dataDir: resolve(env['STRATA_DATA_DIR'] || resolve(REPO_ROOT, 'data')),
    modelsDir: resolve(env['STRATA_MODELS_DIR'] || resolve(REPO_ROOT, 'models')),
    provider: oneOf(env, 'STRATA_EXECUTION_PROVIDER', ['auto', 'cpu', 'cuda'] as const, 'auto'),
    workers: int(env, 'STRATA_WORKERS', 2, 1, 64),
    threadsPerWorker: int(env, 'STRATA_THREADS_PER_WORKER', 1, 1, 64),
    batching: oneOf(env, 'STRATA_BATCHING', ['on', 'off', 'auto'] as const, 'auto'),
    maxBatch: int(env, 'STRATA_MAX_BATCH', 8, 1, 256),
    maxWaitMs: int(env, 'STRATA_MAX_WAIT_MS', 2, 0, 1000),
    log: oneOf(env, 'STRATA_LOG', ['info', 'error', 'silent'] as const, 'info'),
    limits: { ...DEFAULT_LIMITS, maxLayers: int(env, 'STRATA_MAX_LAYERS', DEFAULT_LIMITS.maxLayers, 1, 1000) },
    queryLimits: { ...DEFAULT_QUERY_LIMITS },
    secret: env['STRATA_SECRET'] || null,
    presenceThrottleMs: 50,
    rateLimits: {
      mutations: { rate: int(env, 'STRATA_RATE_MUTATIONS', 20, 1, 100_000), burst: 2 * int(env, 'STRATA_RATE_MUTATIONS', 20, 1, 100_000) },
      presence: { rate: 30, burst: 60 },
      subscriptions: int(env, 'STRATA_MAX_SUBSCRIPTIONS', 20, 1, 10_000),
    },
  };
}
