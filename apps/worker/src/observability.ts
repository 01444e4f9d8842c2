/**
 * The worker's operations endpoints: `GET /metrics` (Prometheus text format, the same
 * PrometheusMetrics as the API replicas, labelled role="worker") and `GET /health` (who it is, its
 * execution provider and threads, and whether Redis answers: 200, or 503 with the reason).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import type { InferenceEngine, InferenceRequest, InferenceResult, PrometheusMetrics, QueueWorker } from '@strata/server';

/**
 * Wraps the engine the QueueWorker runs its merged batches on, so every session run is counted by
 * model and provider, with its batch size (items) and time in the session.
 */
export class MeteredEngine implements InferenceEngine {
  failures = 0;

  constructor(
    private readonly inner: InferenceEngine,
    private readonly metrics: PrometheusMetrics,
  ) {}

  get provider(): string {
    return this.inner.provider;
  }

  get workers(): number {
    return this.inner.workers;
  }

  async run(request: InferenceRequest): Promise<InferenceResult> {
    let result: InferenceResult;
    try {
      result = await this.inner.run(request);
    } catch (error) {
      this.failures++;
      throw error;
    }
    const items = Object.values(request.feeds)[0]?.dims[0] ?? 1;
    this.metrics.inference(request.model, this.inner.provider, items, result.runMs);
    return result;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

type CallBuffer = (command: string, ...args: unknown[]) => Promise<unknown>;

/**
 * Queue wait as the worker sees it: the time from `XADD` (the first part of a stream entry id is the
 * Redis server's clock in ms when the entry was added) to the moment a blocking `XREADGROUP` hands
 * the entry to this worker. The QueueWorker does its blocking reads on a duplicate of the connection
 * it is given; this hooks that duplicate's replies and observes each entry's age, by model. Entries
 * taken over with `XAUTOCLAIM` are not observed (their age includes the dead worker's time; they are
 * counted apart). On one host the clocks agree; across hosts the figure includes their skew.
 */
export function observeQueueWait(
  redis: Redis,
  streamPrefix: string,
  modelVersion: string,
  observe: (model: string, ms: number) => void,
): void {
  const duplicate = redis.duplicate.bind(redis);
  const suffix = `:${modelVersion}`;
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    const call = copy.callBuffer.bind(copy) as unknown as CallBuffer;
    (copy as unknown as { callBuffer: CallBuffer }).callBuffer = async (command, ...args) => {
      const result = await call(command, ...args);
      if (String(command).toUpperCase() === 'XREADGROUP' && Array.isArray(result)) {
        const now = Date.now();
        for (const [name, entries] of result as [Buffer, [Buffer, unknown][]][]) {
          const stream = String(name);
          if (!stream.startsWith(streamPrefix) || !stream.endsWith(suffix)) continue;
          const model = stream.slice(streamPrefix.length, stream.length - suffix.length);
          for (const [id] of entries ?? []) {
            const added = Number(String(id).split('-')[0]);
            if (Number.isFinite(added)) observe(model, Math.max(0, now - added));
          }
        }
      }
      return result;
    };
    return copy;
  };
}

/** Per-worker gauges read at scrape time from the QueueWorker's counters (since this process started). */
export function workerGauges(metrics: PrometheusMetrics, worker: () => QueueWorker | null, engine: MeteredEngine): void {
  const stat = (key: keyof ReturnType<QueueWorker['stats']>) => () => worker()?.stats()[key] ?? 0;
  metrics.gauges({
    strata_worker_jobs_answered: { help: 'Jobs this worker answered (since it started).', read: stat('jobs') },
    strata_worker_session_runs: { help: 'Session runs (merged batches) this worker made (since it started).', read: stat('runs') },
    strata_worker_jobs_taken_over: {
      help: 'Jobs this worker took over (XAUTOCLAIM) from a worker that stopped (since it started).',
      read: stat('claimed'),
    },
    strata_worker_jobs_expired: { help: 'Jobs dropped unrun because their caller had given up (since it started).', read: stat('expired') },
    strata_worker_jobs_handed_back: { help: 'Jobs handed back to the other workers on stop.', read: stat('handedBack') },
    strata_worker_busy_batches: { help: 'Batches running on this worker now.', read: stat('busy') },
    strata_worker_inference_failures: { help: 'Session runs that failed (since it started).', read: () => engine.failures },
    strata_worker_threads: { help: 'Inference threads (sessions) of this worker.', read: () => engine.workers },
  });
}

export interface HealthInfo {
  worker: string;
  provider: string;
  requestedProvider: string;
  threads: number;
  threadsPerWorker: number;
  modelVersion: string;
  redisUrl: string;
}

async function redisState(redis: Redis): Promise<string> {
  if (redis.status !== 'ready') return `down: connection ${redis.status}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer within 1000 ms')), 1000);
      }),
    ]);
    return 'up';
  } catch (error) {
    return `down: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /metrics`, `GET /health` (and `/health/ready`, the same: 503 when Redis is down),
 * `GET /health/live` (200 while the process answers). Resolves with the base URL once listening.
 */
export async function serveOperations(options: {
  port: number;
  host: string;
  metrics: PrometheusMetrics;
  redis: Redis;
  info: () => HealthInfo;
  stats: () => Record<string, number>;
}): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET only\n');
    if (path === '/metrics') {
      options.metrics.render().then(
        ({ contentType, body }) => send(200, contentType, body),
        (error: unknown) => send(500, 'text/plain', `${String(error)}\n`),
      );
      return;
    }
    if (path === '/health/live') return send(200, 'application/json', JSON.stringify({ ok: true, worker: options.info().worker }));
    if (path === '/health' || path === '/health/ready') {
      void redisState(options.redis).then((redis) => {
        const ok = redis === 'up';
        const { redisUrl, ...info } = options.info();
        const body = { ok, role: 'worker', ...info, dependencies: { redis, redisUrl }, ...options.stats() };
        send(ok ? 200 : 503, 'application/json', JSON.stringify(body));
      });
      return;
    }
    send(404, 'text/plain', 'not found: GET /metrics or /health\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
