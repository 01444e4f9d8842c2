import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { buildContractSchema, type ApiContext } from '@strata/schema';
import type { Config } from './config.js';
import type { ModelSpec } from './domain/rendering/model.js';
import type { BlobStore, Clock, EventBus, InferenceEngine, LeaseBoard, PresenceBoard, SceneStore, SlotLimit } from './domain/ports.js';
import { MemoryLeaseBoard } from './infrastructure/memory/memory-leases.js';
import { systemClock } from './domain/ports.js';
import { Painter } from './domain/rendering/painter.js';
import { RenderCoordinator, type Logger } from './domain/rendering/render-coordinator.js';
import { SceneService } from './domain/scenes/scene-service.js';
import { RenderScheduler } from './domain/rendering/scheduler.js';
import { formatError } from './graphql/errors.js';
import { OperationGuard } from './graphql/guard.js';
import { createSceneApi, type ApiDeps } from './graphql/scene-api.js';
import { DiskBlobStore } from './infrastructure/fs/disk-blob-store.js';
import { MemoryEventBus } from './infrastructure/memory/memory-bus.js';
import { loadManifest } from './infrastructure/onnx/manifest.js';
import { WorkerPoolEngine } from './infrastructure/onnx/worker-pool.js';
import { SqliteSceneStore } from './infrastructure/sqlite/sqlite-store.js';
import { PostgresSceneStore } from './infrastructure/postgres/postgres-store.js';
import { PostgresBlobStore } from './infrastructure/postgres/postgres-blob-store.js';
import { connectRedis, RedisEventBus } from './infrastructure/redis/redis-bus.js';
import { RedisLeaseBoard } from './infrastructure/redis/redis-leases.js';
import { QueueInferenceEngine } from './infrastructure/redis/queue-engine.js';
import { RedisRateLimit, RedisSlotLimit } from './infrastructure/redis/redis-limits.js';
import { RedisPresenceBoard } from './infrastructure/redis/redis-presence.js';
import { PrometheusMetrics } from './infrastructure/metrics/prometheus.js';
import { createLogger } from './logger.js';
import { createHttpApp, type HttpFallback } from './transport/http.js';
import { PresenceHub } from './domain/identity/presence.js';
import { ConcurrencyLimiter, RateLimiter } from './domain/identity/rate-limit.js';
import { SharingService } from './domain/identity/sharing-service.js';
import type { AccessStore } from './domain/ports.js';
import { Authenticator, UrlSigner } from './domain/identity/authenticator.js';
import { loadSecret } from './infrastructure/fs/secret.js';
import { createCallers } from './transport/callers.js';
import type { Caller } from './graphql/scene-api.js';
import { createWsServer } from './transport/ws.js';
import { clientInfo } from './transport/proxy.js';

/** Inference: worker threads in this process (`all`), or worker processes through the Redis queue (`api`). */
async function openEngine(
  config: Config,
  manifest: Awaited<ReturnType<typeof loadManifest>>,
  log: Logger,
  redis: Redis | null,
): Promise<InferenceEngine> {
  if (config.role === 'api') {
    // Inference runs in worker processes (apps/worker) that take batches from the Redis queue.
    return QueueInferenceEngine.start({ redis: redis!, modelVersion: manifest.spec.version, replicaId: config.replicaId, log });
  }
  return WorkerPoolEngine.start(
    { files: manifest.files, tensors: manifest.tensors, provider: config.provider, threads: config.threadsPerWorker },
    config.workers,
    log,
  );
}

/** Count what a slot limit lets open (the open-streams gauge). */
function countOpen(limit: SlotLimit, count: (delta: number) => void): SlotLimit {
  return {
    async acquire(key, what) {
      const release = await limit.acquire(key, what);
      count(1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        count(-1);
        release();
      };
    },
  };
}

/** Rejects when `promise` takes longer than `ms`. */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Parts a caller may supply instead of the embedded defaults (tests, benches, scale-out). */
export interface AppOverrides {
  store?: SceneStore & AccessStore;
  blobs?: BlobStore;
  bus?: EventBus;
  leases?: LeaseBoard;
  engine?: InferenceEngine;
  clock?: Clock;
  log?: Logger;
  /** Serves every request outside the API's routes (the web app in `npm start`). */
  httpFallback?: HttpFallback;
}

/** A composed server: start it on a port, stop it to drain and close everything. */
export interface App {
  /** Listen; port 0 picks a free one. Resolves with the base URL. */
  start(options?: { port?: number; host?: string }): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
  readonly model: ModelSpec;
  readonly provider: string;
  readonly service: SceneService;
  readonly coordinator: RenderCoordinator;
  readonly scheduler: RenderScheduler;
  readonly store: SceneStore;
  readonly bus: EventBus;
  readonly httpServer: Server;
}

