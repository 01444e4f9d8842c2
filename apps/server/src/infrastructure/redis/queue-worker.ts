import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChainableCommander, Redis } from 'ioredis';
import type { InferenceEngine, InferenceResult } from '../../domain/ports.js';
import type { Logger } from '../../domain/rendering/render-coordinator.js';
import {
  GROUP,
  QUEUE_MODELS,
  encodeReply,
  itemsOf,
  mergeFeeds,
  parseJob,
  queueKeys,
  splitResult,
  workerInfoFields,
  type Job,
  type ModelName,
  type QueueKeys,
  type Reply,
  type WorkerInfo,
} from './queue-protocol.js';

export interface QueueWorkerOptions {
  /** Commands; the worker opens its own connection for blocking reads. Neither is closed by `stop`. */
  redis: Redis;
  /** Runs the batches: a WorkerPoolEngine (its `workers` is how many batches run at once). */
  engine: InferenceEngine;
  /** The version of the models the engine loaded: the worker serves only that version's streams. */
  modelVersion: string;
  /** Key prefix. @default 'strata' */
  prefix?: string;
  /** @default `<host>-<pid>-<random>` */
  id?: string;
  /** Which models' streams to serve. @default all */
  models?: readonly ModelName[];
  /** Most batch items merged into one session run. @default 64 */
  maxBatch?: number;
  /** Most entries taken from each stream per read. @default 16 */
  readCount?: number;
  /** How long one blocking read waits, ms. @default 1000 */
  blockMs?: number;
  /** Heartbeat period, ms; the heartbeat expires after three. @default 1000 */
  heartbeatMs?: number;
  /**
   * A job pending this long on a worker that no longer refreshes it (a worker killed or stalled)
   * is taken over. Live workers refresh their jobs on every heartbeat, so a long batch is not
   * stolen. @default 10_000
   */
  claimTimeoutMs?: number;
  /** Shown in the heartbeat. */
  info?: { requestedProvider?: string; threadsPerWorker?: number };
  log?: Logger;
}

export interface QueueWorkerStats {
  jobs: number;
  runs: number;
  expired: number;
  claimed: number;
  handedBack: number;
  busy: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
const isNoGroup = (error: unknown) => String(error).includes('NOGROUP');

type StreamEntries = [Buffer, [Buffer, Buffer[]][]][];

/**
 * The worker side of the inference queue: reads jobs from the model streams with a consumer group
 * (`XREADGROUP ... COUNT k`), merges the jobs of one model read together into one session run (up
 * to `maxBatch` items), pushes each job's result to its replica's reply list, then acknowledges and
 * deletes the entries. Jobs left pending by a dead worker are taken over with `XAUTOCLAIM`; jobs
 * whose caller gave up (past their deadline) are dropped. A heartbeat hash says who it is.
 */
export class QueueWorker {
  readonly id: string;
  private readonly keys: QueueKeys;
  private readonly streams: string[];
  private readonly blocking: Redis;
  private readonly inFlight = new Map<string, Job>();
  private readonly counters = { jobs: 0, runs: 0, expired: 0, claimed: 0, handedBack: 0 };
  private readonly startedAt = new Date().toISOString();
  private busy = 0;
  private running = true;
  private wake: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly maxBatch: number;
  private readonly readCount: number;
  private readonly blockMs: number;
  private readonly heartbeatMs: number;
  private readonly claimTimeoutMs: number;
  private readonly runs = new Set<Promise<void>>();
  private readonly handedBack = new Set<string>();
  private lastPrune = Date.now();

  private constructor(private readonly options: QueueWorkerOptions) {
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.keys = queueKeys(options.prefix ?? 'strata', options.modelVersion);
    this.streams = (options.models ?? QUEUE_MODELS).map((m) => this.keys.jobs(m));
    this.maxBatch = options.maxBatch ?? 64;
    this.readCount = options.readCount ?? 16;
    this.blockMs = options.blockMs ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.claimTimeoutMs = options.claimTimeoutMs ?? 10_000;
    this.blocking = options.redis.duplicate({ maxRetriesPerRequest: null });
    this.blocking.on('error', () => undefined); // the original connection's listener logs outages
  }

