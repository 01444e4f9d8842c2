#!/usr/bin/env node
/**
 * An inference worker: validates the models, starts the inference threads on the chosen execution
 * provider, then takes batches from the Redis job queue until SIGTERM (running batches finish or are
 * handed back to the other workers). `GET /metrics` and `GET /health` on `PORT` (observability.ts).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { PrometheusMetrics, QueueWorker, WorkerPoolEngine, createLogger, describeSelection, loadManifest } from '@strata/server';
import { loadWorkerConfig } from './config.js';
import { MeteredEngine, observeQueueWait, serveOperations, workerGauges } from './observability.js';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const log = createLogger(config.log);
  // Refuses models that do not match their manifest (sha256, tensors): MODEL_MISMATCH, exit 1.
  const manifest = await loadManifest(config.modelsDir);
  const pool = await WorkerPoolEngine.start(
    { files: manifest.files, tensors: manifest.tensors, provider: config.provider, threads: config.threadsPerWorker },
    config.workers,
  );
  const id = config.id ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const metrics = new PrometheusMetrics({ role: 'worker', replica: id });
  const engine = new MeteredEngine(pool, metrics);
  let worker: QueueWorker | null = null;
  workerGauges(metrics, () => worker, engine);
  const redis = new Redis(config.redisUrl, { lazyConnect: true });
  redis.on('error', (error: Error) => log.error(`redis: ${error.message}`));
  observeQueueWait(redis, `${config.prefix}:jobs:`, manifest.spec.version, (model, ms) => metrics.queueWait(model, ms));
  const redisUrl = config.redisUrl.replace(/\/\/[^@/]*@/, '//***@');
  let operations: Awaited<ReturnType<typeof serveOperations>>;
  try {
    await redis.connect();
    worker = await QueueWorker.start({
      redis,
      engine,
      modelVersion: manifest.spec.version,
      prefix: config.prefix,
      id,
      maxBatch: config.maxBatch,
      heartbeatMs: config.heartbeatMs,
      claimTimeoutMs: config.claimTimeoutMs,
      info: { requestedProvider: config.provider, threadsPerWorker: config.threadsPerWorker },
      log,
    });
    const started = worker;
    operations = await serveOperations({
      port: config.port,
      host: config.host,
      metrics,
      redis,
      info: () => ({
        worker: started.id,
        provider: engine.provider,
        requestedProvider: config.provider,
        threads: engine.workers,
        threadsPerWorker: config.threadsPerWorker,
        modelVersion: manifest.spec.version,
        redisUrl,
      }),
      stats: () => ({ ...started.stats() }),
    });
  } catch (error) {
    await worker?.stop({ drainMs: 0 }).catch(() => undefined);
    redis.disconnect();
    await engine.close();
    throw error;
  }
  const running = worker;
  process.stderr.write(
    `strata worker ${running.id}: models ${manifest.spec.version} on ${describeSelection(pool.selection)}, ` +
      `${engine.workers} inference thread(s), queue ${redisUrl}; metrics ${operations.url}/metrics, health ${operations.url}/health\n`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    log.info('worker stopping', { signal, worker: running.id });
    running
      .stop({ drainMs: config.drainMs })
      .then(() => operations.close())
      .then(() => engine.close())
      .then(() => redis.quit())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`strata worker: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`strata worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