/**
 * Build the whole server from configuration: validate the models, start the inference workers,
 * open the store, and wire domain, GraphQL and transports. Nothing listens until `start`.
 */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? createLogger(config.log);
  const manifest = await loadManifest(config.modelsDir);
  const model = manifest.spec;
  mkdirSync(config.dataDir, { recursive: true });
  const closers: (() => Promise<void>)[] = [];
  const checks: Record<string, () => Promise<void>> = {};
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, { name: `${config.replicaId}-commands`, log }) : null;
  if (redis) {
    closers.push(async () => void redis.disconnect());
    checks['redis'] = async () => void (await redis.ping());
  }
  const engine = overrides.engine ?? (await openEngine(config, manifest, log, redis));
  const startedAt = new Date().toISOString();
  const store =
    overrides.store ??
    (config.databaseUrl ? await PostgresSceneStore.open(config.databaseUrl) : new SqliteSceneStore(join(config.dataDir, 'strata.db')));
  checks[config.databaseUrl ? 'postgres' : 'sqlite'] = async () => void (await store.lastSeq('00000000-0000-0000-0000-000000000000'));
  const blobs =
    overrides.blobs ??
    (config.blobStore === 'postgres' && config.databaseUrl
      ? await PostgresBlobStore.open(store instanceof PostgresSceneStore ? store.pool : config.databaseUrl)
      : new DiskBlobStore(config.blobDir));
  const onListenerError = (error: unknown) => log.error('event listener failed', { error: String(error) });
  const bus =
    overrides.bus ??
    (config.redisUrl ? await RedisEventBus.open(config.redisUrl, { onListenerError, log }) : new MemoryEventBus(onListenerError));
  const leases = overrides.leases ?? (redis ? new RedisLeaseBoard(redis) : new MemoryLeaseBoard());
  const metrics = new PrometheusMetrics({ replica: config.replicaId, role: config.role });
  const clock = overrides.clock ?? systemClock;
  const batching = config.batching !== 'off';
  const scheduler = new RenderScheduler(engine, { batching, maxBatch: config.maxBatch, maxWaitMs: config.maxWaitMs }, metrics);
  const painter = new Painter(model, scheduler, blobs);
  let openStreams = 0;
  metrics.gauges({
    strata_queue_depth: { help: 'Steps waiting in the scheduler.', read: () => scheduler.stats().queueDepth },
    strata_in_flight_batches: { help: 'Inference batches running.', read: () => scheduler.stats().inFlight },
    strata_inference_workers: { help: 'Inference workers this process dispatches to.', read: () => engine.workers },
    strata_open_streams: { help: 'Open sceneEvents subscriptions on this process.', read: () => openStreams },
    strata_rendering_scenes: { help: 'Scenes this process is rendering.', read: () => coordinator.active },
  });
  const coordinator = new RenderCoordinator({
    model,
    store,
    blobs,
    bus,
    painter,
    clock,
    log,
    leases,
    metrics,
    leaseMs: config.renderLeaseMs,
  });
  const service = new SceneService({ model, limits: config.limits, store, access: store, blobs, bus, coordinator, clock });
  const presence: PresenceBoard = config.redisUrl
    ? await RedisPresenceBoard.open(config.redisUrl, { throttleMs: config.presenceThrottleMs, log })
    : new PresenceHub(config.presenceThrottleMs);
  // Limits hold across replicas on Redis; the client fails fast, and each limit falls back to this process while Redis is down.
  const limitsClient = config.redisUrl
    ? await connectRedis(config.redisUrl, { name: `${config.replicaId}-limits`, failFast: true, log })
    : null;
  const streamSlots = limitsClient
    ? new RedisSlotLimit(limitsClient, config.rateLimits.subscriptions, { log })
    : new ConcurrencyLimiter(config.rateLimits.subscriptions);
  if (limitsClient) {
    closers.push(async () => {
      await (streamSlots as RedisSlotLimit).close();
      limitsClient.disconnect();
    });
  }
  const sharing = new SharingService({ scenes: service, access: store, presence, clock });
  const secret = loadSecret(config.secret, join(config.dataDir, 'secret.key'));
  const auth = new Authenticator(secret, store, undefined, { sessionTtlSeconds: config.sessionTtlSeconds });
  const urls = new UrlSigner(secret, config.frameUrlTtlSeconds);
  const guests = limitsClient
    ? new RedisRateLimit(limitsClient, config.rateLimits.guests, 'guests')
    : new RateLimiter(config.rateLimits.guests);
  const apiDeps: ApiDeps = {
    model,
    limits: config.limits,
    store,
    access: store,
    blobs,
    bus,
    service,
    sharing,
    presence,
    auth,
    urls,
    coordinator,
    scheduler,
    rateLimits: {
      mutations: limitsClient
        ? new RedisRateLimit(limitsClient, config.rateLimits.mutations, 'mutations')
        : new RateLimiter(config.rateLimits.mutations),
      presence: limitsClient
        ? new RedisRateLimit(limitsClient, config.rateLimits.presence, 'presence')
        : new RateLimiter(config.rateLimits.presence),
      guests,
      subscriptions: countOpen(streamSlots, (delta) => (openStreams += delta)),
    },
    runtime: {
      provider: () => engine.provider,
      workers: () => engine.workers,
      list: async () =>
        engine.listWorkers
          ? engine.listWorkers()
          : [
              {
                id: config.replicaId,
                host: hostname(),
                provider: engine.provider,
                modelVersion: model.version,
                threads: engine.workers,
                startedAt,
                seenAt: startedAt,
              },
            ],
      startedAt: performance.now(),
    },
  };
  const contextFor = (caller: Caller): ApiContext => ({ api: createSceneApi(apiDeps, caller) });
  // Who is calling: the client's real address behind trusted proxies, cookies only from our own pages.
  const client = clientInfo(config.trustProxy);
  const callers = createCallers(auth, {
    client,
    allowedOrigins: config.allowedOrigins,
    guests,
    cookieMaxAge: config.sessionTtlSeconds,
    onForeignCookie: (origin, address) => log.info('websocket cookie ignored: foreign origin', { origin: origin ?? null, address }),
  });

  const schema = buildContractSchema();
  const logError = (message: string, data: Record<string, unknown>) => log.error(message, data);
  const httpServer = createServer();
  // The query limits and the introspection setting, one for both transports (PROTOCOL.md, "Limits").
  const guard = new OperationGuard({
    schema,
    limits: config.queryLimits,
    introspection: config.introspection,
    sceneLimits: config.limits,
    model,
    log: (message, data) => log.info(message, data),
  });
  const apollo = new ApolloServer<ApiContext>({
    schema,
    // Explicit: Apollo's default follows NODE_ENV, which Next sets to production under `npm start`.
    introspection: guard.introspection,
    validationRules: guard.rules,
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    stringifyResult: (result) => guard.stringifyResult(result),
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => {
      const mapped = guard.apolloError(formatted, error);
      return formatError(mapped.formatted, mapped.error, logError);
    },
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), guard.apolloPlugin<ApiContext>()],
  });
  await apollo.start();
  const http = createHttpApp({
    apollo,
    context: async (req, res) => contextFor(await callers.http(req, res)),
    ensureSession: (req, res) => callers.ensureSession(req, res),
    blobs,
    urls,
    trustProxy: client.setting,
    shapeResolution: model.shapeResolution,
    health: async () => ({
      ok: true,
      role: config.role,
      replica: config.replicaId,
      modelVersion: model.version,
      provider: engine.provider,
      workers: engine.workers,
      ...scheduler.stats(),
    }),
    ready: async () => {
      const dependencies: Record<string, string> = {};
      await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          dependencies[name] = await withDeadline(check(), 2000).then(
            () => 'up',
            (error: unknown) => `down: ${error instanceof Error ? error.message : String(error)}`,
          );
        }),
      );
      dependencies['inference'] = engine.workers > 0 ? `up: ${engine.workers} worker(s), ${engine.provider}` : 'down: no inference worker';
      return { ok: Object.values(dependencies).every((d) => d.startsWith('up')), dependencies };
    },
    metrics: () => metrics.render(),
    fallback: overrides.httpFallback,
  });
  httpServer.on('request', http);
  const ws = createWsServer({
    server: httpServer,
    schema,
    guard,
    onConnect: (params, request) => callers.accept(params, request),
    context: async (params, request) => contextFor(await callers.ws(params, request)),
    log: logError,
    info: (message, data) => log.info(message, data),
  });

  let stopped = false;
  return {
    model,
    provider: engine.provider,
    service,
    coordinator,
    scheduler,
    store,
    bus,
    httpServer,
    async start(options = {}) {
      const port = options.port ?? config.port;
      const host = options.host ?? config.host;
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      // Renders interrupted by a crash (of this process before a restart, or of another replica) resume.
      coordinator.startResuming(config.resumeIntervalMs);
      const address = httpServer.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return { url: `http://${shownHost}:${address.port}`, port: address.port };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await ws.close();
      await apollo.stop();
      if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      coordinator.close();
      await presence.close();
      scheduler.close();
      await engine.close();
      await blobs.close();
      await bus.close();
      await store.close();
      for (const close of closers.reverse()) await close();
    },
  };
}
