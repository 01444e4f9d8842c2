import { loadConfig, type ProviderChoice } from '@strata/server';

export { ConfigError } from '@strata/server';

/** What the worker takes from the one configuration (`loadConfig` of @strata/server, role `worker`). */
export interface WorkerConfig {
  /** `STRATA_REDIS_URL` (required: the queue) */
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
  /** `STRATA_WORKER_MAX_BATCH`: most batch items merged into one session run. @default 64 */
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

/**
 * The worker's configuration, parsed once with the rest of strata's (the same variables mean the same
 * thing in every process); throws a readable error naming the variable at fault.
 */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  // A worker listens only for /metrics and /health: a free port unless PORT says otherwise.
  const config = loadConfig({ STRATA_ROLE: 'worker', ...env, PORT: env['PORT'] ?? '0' });
  return {
    redisUrl: config.redisUrl!,
    modelsDir: config.modelsDir,
    provider: config.provider,
    workers: config.workers,
    threadsPerWorker: config.threadsPerWorker,
    log: config.log,
    id: config.queue.workerId,
    prefix: config.queue.prefix,
    maxBatch: config.queue.mergeBatch,
    heartbeatMs: config.queue.heartbeatMs,
    claimTimeoutMs: config.queue.claimTimeoutMs,
    drainMs: config.queue.drainMs,
    port: config.port,
    host: config.host,
  };
}
