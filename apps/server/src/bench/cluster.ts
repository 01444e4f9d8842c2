/**
 * `npm run bench:cluster`: the cluster (PostgreSQL, Redis, 2 API replicas, inference worker
 * processes, nginx; scripts/cluster.mjs) beside the embedded server (`node dist/main.js`, SQLite,
 * worker threads), in one run, every client in a process of its own:
 *
 *   (a) steps/s of N scenes x K objects submitted at once: embedded (2 and 1 inference threads),
 *       cluster with 2 worker processes, then with 1 (worker-2 stopped);
 *   (b) one scene's first mutation to last frame, cluster over embedded (median; first scene apart);
 *   (c) the queue's added latency per step: (XADD to reply) minus the session run, per job, from a
 *       QueueInferenceEngine in this process against the cluster's workers; beside it the same
 *       figure for the embedded worker-thread pool;
 *   (d) fan-out: W watchers of one scene split over both replicas: per-frame spread from the first
 *       to the last receipt, and events lost or duplicated.
 *
 * Prints tables with the targets beside the figures (and writes bench-results/cluster.json). Never
 * asserts. Counts come from the environment (STRATA_BENCH_*, see `knobs`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort, startCluster, type Cluster } from '../../../../scripts/cluster.mjs';
import { loadConfig } from '../config.js';
import type { InferenceEngine, InferenceRequest } from '../domain/ports.js';
import { loadManifest, type LoadedManifest } from '../infrastructure/onnx/manifest.js';
import { WorkerPoolEngine } from '../infrastructure/onnx/worker-pool.js';
import { QueueInferenceEngine } from '../infrastructure/redis/queue-engine.js';
import { QueueWorker } from '../infrastructure/redis/queue-worker.js';
import { benchFeeds, table } from './feeds.js';

const execFileAsync = promisify(execFile);
const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
};
/** Every count of the run; the defaults keep the whole bench at a few minutes on 2 cores. */
const knobs = {
  /** (a) scenes submitted at once, objects per scene, rounds per configuration (median). */
  scenes: num('STRATA_BENCH_SCENES', 32),
  objects: num('STRATA_BENCH_OBJECTS', 4),
  rounds: num('STRATA_BENCH_ROUNDS', 3),
  /** (a) inference threads of the embedded server, comma-separated ('' skips the embedded throughput). */
  embeddedThreads: (process.env['STRATA_BENCH_EMBEDDED_THREADS'] ?? '2,1')
    .split(',')
    .filter(Boolean)
    .map((t) => Number(t)),
  /** (b) scenes built one after another (the first is the warm-up, reported apart). */
  latencyRuns: num('STRATA_BENCH_LATENCY_RUNS', 6),
  /** (c) jobs per model, one at a time. */
  queueJobs: num('STRATA_BENCH_QUEUE_JOBS', 100),
  /** (d) watchers, the processes they are split over, objects added while they watch; fan-out on the embedded server too (1/0). */
  watchers: num('STRATA_BENCH_WATCHERS', 500),
  watcherProcesses: Math.max(1, num('STRATA_BENCH_WATCHER_PROCESSES', 2)),
  fanoutObjects: num('STRATA_BENCH_FANOUT_OBJECTS', 8),
  fanoutEmbedded: num('STRATA_BENCH_FANOUT_EMBEDDED', 1) > 0,
  /** (b) diagnostic: the cluster's latency series again with PostgreSQL's synchronous_commit off (1/0). */
  pgDiagnostic: num('STRATA_BENCH_PG_DIAGNOSTIC', 1) > 0,
};

const TARGETS = { latencyRatio: 1.25, queueP50Ms: 2, fanoutP99Ms: 50 };
/** The same settings for both configurations: CPU, limits out of the way of the load. */
const SERVER_ENV = {
  STRATA_EXECUTION_PROVIDER: 'cpu',
  STRATA_LOG: 'error',
  STRATA_RATE_MUTATIONS: '100000',
  STRATA_MAX_SUBSCRIPTIONS: '10000',
};
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const results: Record<string, unknown> = { knobs, targets: TARGETS };

// ---------------------------------------------------------------- printing and statistics

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
/** Nearest-rank percentile (p in 0..100); NaN for no samples. */
const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const median = (xs: number[]) => pct(xs, 50);
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

