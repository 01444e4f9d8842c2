import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_LIMITS, type Limits } from './domain/scenes/limits.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './graphql/limits.js';
import { PROVIDER_CHOICES, type ProviderChoice } from './infrastructure/onnx/sessions.js';
import type { BucketRule } from './domain/identity/rate-limit.js';

/** The repository root (this file is at apps/server/{src,dist}/config.*). */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Which parts of strata a process runs. */
export type Role = 'all' | 'api' | 'worker';

/** Everything the server can be configured with; parsed once from the environment. */
export interface Config {
  /**
   * `STRATA_ROLE`: `all` runs the API and inference in one process (the embedded default); `api`
   * sends inference to worker processes through the Redis queue (needs `STRATA_REDIS_URL`);
   * `worker` is an inference worker (`apps/worker`). @default 'all'
   */
  role: Role;
  /** `STRATA_DATABASE_URL`: PostgreSQL (`postgres://...`) instead of the embedded SQLite file. @default null */
  databaseUrl: string | null;
  /** `STRATA_REDIS_URL`: Redis (`redis://...`) for fan-out across replicas, presence, limits, leases and the job queue. @default null */
  redisUrl: string | null;
  /** `STRATA_BLOB_STORE`: `disk` (a directory, shared by every process in a cluster) or `postgres`. @default 'postgres' with a database URL, else 'disk' */
  blobStore: 'disk' | 'postgres';
  /** `STRATA_BLOB_DIR`: the directory of the disk blob store. @default '<dataDir>/blobs' */
  blobDir: string;
  /** `STRATA_REPLICA_ID`: this process's name in a cluster (metrics, worker replies, leases). @default '<hostname>-<pid>' */
  replicaId: string;
  /** The inference queue between API replicas and worker processes (Redis Streams). */
  queue: {
    /** `STRATA_QUEUE_PREFIX`: Redis key prefix. @default 'strata' */
    prefix: string;
    /** `STRATA_WORKER_ID`: a worker's name. @default '<host>-<pid>-<random>' */
    workerId: string | undefined;
    /** `STRATA_WORKER_MAX_BATCH`: most batch items a worker merges into one session run. @default 64 */
    mergeBatch: number;
    /** `STRATA_HEARTBEAT_MS`: a worker's heartbeat; one silent for three is gone. @default 1000 */
    heartbeatMs: number;
    /** `STRATA_CLAIM_TIMEOUT_MS`: a job left this long by a worker that stopped is taken over. @default 10000 */
    claimTimeoutMs: number;
    /** `STRATA_DRAIN_MS`: on SIGTERM, how long a worker's running batches may finish before they are handed back. @default 10000 */
    drainMs: number;
  };
  /** `STRATA_RENDER_LEASE_MS`: a scene's render lease; another replica takes over an interrupted render after it expires. @default 15000 */
  renderLeaseMs: number;
  /** `STRATA_RESUME_INTERVAL_MS`: how often interrupted renders are looked for (and once at start). @default 5000 */
  resumeIntervalMs: number;
  /** `PORT` @default 4000 */
  port: number;
  /** `HOST` @default '127.0.0.1' */
  host: string;
  /** `STRATA_DATA_DIR`: the embedded database and PNG blobs. @default '<repo>/data' */
  dataDir: string;
  /** `STRATA_MODELS_DIR`: where manifest.json and the ONNX files are. @default '<repo>/models' */
  modelsDir: string;
  /** `STRATA_EXECUTION_PROVIDER`: `cpu`, `webgpu`, `cuda`, or `auto` (the first of cuda, webgpu, cpu that loads; the log says why the others did not). @default 'auto' */
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
  /**
   * `STRATA_MAX_DEPTH`, `STRATA_MAX_COST`, `STRATA_MAX_DOCUMENT_BYTES`, `STRATA_MAX_TOKENS`,
   * `STRATA_MAX_ALIASES`, `STRATA_MAX_REPEATED_FIELDS`, `STRATA_MAX_RESPONSE_BYTES`: the query limits of both transports
   * (PROTOCOL.md, "Limits").
   */
  queryLimits: QueryLimits;
  /**
   * `STRATA_INTROSPECTION`: `on` answers `__schema`/`__type` on HTTP and WebSocket alike (a public API
   * for third-party clients), `off` refuses them on both. Never derived from NODE_ENV. @default 'on'
   */
  introspection: boolean;
  /** `STRATA_SECRET`: signs session tokens. @default a random key kept in `<dataDir>/secret.key` */
  secret: string | null;
  /** Pointer and selection updates reach others at most this often, ms. @default 50 */
  presenceThrottleMs: number;
  /**
   * `STRATA_RATE_MUTATIONS` (per second, burst twice that), `STRATA_MAX_SUBSCRIPTIONS` (open streams per
   * user, or per client address for anonymous viewers), `STRATA_RATE_GUESTS` (new guest identities per
   * client address per minute, burst the same).
   */
  rateLimits: { mutations: BucketRule; presence: BucketRule; guests: BucketRule; subscriptions: number };
  /**
   * `STRATA_TRUST_PROXY`: which proxies' `X-Forwarded-For/-Proto/-Host` are believed (client address for
   * limits, HTTPS for `Secure` cookies, the host for the WebSocket origin check): `off` (none), `on`
   * (every hop), a number of hops, or a comma list of addresses/CIDRs (`loopback`, `uniquelocal` too),
   * exactly Express's `trust proxy`. @default 'off'
   */
  trustProxy: boolean | number | string[];
  /**
   * `STRATA_ALLOWED_ORIGINS`: comma list of origins (`https://app.example.com`) besides the server's own
   * whose WebSocket connections may be authenticated by the session cookie. @default []
   */
  allowedOrigins: string[];
  /** `STRATA_SESSION_TTL_S`: lifetime of a guest session (cookie and token), renewed on use. @default 2592000 (30 days) */
  sessionTtlSeconds: number;
  /** `STRATA_FRAME_URL_TTL_S`: how long a signed frame URL of a non-public scene stays valid. @default 86400 */
  frameUrlTtlSeconds: number;
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

function url(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols[0]}//...), got ${JSON.stringify(raw.replace(/\/\/[^@/]*@/, '//***@'))}`);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return raw;
}