  /** Create the consumer groups, announce the worker, take over abandoned jobs and start reading. */
  static async start(options: QueueWorkerOptions): Promise<QueueWorker> {
    const worker = new QueueWorker(options);
    try {
      await worker.ensureGroups();
      await worker.heartbeat();
    } catch (error) {
      worker.blocking.disconnect();
      throw error;
    }
    const every = (ms: number, task: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        if (worker.running) void task().catch((error: unknown) => worker.onError('queue worker', error));
      }, ms);
      timer.unref();
      worker.timers.push(timer);
    };
    every(worker.heartbeatMs, () => worker.heartbeat());
    every(Math.max(50, Math.min(worker.heartbeatMs, worker.claimTimeoutMs / 2)), () => worker.claim());
    void worker.claim().catch((error: unknown) => worker.onError('queue worker', error));
    worker.loop = worker.read();
    return worker;
  }

  /** Batches the engine runs at once. */
  get slots(): number {
    return Math.max(1, this.options.engine.workers);
  }

  stats(): QueueWorkerStats {
    return { ...this.counters, busy: this.busy };
  }

  /**
   * Leave the worker list (replicas stop counting this worker at once), stop taking jobs, let the
   * running ones finish for up to `drainMs`, and hand back what is left: it is added to its stream
   * again, for the other workers. The engine and the Redis connection stay open (the caller's).
   */
  async stop(options: { drainMs?: number } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    const redis = this.options.redis;
    await redis.multi().del(this.keys.worker(this.id)).srem(this.keys.workers, this.id).exec();
    this.blocking.disconnect();
    this.wake?.();
    await this.loop;
    // While draining, keep the running jobs from being taken over.
    const refresh = setInterval(() => void this.refreshJobs().catch(() => undefined), this.heartbeatMs);
    const drained = Promise.all([...this.runs]).then(() => true);
    const timeout = sleep(options.drainMs ?? 10_000).then(() => false);
    await Promise.race([drained, timeout]);
    clearInterval(refresh);
    await this.handBack();
    await Promise.all(this.streams.map((s) => redis.xgroup('DELCONSUMER', s, GROUP, this.id).catch(() => undefined)));
  }

  private onError(what: string, error: unknown): void {
    if (this.running) this.options.log?.error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  private async ensureGroups(): Promise<void> {
    await Promise.all(
      this.streams.map((stream) =>
        this.options.redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        }),
      ),
    );
  }

  private info(): WorkerInfo {
    const engine = this.options.engine;
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      provider: engine.provider,
      requestedProvider: this.options.info?.requestedProvider ?? engine.provider,
      modelVersion: this.options.modelVersion,
      threads: this.slots,
      threadsPerWorker: this.options.info?.threadsPerWorker ?? 1,
      maxBatch: this.maxBatch,
      startedAt: this.startedAt,
      seenAt: new Date().toISOString(),
      jobs: this.counters.jobs,
      runs: this.counters.runs,
      busy: this.busy,
    };
  }

  /** Refresh the heartbeat hash, and the idle time of the jobs in hand (so they are not taken over). */
  private async heartbeat(): Promise<void> {
    const redis = this.options.redis;
    const key = this.keys.worker(this.id);
    const tx = redis
      .multi()
      .hset(key, ...workerInfoFields(this.info()))
      .pexpire(key, 3 * this.heartbeatMs)
      .sadd(this.keys.workers, this.id);
    this.refreshJobs(tx);
    await tx.exec();
  }

  /** Reset the idle time of the jobs in hand (`XCLAIM ... JUSTID` to ourselves), in `tx` or on its own. */
  private async refreshJobs(tx?: ChainableCommander): Promise<void> {
    const byStream = new Map<string, string[]>();
    for (const job of this.inFlight.values()) byStream.set(job.stream, [...(byStream.get(job.stream) ?? []), job.entryId]);
    if (!byStream.size) return;
    const batch = tx ?? this.options.redis.multi();
    for (const [stream, ids] of byStream) batch.xclaim(stream, GROUP, this.id, 0, ...ids, 'JUSTID');
    if (!tx) await batch.exec();
  }

  /** Take over jobs pending longer than the claim timeout (their worker stopped refreshing them). */
  private async claim(): Promise<void> {
    if (Date.now() - this.lastPrune > 60_000) {
      this.lastPrune = Date.now();
      await this.pruneConsumers();
    }
    for (const stream of this.streams) {
      if (!this.running || this.busy >= this.slots) return;
      let result: [Buffer, [Buffer, Buffer[]][], Buffer[]?];
      try {
        result = (await this.options.redis.callBuffer(
          'XAUTOCLAIM',
          stream,
          GROUP,
          this.id,
          this.claimTimeoutMs,
          '0-0',
          'COUNT',
          this.readCount,
        )) as [Buffer, [Buffer, Buffer[]][], Buffer[]?];
      } catch (error) {
        if (isNoGroup(error)) await this.ensureGroups();
        else throw error;
        continue;
      }
      const entries = result[1].filter((e) => e && e[1]);
      if (!entries.length) continue;
      this.counters.claimed += entries.length;
      this.options.log?.info('queue worker: took over jobs', { worker: this.id, stream, jobs: entries.length });
      this.handle([[Buffer.from(stream), entries]]);
    }
  }

  /** Forget consumers of dead workers: nothing pending, idle for ten claim timeouts (at least ten minutes). */
  private async pruneConsumers(): Promise<void> {
    const idleMs = Math.max(600_000, 10 * this.claimTimeoutMs);
    for (const stream of this.streams) {
      const consumers = (await this.options.redis.xinfo('CONSUMERS', stream, GROUP).catch(() => [])) as unknown[][];
      for (const flat of consumers) {
        const c = new Map<string, unknown>();
        for (let i = 0; i + 1 < flat.length; i += 2) c.set(String(flat[i]), flat[i + 1]);
        const name = String(c.get('name'));
        if (name !== this.id && Number(c.get('pending')) === 0 && Number(c.get('idle')) > idleMs) {
          await this.options.redis.xgroup('DELCONSUMER', stream, GROUP, name);
        }
      }
    }
  }

  private async read(): Promise<void> {
    while (this.running) {
      if (this.busy >= this.slots) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      let result: StreamEntries | null;
      try {
        result = (await this.blocking.callBuffer(
          'XREADGROUP',
          'GROUP',
          GROUP,
          this.id,
          'COUNT',
          this.readCount,
          'BLOCK',
          this.blockMs,
          'STREAMS',
          ...this.streams,
          ...this.streams.map(() => '>'),
        )) as StreamEntries | null;
      } catch (error) {
        if (!this.running) return;
        if (isNoGroup(error)) await this.ensureGroups().catch((e: unknown) => this.onError('queue worker', e));
        else this.onError('queue worker: reading jobs failed', error);
        await sleep(200);
        continue;
      }
      if (result) this.handle(result);
    }
  }

  /** Drop expired jobs, group the others by model, and run them in merged batches. */
  private handle(result: StreamEntries): void {
    const now = Date.now();
    const groups = new Map<string, Job[]>();
    const drop: Job[] = [];
    for (const [streamName, entries] of result) {
      const stream = streamName.toString();
      for (const [entryId, fields] of entries) {
        const job = parseJob(stream, entryId.toString(), fields);
        if (!job) {
          void this.finish([{ stream, entryId: entryId.toString() } as Job], []);
          continue;
        }
        if (this.inFlight.has(job.entryId)) continue; // already running here (claimed back from ourselves)
        if (job.deadline && job.deadline < now) {
          drop.push(job);
          continue;
        }
        const key = `${job.model}:${job.encode}`;
        groups.set(key, [...(groups.get(key) ?? []), job]);
      }
    }
    if (drop.length) {
      this.counters.expired += drop.length;
      void this.finish(drop, []).catch((error: unknown) => this.onError('queue worker', error));
    }
    for (const jobs of groups.values()) {
      let chunk: Job[] = [];
      let items = 0;
      for (const job of jobs) {
        const n = itemsOf(job.feeds);
        if (chunk.length && items + n > this.maxBatch) {
          this.start(chunk);
          chunk = [];
          items = 0;
        }
        chunk.push(job);
        items += n;
      }
      if (chunk.length) this.start(chunk);
    }
  }

  private start(jobs: Job[]): void {
    for (const job of jobs) this.inFlight.set(job.entryId, job);
    this.busy++;
    const run = this.runBatch(jobs)
      .catch((error: unknown) => this.onError('queue worker: a batch failed', error))
      .finally(() => {
        for (const job of jobs) this.inFlight.delete(job.entryId);
        this.busy--;
        this.runs.delete(run);
        this.wake?.();
      });
    this.runs.add(run);
  }

  /** One session run for the jobs (or one per job when their feeds do not merge, or the merged run fails). */
  private async runBatch(jobs: Job[]): Promise<void> {
    const first = jobs[0]!;
    const sizes = jobs.map((j) => itemsOf(j.feeds));
    const items = sizes.reduce((a, b) => a + b, 0);
    const merged = mergeFeeds(jobs.map((j) => j.feeds));
    if (merged) {
      try {
        const result = await this.options.engine.run({ model: first.model, feeds: merged, encode: first.encode });
        this.counters.runs++;
        const parts = splitResult(result, sizes);
        await this.finish(
          jobs,
          jobs.map((job, i) => this.reply(job, { jobs: jobs.length, items }, parts[i]!, null)),
        );
        return;
      } catch (error) {
        // Stopping: the jobs are handed back to the other workers, not failed.
        if (!this.running) return;
        if (jobs.length === 1) {
          await this.finish(jobs, [this.reply(first, { jobs: 1, items }, null, error)]);
          return;
        }
      }
    }
    // Run apart: one bad job must not fail the others.
    for (const job of jobs) {
      let result: InferenceResult | null = null;
      let failure: unknown = null;
      try {
        result = await this.options.engine.run({ model: job.model, feeds: job.feeds, encode: job.encode });
        this.counters.runs++;
      } catch (error) {
        if (!this.running) return;
        failure = error;
      }
      await this.finish([job], [this.reply(job, { jobs: 1, items: itemsOf(job.feeds) }, result, failure)]);
    }
  }

  private reply(job: Job, batch: Reply['batch'], result: InferenceResult | null, error: unknown): { job: Job; message: Buffer } {
    const message = encodeReply({
      id: job.id,
      worker: this.id,
      batch,
      result,
      error: result ? null : error instanceof Error ? error.message : String(error ?? 'failed'),
    });
    return { job, message };
  }

  /** Push the replies, then acknowledge and delete the entries, in one transaction. */
  private async finish(all: Job[], answers: { job: Job; message: Buffer }[]): Promise<void> {
    // Jobs handed back while they ran belong to another worker now.
    const jobs = all.filter((j) => !this.handedBack.has(j.entryId));
    const replies = answers.filter((r) => !this.handedBack.has(r.job.entryId));
    if (!jobs.length) return;
    const tx = this.options.redis.multi();
    for (const { job, message } of replies) {
      tx.lpush(job.reply, message);
      // A replica that went away leaves no list behind.
      tx.pexpire(job.reply, Math.max(60_000, job.deadline - Date.now() + 60_000));
    }
    for (const job of jobs) tx.xack(job.stream, GROUP, job.entryId).xdel(job.stream, job.entryId);
    await tx.exec();
    this.counters.jobs += replies.length;
  }

  /** Put the jobs this worker still holds back at the end of their streams for the other workers. */
  private async handBack(): Promise<void> {
    const redis = this.options.redis;
    for (const stream of this.streams) {
      const pending = (await redis.xpending(stream, GROUP, '-', '+', 1000, this.id).catch(() => [])) as [string, string, number, number][];
      if (!pending.length) continue;
      const ids = pending.map((p) => p[0]);
      const claimed = (await redis.callBuffer('XCLAIM', stream, GROUP, this.id, 0, ...ids)) as [Buffer, Buffer[]][];
      const tx = redis.multi();
      for (const [entryId, fields] of claimed) {
        const job = parseJob(stream, entryId.toString(), fields);
        this.handedBack.add(entryId.toString());
        if (job && (!job.deadline || job.deadline > Date.now())) {
          tx.xadd(stream, '*', ...fields);
          this.counters.handedBack++;
        }
      }
      for (const id of ids) tx.xack(stream, GROUP, id).xdel(stream, id);
      await tx.exec();
    }
    if (this.counters.handedBack)
      this.options.log?.info('queue worker: handed jobs back', { worker: this.id, jobs: this.counters.handedBack });
  }
}
