#!/usr/bin/env node
/**
 * An inference worker: validates the models, starts the inference threads on the chosen execution
 * provider, then takes batches from the Redis job queue until SIGTERM (running batches finish or are
 * handed back to the other workers).
 */
import { Redis } from 'ioredis';
import { QueueWorker, WorkerPoolEngine, createLogger, describeSelection, loadManifest } from '@strata/server';
import { loadWorkerConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const log = createLogger(config.log);
  // Refuses models that do not match their manifest (sha256, tensors): MODEL_MISMATCH, exit 1.
  const manifest = await loadManifest(config.modelsDir);
  const engine = await WorkerPoolEngine.start(
    { files: manifest.files, tensors: manifest.tensors, provider: config.provider, threads: config.threadsPerWorker },
    config.workers,
  );
  const redis = new Redis(config.redisUrl, { lazyConnect: true });
  redis.on('error', (error: Error) => log.error(`redis: ${error.message}`));
  let worker: QueueWorker;
  try {
    await redis.connect();
    worker = await QueueWorker.start({
      redis,
      engine,
      modelVersion: manifest.spec.version,
      prefix: config.prefix,
      id: config.id,
      maxBatch: config.maxBatch,
      heartbeatMs: config.heartbeatMs,
      claimTimeoutMs: config.claimTimeoutMs,
      info: { requestedProvider: config.provider, threadsPerWorker: config.threadsPerWorker },
      log,
    });
  } catch (error) {
    redis.disconnect();
    await engine.close();
    throw error;
  }
  process.stderr.write(
    `strata worker ${worker.id}: models ${manifest.spec.version} on ${describeSelection(engine.selection)}, ` +
      `${engine.workers} inference thread(s), queue ${config.redisUrl.replace(/\/\/[^@/]*@/, '//***@')}\n`,
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1); // a second signal: stop now
    stopping = true;
    log.info('worker stopping', { signal, worker: worker.id });
    worker
      .stop({ drainMs: config.drainMs })
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