function queueSettings(env: NodeJS.ProcessEnv): Config['queue'] {
  const heartbeatMs = int(env, 'STRATA_HEARTBEAT_MS', 1000, 50, 60_000);
  const claimTimeoutMs = int(env, 'STRATA_CLAIM_TIMEOUT_MS', 10_000, 100, 3_600_000);
  if (claimTimeoutMs < 2 * heartbeatMs) {
    throw new ConfigError(
      `STRATA_CLAIM_TIMEOUT_MS (${claimTimeoutMs}) must be at least twice STRATA_HEARTBEAT_MS (${heartbeatMs}), or live workers' jobs get taken over`,
    );
  }
  return {
    prefix: env['STRATA_QUEUE_PREFIX'] || 'strata',
    workerId: env['STRATA_WORKER_ID'] || undefined,
    mergeBatch: int(env, 'STRATA_WORKER_MAX_BATCH', 64, 1, 4096),
    heartbeatMs,
    claimTimeoutMs,
    drainMs: int(env, 'STRATA_DRAIN_MS', 10_000, 0, 600_000),
  };
}

/** Parse and validate the configuration; throws a readable error naming the variable at fault. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env['STRATA_DATA_DIR'] || resolve(REPO_ROOT, 'data'));
  const databaseUrl = url(env, 'STRATA_DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = url(env, 'STRATA_REDIS_URL', ['redis:', 'rediss:']);
  const role = oneOf(env, 'STRATA_ROLE', ['all', 'api', 'worker'] as const, 'all');
  if (role !== 'all' && !redisUrl)
    throw new ConfigError(`STRATA_ROLE=${role} needs STRATA_REDIS_URL (the job queue between API and workers)`);
  const blobStore = oneOf(env, 'STRATA_BLOB_STORE', ['disk', 'postgres'] as const, databaseUrl ? 'postgres' : 'disk');
  if (blobStore === 'postgres' && !databaseUrl) throw new ConfigError('STRATA_BLOB_STORE=postgres needs STRATA_DATABASE_URL');
  return {
    role,
    databaseUrl,
    redisUrl,
    blobStore,
    blobDir: resolve(env['STRATA_BLOB_DIR'] || join(dataDir, 'blobs')),
    replicaId: env['STRATA_REPLICA_ID'] || `${hostname()}-${process.pid}`,
    queue: queueSettings(env),
    renderLeaseMs: int(env, 'STRATA_RENDER_LEASE_MS', 15_000, 300, 600_000),
    resumeIntervalMs: int(env, 'STRATA_RESUME_INTERVAL_MS', 5_000, 100, 600_000),
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env['HOST'] || '127.0.0.1',
    dataDir,
    modelsDir: resolve(env['STRATA_MODELS_DIR'] || resolve(REPO_ROOT, 'models')),
    provider: oneOf(env, 'STRATA_EXECUTION_PROVIDER', PROVIDER_CHOICES, 'auto'),
    workers: int(env, 'STRATA_WORKERS', 2, 1, 64),
    threadsPerWorker: int(env, 'STRATA_THREADS_PER_WORKER', 1, 1, 64),
    batching: oneOf(env, 'STRATA_BATCHING', ['on', 'off', 'auto'] as const, 'auto'),
    maxBatch: int(env, 'STRATA_MAX_BATCH', 8, 1, 256),
    maxWaitMs: int(env, 'STRATA_MAX_WAIT_MS', 2, 0, 1000),
    log: oneOf(env, 'STRATA_LOG', ['info', 'error', 'silent'] as const, 'info'),
    limits: { ...DEFAULT_LIMITS, maxLayers: int(env, 'STRATA_MAX_LAYERS', DEFAULT_LIMITS.maxLayers, 1, 1000) },
    queryLimits: {
      maxDepth: int(env, 'STRATA_MAX_DEPTH', DEFAULT_QUERY_LIMITS.maxDepth, 1, 1000),
      maxCost: int(env, 'STRATA_MAX_COST', DEFAULT_QUERY_LIMITS.maxCost, 1, 1_000_000_000),
      maxDocumentBytes: int(env, 'STRATA_MAX_DOCUMENT_BYTES', DEFAULT_QUERY_LIMITS.maxDocumentBytes, 256, 64 * 1024 * 1024),
      maxTokens: int(env, 'STRATA_MAX_TOKENS', DEFAULT_QUERY_LIMITS.maxTokens, 10, 10_000_000),
      maxAliases: int(env, 'STRATA_MAX_ALIASES', DEFAULT_QUERY_LIMITS.maxAliases, 0, 10_000_000),
      maxRepeatedFields: int(env, 'STRATA_MAX_REPEATED_FIELDS', DEFAULT_QUERY_LIMITS.maxRepeatedFields, 1, 10_000_000),
      maxResponseBytes: int(env, 'STRATA_MAX_RESPONSE_BYTES', DEFAULT_QUERY_LIMITS.maxResponseBytes, 1024, 1024 * 1024 * 1024),
    },
    introspection: oneOf(env, 'STRATA_INTROSPECTION', ['on', 'off'] as const, 'on') === 'on',
    secret: env['STRATA_SECRET'] || null,
    presenceThrottleMs: 50,
    rateLimits: {
      mutations: { rate: int(env, 'STRATA_RATE_MUTATIONS', 20, 1, 100_000), burst: 2 * int(env, 'STRATA_RATE_MUTATIONS', 20, 1, 100_000) },
      presence: { rate: 30, burst: 60 },
      guests: { rate: int(env, 'STRATA_RATE_GUESTS', 30, 1, 1_000_000) / 60, burst: int(env, 'STRATA_RATE_GUESTS', 30, 1, 1_000_000) },
      subscriptions: int(env, 'STRATA_MAX_SUBSCRIPTIONS', 20, 1, 10_000),
    },
    trustProxy: trustProxy(env['STRATA_TRUST_PROXY']),
    allowedOrigins: origins(env['STRATA_ALLOWED_ORIGINS']),
    sessionTtlSeconds: int(env, 'STRATA_SESSION_TTL_S', 30 * 86_400, 60, 10 * 365 * 86_400),
    frameUrlTtlSeconds: int(env, 'STRATA_FRAME_URL_TTL_S', 86_400, 60, 365 * 86_400),
  };
}

/** `STRATA_TRUST_PROXY` as Express's `trust proxy` value. */
function trustProxy(raw: string | undefined): boolean | number | string[] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'off' || value === 'false') return false;
  if (value === 'on' || value === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 100)
      throw new ConfigError(`STRATA_TRUST_PROXY must be on, off, a number of hops (0-100) or addresses, got ${JSON.stringify(raw)}`);
    return hops;
  }
  const list = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const named = new Set(['loopback', 'linklocal', 'uniquelocal']);
  for (const item of list) {
    if (!named.has(item) && !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(item))
      throw new ConfigError(`STRATA_TRUST_PROXY: ${JSON.stringify(item)} is not an address, a CIDR or loopback/linklocal/uniquelocal`);
  }
  return list;
}

/** `STRATA_ALLOWED_ORIGINS`: each an origin (scheme://host[:port]), normalised as browsers send it. */
function origins(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => {
      let parsed: URL;
      try {
        parsed = new URL(v);
      } catch {
        throw new ConfigError(`STRATA_ALLOWED_ORIGINS: ${JSON.stringify(v)} is not an origin (https://host[:port])`);
      }
      if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== v.replace(/\/+$/, ''))
        throw new ConfigError(`STRATA_ALLOWED_ORIGINS: ${JSON.stringify(v)} is not an origin (https://host[:port], no path)`);
      return parsed.origin;
    });
}