// ---------------------------------------------------------------- servers and clients

interface Target {
  name: string;
  /** Where clients send mutations (nginx for the cluster). */
  url: string;
  /** Where watchers connect (both replicas for the cluster). */
  watchUrls: string[];
  token: string;
}

async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const session = async (url: string) =>
  (await gql(url, null, 'mutation { startSession(displayName: "bench") { token } }')).startSession.token as string;

async function until(check: () => Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The embedded server as `npm start` runs it, minus the web app: one process, SQLite, worker threads. */
async function startEmbedded(threads: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-embedded-'));
  const port = await freePort();
  const env = {
    ...process.env,
    ...SERVER_ENV,
    STRATA_ROLE: 'all',
    STRATA_DATABASE_URL: '',
    STRATA_REDIS_URL: '',
    STRATA_WORKERS: String(threads),
    STRATA_DATA_DIR: dir,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const child = spawn(process.execPath, [here('../main.js')], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the embedded server exited (${code ?? 'signal'})`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([until(async () => (await fetch(`${url}/health/ready`)).ok, 'the embedded server'), exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${stderr}`);
  }
  return {
    url,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function runClient<T>(script: string, args: (string | number)[], timeoutMs = 300_000): Promise<T> {
  const { stdout } = await execFileAsync(process.execPath, [here(script), ...args.map(String)], {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as T;
}

// ---------------------------------------------------------------- (a) throughput

interface LoadResult {
  ms: number;
  steps: number;
  rendered: number;
  cached: number;
}

let seedBase = 1000;
/** N scenes at once from a client process; a 2-scene warm-up first (cold sessions, first runs). Median of the rounds. */
async function throughput(target: Target): Promise<{ stepsPerSecond: number; runs: LoadResult[] }> {
  await runClient<LoadResult>('./load-client.js', [target.url, target.token, 2, knobs.objects, (seedBase += 1000)]);
  const runs: LoadResult[] = [];
  for (let r = 0; r < Math.max(1, knobs.rounds); r++) {
    runs.push(await runClient<LoadResult>('./load-client.js', [target.url, target.token, knobs.scenes, knobs.objects, (seedBase += 1000)]));
  }
  const rates = runs.map((r) => r.steps / (r.ms / 1000));
  log(`${target.name}: ${rates.map((r) => r.toFixed(1)).join(', ')} steps/s`);
  return { stepsPerSecond: median(rates), runs };
}

// ---------------------------------------------------------------- (b) one scene's latency

interface Latency {
  first: number;
  median: number;
  runs: number[];
  /** Median of the mutations' round trips, and of the last answer to the last frame (runs after the first). */
  mutation: number;
  tail: number;
}

/** latency-client.js (the scene of scene-client.js): a background + 8 objects, one mutation at a time, first mutation to last frame. */
async function latency(target: Target, seedOffset = 0): Promise<Latency> {
  const all = await runClient<{ total: number; mutations: number[]; tail: number }[]>('./latency-client.js', [
    target.url,
    target.token,
    Math.max(2, knobs.latencyRuns),
    seedOffset,
  ]);
  const runs = all.map((r) => r.total);
  log(`${target.name}: scene latency ${runs.map((r) => r.toFixed(0)).join(', ')} ms`);
  const rest = all.slice(1);
  return {
    first: runs[0]!,
    median: median(runs.slice(1)),
    runs,
    mutation: median(rest.flatMap((r) => r.mutations)),
    tail: median(rest.map((r) => r.tail)),
  };
}

/** Diagnostic only: PostgreSQL's commits without waiting for the WAL flush (ALTER SYSTEM on the bench's own cluster). */
async function synchronousCommit(databaseUrl: string, on: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(on ? 'ALTER SYSTEM RESET synchronous_commit' : 'ALTER SYSTEM SET synchronous_commit = off');
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- (c) the queue's added latency

interface Overheads {
  byModel: Record<string, { overhead: number[]; run: number[] }>;
  all: number[];
}

/** One job at a time per model (batch 1, no PNG encoding): wall time of `run` minus the session run it reports. */
async function overheads(engine: InferenceEngine, m: LoadedManifest, jobs: number): Promise<Overheads> {
  const out: Overheads = { byModel: {}, all: [] };
  for (const model of ['background', 'shape', 'foreground'] as const) {
    const request: InferenceRequest = { model, feeds: benchFeeds(m, model, 1), encode: false };
    for (let i = 0; i < 5; i++) await engine.run(request);
    const entry = (out.byModel[model] = { overhead: [] as number[], run: [] as number[] });
    for (let i = 0; i < jobs; i++) {
      const started = performance.now();
      const result = await engine.run(request);
      const wall = performance.now() - started;
      entry.overhead.push(wall - result.runMs);
      entry.run.push(result.runMs);
      out.all.push(wall - result.runMs);
    }
  }
  return out;
}

/** Answers at once with zeros of the output shapes: what is left of a job's time is the queue's own. */
function instantEngine(m: LoadedManifest): InferenceEngine {
  const R = m.spec.resolution;
  const S = m.spec.shapeResolution;
  return {
    provider: 'none',
    workers: 1,
    close: async () => {},
    run: async (request) => {
      const n = Object.values(request.feeds)[0]?.dims[0] ?? 1;
      const dims = request.model === 'shape' ? [n, 1, S, S] : [n, 3, R, R];
      return { outputs: { image: { data: new Float32Array(dims.reduce((a, b) => a * b, 1)), dims } }, images: [], runMs: 0 };
    },
  };
}

interface QueueFigures {
  /** Through the cluster's worker processes. */
  queue: Overheads;
  /** The embedded path: a worker-thread pool in this process. */
  embedded: Overheads;
  /** The queue's code and Redis alone: a QueueWorker in this process with an engine that answers at once (own key prefix). */
  transport: Overheads;
}

async function queueLatency(cluster: Cluster, m: LoadedManifest, workers: number): Promise<QueueFigures> {
  const redis = new Redis(cluster.redisUrl, { lazyConnect: true });
  await redis.connect();
  const replicaId = `bench-${process.pid}`;
  try {
    const queue = await QueueInferenceEngine.start({ redis, modelVersion: m.spec.version, replicaId });
    let viaQueue: Overheads;
    try {
      await queue.waitForWorkers(workers);
      viaQueue = await overheads(queue, m, knobs.queueJobs);
    } finally {
      await queue.close();
    }
    const prefix = 'strata-bench';
    const worker = await QueueWorker.start({ redis, engine: instantEngine(m), modelVersion: m.spec.version, prefix });
    const floor = await QueueInferenceEngine.start({ redis, modelVersion: m.spec.version, replicaId, prefix });
    let transport: Overheads;
    try {
      await floor.waitForWorkers(1);
      transport = await overheads(floor, m, knobs.queueJobs);
    } finally {
      await floor.close();
      await worker.stop({ drainMs: 0 });
    }
    const pool = await WorkerPoolEngine.start({ files: m.files, tensors: m.tensors, provider: 'cpu', threads: 1 }, 1);
    try {
      return { queue: viaQueue, transport, embedded: await overheads(pool, m, knobs.queueJobs) };
    } finally {
      await pool.close();
    }
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------- (d) fan-out

const ADD =
  'mutation($s: ID!, $c: String!, $x: Float!, $seed: Int!) { addObject(sceneId: $s, input: { category: $c, box: { x: $x, y: 0.55, w: 0.22, h: 0.35 }, appearanceSeed: $seed, shape: { kind: GENERATED, seed: $seed } }) { revision } }';
const CATS = ['tree', 'pine', 'house', 'horse', 'rock', 'bush', 'tree', 'pine'];

interface FanoutResult {
  watchers: number;
  processes: number;
  frames: number;
  events: number;
  frameSpread: { p50: number; p99: number; max: number };
  eventSpread: { p50: number; p99: number };
  /** SceneChanged (an edit): each stream re-checks access on it, reading the scene from the store. */
  changeSpread: { p50: number; p99: number };
  lost: number;
  duplicated: number;
  failed: number;
  /** The distinct errors of failed streams (at most 3). */
  errors: string[];
  timedOut: boolean;
}

type Receipt = [number, string, number, number, number];

async function fanout(target: Target, count: number): Promise<FanoutResult> {
  const seed = (seedBase += 1000);
  const id = (
    await gql(target.url, target.token, 'mutation($seed: Int!) { createScene(input: { title: "fan-out", seed: $seed }) { id } }', { seed })
  ).createScene.id as string;
  const state = async () =>
    (await gql(target.url, target.token, 'query($s: ID!) { scene(id: $s) { revision lastSeq renderState } }', { s: id })).scene as {
      revision: number;
      lastSeq: number;
      renderState: string;
    };
  await until(async () => (await state()).renderState === 'DONE', 'the fan-out scene render');
  const before = await state();
  const finalRevision = before.revision + knobs.fanoutObjects;
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-fanout-'));
  const processes = Math.min(knobs.watcherProcesses, count);
  const clients = Array.from({ length: processes }, (_, i) => {
    const n = Math.floor(count / processes) + (i < count % processes ? 1 : 0);
    const out = join(dir, `watchers-${i}.json`);
    const url = target.watchUrls[i % target.watchUrls.length]!;
    const child = spawn(
      process.execPath,
      [here('./fanout-client.js'), url, target.token, id, String(n), String(before.lastSeq), String(finalRevision), out, '180000'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! });
    const seen = (word: string) => {
      const promise = new Promise<void>((resolve, reject) => {
        lines.on('line', (line) => line === word && resolve());
        child.once('exit', (code) => reject(new Error(`a watcher process exited (${code}) before "${word}"`)));
      });
      promise.catch(() => undefined); // awaited below; this only keeps an early exit from being unhandled
      return promise;
    };
    return { child, out, ready: seen('ready'), done: seen('done') };
  });
  try {
    await Promise.all(clients.map((c) => c.ready));
    log(`${target.name}: ${count} watchers caught up; adding ${knobs.fanoutObjects} objects`);
    for (let i = 0; i < knobs.fanoutObjects; i++) {
      await gql(target.url, target.token, ADD, { s: id, c: CATS[i % CATS.length], x: 0.02 + (i % 8) * 0.09, seed: seed + i });
    }
    await Promise.all(clients.map((c) => c.done));
    const after = await state();
    let timedOut = false;
    const watchers: { receipts: Receipt[]; error: string | null }[] = [];
    for (const c of clients) {
      const file = JSON.parse(readFileSync(c.out, 'utf8')) as {
        timedOut: boolean;
        watchers: { receipts: Receipt[]; error: string | null }[];
      };
      timedOut ||= file.timedOut;
      watchers.push(...file.watchers);
    }
    let lost = 0;
    let duplicated = 0;
    let failed = 0;
    const errors = new Set<string>();
    const bySeq = new Map<number, { kind: string; times: number[] }>();
    for (const w of watchers) {
      if (w.error) {
        failed++;
        if (errors.size < 3) errors.add(w.error.slice(0, 300));
      }
      const seen = new Set<number>();
      for (const [seq, kind, , , t] of w.receipts) {
        if (seen.has(seq)) duplicated++;
        seen.add(seq);
        if (seq > before.lastSeq) {
          const entry = bySeq.get(seq) ?? { kind, times: [] };
          entry.times.push(t);
          bySeq.set(seq, entry);
        }
      }
      for (let s = 1; s <= after.lastSeq; s++) if (!seen.has(s)) lost++;
    }
    const spread = (kinds: string[]) =>
      [...bySeq.values()].filter((e) => kinds.includes(e.kind)).map((e) => Math.max(...e.times) - Math.min(...e.times));
    const frames = spread(['F']);
    const events = spread(['F', 'C', 'S']);
    const changes = spread(['S']);
    return {
      watchers: count,
      processes,
      frames: frames.length,
      events: events.length,
      frameSpread: { p50: median(frames), p99: pct(frames, 99), max: Math.max(...frames) },
      eventSpread: { p50: median(events), p99: pct(events, 99) },
      changeSpread: { p50: median(changes), p99: pct(changes, 99) },
      lost,
      duplicated,
      failed,
      errors: [...errors],
      timedOut,
    };
  } finally {
    await Promise.all(clients.map((c) => stopChild(c.child)));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the workers' own figures

/** Sum of a metric's samples whose labels contain `match`. */
function sample(text: string, name: string, match = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (match && !line.includes(match)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

const COUNTERS = [
  'strata_inference_runs_total',
  'strata_batch_size_sum',
  'strata_batch_size_count',
  'strata_inference_seconds_sum',
  'strata_queue_wait_seconds_count',
  'strata_queue_wait_seconds_sum',
  'strata_worker_jobs_taken_over',
] as const;
type Scrape = Record<(typeof COUNTERS)[number] | 'lagP99', number>;

async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = { lagP99: 1000 * sample(text, 'strata_process_nodejs_eventloop_lag_p99_seconds') } as Scrape;
  for (const name of COUNTERS) out[name] = sample(text, name);
  return out;
}

/** A table row from a scrape, or from the difference of two (the figures of the time between them). */
function workerRow(name: string, now: Scrape, before?: Scrape): (string | number)[] {
  const d = (k: (typeof COUNTERS)[number]) => now[k] - (before?.[k] ?? 0);
  const runs = d('strata_inference_runs_total');
  const waits = d('strata_queue_wait_seconds_count');
  return [
    name,
    runs,
    d('strata_batch_size_sum') / Math.max(1, d('strata_batch_size_count')),
    (1000 * d('strata_inference_seconds_sum')) / Math.max(1, runs),
    waits,
    (1000 * d('strata_queue_wait_seconds_sum')) / Math.max(1, waits),
    d('strata_worker_jobs_taken_over'),
    now.lagP99,
  ];
}

// ---------------------------------------------------------------- the run

async function main(): Promise<void> {
  const started = performance.now();
  const manifest = await loadManifest(loadConfig().modelsDir);
  console.log(
    `# strata cluster bench\n\nmodels ${manifest.spec.version}, ${manifest.spec.resolution}px, CPU, ${cpus().length} cores ` +
      `(load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at start), ${new Date().toISOString()}\n` +
      `counts: ${knobs.scenes} scenes x ${knobs.objects} objects x ${knobs.rounds} round(s); ${knobs.latencyRuns} latency scenes; ` +
      `${knobs.queueJobs} queue jobs per model; ${knobs.watchers} watchers in ${knobs.watcherProcesses} process(es), ${knobs.fanoutObjects} objects`,
  );

  // Embedded: one process per thread count.
  const embedded: Record<number, number> = {};
  let embeddedLatency: Latency | null = null;
  let embeddedFanout: FanoutResult | null = null;
  const threadsList = knobs.embeddedThreads.length ? knobs.embeddedThreads : [2];
  for (const [i, threads] of threadsList.entries()) {
    const server = await startEmbedded(threads);
    try {
      const target: Target = { name: `embedded ${threads}t`, url: server.url, watchUrls: [server.url], token: await session(server.url) };
      if (i === 0) embeddedLatency = await latency(target);
      if (knobs.embeddedThreads.length) embedded[threads] = (await throughput(target)).stepsPerSecond;
      if (i === 0 && knobs.fanoutEmbedded && knobs.watchers) embeddedFanout = await fanout(target, knobs.watchers);
    } finally {
      await server.stop();
    }
  }

  // The cluster: 2 workers, then 1.
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-cluster-'));
  log('starting the cluster');
  const cluster = await startCluster({ port: 0, dir, web: false, quiet: true, redisPersistence: false, workers: 2, env: SERVER_ENV });
  const clusterRate: Record<number, number> = {};
  let clusterLatency: Latency;
  let asyncCommitLatency: Latency | null = null;
  let queue: QueueFigures;
  let clusterFanout: FanoutResult | null = null;
  const workerRows: (string | number)[][] = [];
  try {
    const capacity = (n: number) =>
      until(async () => {
        for (const api of cluster.apis) if ((await gql(api.url, null, '{ runtime { workers } }')).runtime.workers !== n) return false;
        return true;
      }, `${n} inference worker(s) on every replica`);
    await Promise.all(cluster.workers.map((w) => until(async () => (await fetch(`${w.url}/health`)).ok, w.name)));
    await capacity(2);
    const target: Target = {
      name: 'cluster 2w',
      url: cluster.url,
      watchUrls: cluster.apis.map((a) => a.url),
      token: await session(cluster.url),
    };
    clusterLatency = await latency(target);
    if (knobs.pgDiagnostic) {
      await synchronousCommit(cluster.databaseUrl, false);
      asyncCommitLatency = await latency({ ...target, name: 'cluster 2w, synchronous_commit off' }, 100_000);
      await synchronousCommit(cluster.databaseUrl, true);
    }
    clusterRate[2] = (await throughput(target)).stepsPerSecond;
    queue = await queueLatency(cluster, manifest, 2);
    log(`queue: p50 ${median(queue.queue.all).toFixed(2)} ms`);
    if (knobs.watchers) clusterFanout = await fanout(target, knobs.watchers);
    const scrapes = await Promise.all(cluster.workers.map((w) => scrape(w.url)));
    cluster.workers.forEach((w, i) => workerRows.push(workerRow(`${w.name}, everything before`, scrapes[i]!)));
    await cluster.stopProcess('worker-2');
    await capacity(1);
    clusterRate[1] = (await throughput({ ...target, name: 'cluster 1w' })).stepsPerSecond;
    workerRows.push(workerRow('worker-1, the 1-worker round alone', await scrape(cluster.workers[0]!.url), scrapes[0]));
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // ---- tables
  const steps = knobs.objects + 1;
  table(
    `(a) Throughput: ${knobs.scenes} scenes x ${knobs.objects} objects submitted at once (importScene; ${steps} steps each), steps/s, median of ${Math.max(1, knobs.rounds)} round(s) after a 2-scene warm-up`,
    ['configuration', 'inference', 'steps/s', 'x embedded 2 threads'],
    [
      ...Object.entries(embedded)
        .sort(([a], [b]) => Number(b) - Number(a))
        .map(([t, r]) => ['embedded (SQLite, 1 process)', `${t} worker thread(s)`, r, r / (embedded[2] ?? r)]),
      [
        'cluster (nginx, 2 API replicas, PostgreSQL, Redis)',
        '2 worker processes x 1 thread',
        clusterRate[2]!,
        clusterRate[2]! / (embedded[2] ?? NaN),
      ],
      [
        'cluster (nginx, 2 API replicas, PostgreSQL, Redis)',
        '1 worker process x 1 thread',
        clusterRate[1]!,
        clusterRate[1]! / (embedded[2] ?? NaN),
      ],
    ],
  );
  console.log(
    `\nScaling, cluster 2 workers / 1 worker: ${(clusterRate[2]! / clusterRate[1]!).toFixed(2)}x` +
      (embedded[1] ? `; embedded 2 threads / 1 thread: ${((embedded[2] ?? NaN) / embedded[1]).toFixed(2)}x` : '') +
      ` (ideal 2.00x; on ${cpus().length} cores shared with every other process of the cluster and the clients, less).`,
  );

  const ratio = clusterLatency.median / embeddedLatency!.median;
  table(
    `(b) One scene (background + 8 objects, 9 mutations one at a time), first mutation to last frame on a subscriber in another process, ms (median of ${Math.max(2, knobs.latencyRuns) - 1} after the first)`,
    [
      'configuration',
      'first scene (warm-up)',
      'median',
      'x embedded',
      'mutation round trip p50',
      'last answer to last frame p50',
      'all runs',
    ],
    (
      [
        ['embedded', embeddedLatency!],
        ['cluster (through nginx)', clusterLatency],
        ...(asyncCommitLatency ? [['cluster, PostgreSQL synchronous_commit=off (diagnostic, not the target)', asyncCommitLatency]] : []),
      ] as [string, Latency][]
    ).map(([name, l]) => [
      name,
      l.first,
      l.median,
      l.median / embeddedLatency!.median,
      l.mutation,
      l.tail,
      l.runs.map((r) => r.toFixed(0)).join(' '),
    ]),
  );

  const qRows: (string | number)[][] = [];
  for (const model of Object.keys(queue.queue.byModel)) {
    const q = queue.queue.byModel[model]!;
    const e = queue.embedded.byModel[model]!;
    const t = queue.transport.byModel[model]!;
    qRows.push([
      model,
      median(q.run),
      median(q.overhead),
      pct(q.overhead, 99),
      median(t.overhead),
      pct(t.overhead, 99),
      median(e.overhead),
      pct(e.overhead, 99),
    ]);
  }
  qRows.push([
    'all',
    '',
    median(queue.queue.all),
    pct(queue.queue.all, 99),
    median(queue.transport.all),
    pct(queue.transport.all, 99),
    median(queue.embedded.all),
    pct(queue.embedded.all, 99),
  ]);
  table(
    `(c) Added latency per step: (run() called to result, i.e. XADD ... reply decoded) minus the session run, ms; ${knobs.queueJobs} jobs per model, one at a time, batch 1, no PNG`,
    ['model', 'session run p50', 'queue p50', 'queue p99', 'queue code + Redis alone p50', 'p99', 'embedded worker thread p50', 'p99'],
    qRows,
  );

  const fanRows: (string | number)[][] = [];
  for (const [name, f] of [
    ['embedded (1 process)', embeddedFanout],
    ['cluster (split over 2 replicas)', clusterFanout],
  ] as const) {
    if (f)
      fanRows.push([
        name,
        `${f.watchers} in ${f.processes} proc.`,
        f.frames,
        f.frameSpread.p50,
        f.frameSpread.p99,
        f.changeSpread.p50,
        f.eventSpread.p99,
        f.lost,
        f.duplicated,
        f.failed + (f.timedOut ? ' (timed out)' : ''),
      ]);
  }
  if (fanRows.length)
    table(
      `(d) Fan-out: watchers of one scene (graphql-ws, one WebSocket each, client processes apart), ${knobs.fanoutObjects} objects added; spread from the first to the last receipt of each frame, ms`,
      [
        'server',
        'watchers',
        'frames',
        'frame spread p50',
        'frame spread p99',
        'SceneChanged spread p50',
        'any event p99',
        'lost',
        'duplicated',
        'failed streams',
      ],
      fanRows,
    );
  for (const [name, f] of [
    ['embedded', embeddedFanout],
    ['cluster', clusterFanout],
  ] as const)
    for (const error of f?.errors ?? []) console.log(`\n${name}: a watcher's stream failed: ${error}`);

  table(
    "Inference workers, from each worker process's GET /metrics: everything up to the 1-worker round, then that round alone",
    [
      'worker',
      'session runs',
      'items per run',
      'ms per run',
      'jobs read',
      'queue wait mean ms (XADD to read)',
      'taken over',
      'loop lag p99 ms',
    ],
    workerRows,
  );

  const queueP50 = median(queue.queue.all);
  const summary: (string | number)[][] = [
    ['(a) steps/s, cluster 2 workers', clusterRate[2]!, `beside embedded ${(embedded[2] ?? NaN).toFixed(1)}`, 'info'],
    ['(b) scene latency, cluster / embedded', ratio, `<= ${TARGETS.latencyRatio}`, met(ratio <= TARGETS.latencyRatio)],
    ['(c) queue added latency per step, p50 ms', queueP50, `< ${TARGETS.queueP50Ms}`, met(queueP50 < TARGETS.queueP50Ms)],
  ];
  if (clusterFanout) {
    summary.push([
      `(d) fan-out to ${clusterFanout.watchers}, frame spread p99 ms`,
      clusterFanout.frameSpread.p99,
      `< ${TARGETS.fanoutP99Ms}`,
      met(clusterFanout.frameSpread.p99 < TARGETS.fanoutP99Ms),
    ]);
    const clean = clusterFanout.lost + clusterFanout.duplicated + clusterFanout.failed === 0 && !clusterFanout.timedOut;
    summary.push(['(d) events lost + duplicated', clusterFanout.lost + clusterFanout.duplicated, '0', met(clean)]);
  }
  table('Targets', ['figure', 'value', 'target', ''], summary);
  console.log(`\nWhole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`);

  Object.assign(results, {
    throughput: { embedded, cluster: clusterRate },
    latency: { embedded: embeddedLatency, cluster: clusterLatency, clusterAsyncCommit: asyncCommitLatency, ratio },
    queue: {
      p50: queueP50,
      p99: pct(queue.queue.all, 99),
      transportP50: median(queue.transport.all),
      transportP99: pct(queue.transport.all, 99),
      embeddedP50: median(queue.embedded.all),
      embeddedP99: pct(queue.embedded.all, 99),
    },
    fanout: { embedded: embeddedFanout, cluster: clusterFanout },
    workers: workerRows,
  });
  const out = join(process.cwd(), 'bench-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'cluster.json'), JSON.stringify(results, null, 2));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
