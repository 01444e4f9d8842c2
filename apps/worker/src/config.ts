import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVIDER_CHOICES, type ProviderChoice } from '@strata/server';

/** The repository root (this file is at apps/worker/{src,dist}/config.*). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Everything the worker can be configured with; parsed once from the environment. */
export interface WorkerConfig {
  /** `STRATA_REDIS_URL` @default 'redis://127.0.0.1:6379' */
  redisUrl: string;
  /** `STRATA_MODELS_DIR`: manifest.json and the ONNX files. @default '<repo>/models' */
  modelsDir: string;
  /** `STRATA_EXECUTION_PROVIDER`: `auto` (CUDA, then WebGPU, then CPU), `cpu`, `webgpu` or `cuda`. @default 'auto' */
  provider: ProviderChoice;
  /** `STRATA_WORKERS`: inference threads (one session each; one batch each at a time). @default 2 */
  workers: number;
  /** `STRATA_THREADS_PER_WORKER`: intra-op threads of each session. @default 1 */
  threadsPerWorker: number;
  /** `STRATA_LOG`: `info`, `error` or `silent`. @default 'info' */
  log: 'info' | 'error' | 'silent';
  /** `STRATA_WORKER_ID` @default '<host>-<pid>-<random>' */
  id: string | undefined;
  /** `STRATA_QUEUE_PREFIX`: Redis key prefix. @default 'strata' */
  prefix: string;
  /** `STRATA_MAX_BATCH`: most batch items merged into one session run. @default 64 */
  maxBatch: number;
  /** `STRATA_HEARTBEAT_MS`: heartbeat period; a worker silent for three is gone. @default 1000 */
  heartbeatMs: number;
  /** `STRATA_CLAIM_TIMEOUT_MS`: a job left this long by a worker that stopped is taken over. @default 10000 */
  claimTimeoutMs: number;
  /** `STRATA_DRAIN_MS`: on SIGTERM, how long running batches may finish before they are handed back. @default 10000 */
  drainMs: number;
  /** `PORT`: `GET /metrics` (Prometheus) and `GET /health`; 0 picks a free port (logged). @default 0 */
  port: number;
  /** `HOST` @default '127.0.0.1' */
  host: string;
}

export class ConfigError extends Error {}

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

/** Parse and validate the worker's configuration; throws a readable error naming the variable at fault. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const heartbeatMs = int(env, 'STRATA_HEARTBEAT_MS', 1000, 50, 60_000);
  const claimTimeoutMs = int(env, 'STRATA_CLAIM_TIMEOUT_MS', 10_000, 100, 3_600_000);
  if (claimTimeoutMs < 2 * heartbeatMs) {
    throw new ConfigError(
      `STRATA_CLAIM_TIMEOUT_MS (${claimTimeoutMs}) must be at least twice STRATA_HEARTBEAT_MS (${heartbeatMs}), or live workers' jobs get taken over`,
    );
  }
  return {
    redisUrl: env['STRATA_REDIS_URL'] || 'redis://127.0.0.1:6379',
    modelsDir: resolve(env['STRATA_MODELS_DIR'] || resolve(REPO_ROOT, 'models')),
    provider: oneOf(env, 'STRATA_EXECUTION_PROVIDER', PROVIDER_CHOICES, 'auto'),
    workers: int(env, 'STRATA_WORKERS', 2, 1, 64),
    threadsPerWorker: int(env, 'STRATA_THREADS_PER_WORKER', 1, 1, 64),
    log: oneOf(env, 'STRATA_LOG', ['info', 'error', 'silent'] as const, 'info'),
    id: env['STRATA_WORKER_ID'] || undefined,
    prefix: env['STRATA_QUEUE_PREFIX'] || 'strata',
    maxBatch: int(env, 'STRATA_MAX_BATCH', 64, 1, 4096),
    heartbeatMs,
    claimTimeoutMs,
    drainMs: int(env, 'STRATA_DRAIN_MS', 10_000, 0, 600_000),
    port: int(env, 'PORT', 0, 0, 65535),
    host: env['HOST'] || '127.0.0.1',
  };
}
