import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { InferenceEngine, InferenceRequest, InferenceResult } from '../../domain/ports.js';
import type { Logger } from '../../domain/rendering/render-coordinator.js';
import {
  GROUP,
  QUEUE_MODELS,
  decodeReply,
  jobFields,
  parseWorkerInfo,
  queueKeys,
  type QueueKeys,
  type WorkerInfo,
} from './queue-protocol.js';

export interface QueueEngineOptions {
  /** Commands (may be shared with the rest of the app); the engine opens its own connection for blocking reads. */
  redis: Redis;
  /** The replica's manifest version: jobs go only to workers that loaded exactly these models. */
  modelVersion: string;
  /** Key prefix. @default 'strata' */
  prefix?: string;
  /** This replica's id (its reply key). @default random */
  replicaId?: string;
  /**
   * A job with no answer after this long fails; its entry carries the deadline, so a worker that
   * reads it later drops it. @default 60_000
   */
  timeoutMs?: number;
  /** How often the live workers are read (heartbeats). @default 1000 */
  refreshMs?: number;
  /** Most entries a stream keeps (approximate trim; acked entries are deleted by the workers). @default 100_000 */
  maxStreamLength?: number;
  log?: Logger;
}

/** What the queue adds to a result: who ran the job, and with how many others in one session run. */
export interface QueueInferenceResult extends InferenceResult {
  worker: string;
  batch: { jobs: number; items: number };
}

export interface QueueEngineStats {
  submitted: number;
  resolved: number;
  failed: number;
  timedOut: number;
  /** Replies for a job already answered (a job run twice after a takeover), ignored. */
  duplicates: number;
  /** Jobs sent again after the connection to Redis came back. */
  resent: number;
  pending: number;
}

interface PendingJob {
  model: InferenceRequest['model'];
  fields: (string | Buffer)[];
  resolve: (result: QueueInferenceResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * An InferenceEngine whose batches run on separate worker processes. The replica's scheduler keeps
 * every scheduling decision (batching, stale steps, prefetch priority, fairness) and hands each
 * dispatched batch to `run`, which adds it to a Redis stream per model; workers read the streams
 * with a consumer group, run the batch and push the result to this replica's reply list. Each job
 * resolves once: a second reply (a job taken over from a worker that was only slow) is ignored.
 *
 * `workers` is the number of inference threads of the live workers for this model version (each
 * runs one batch at a time), so the scheduler keeps one batch in flight per worker thread, as in the
 * embedded mode; listeners registered with `onCapacityChange` hear when it changes.
 */
export class QueueInferenceEngine implements InferenceEngine {
  private readonly keys: QueueKeys;
  private readonly replyKey: string;
  private readonly blocking: Redis;
  private readonly pending = new Map<string, PendingJob>();
  private readonly listeners: (() => void)[] = [];
  private readonly counters = { submitted: 0, resolved: 0, failed: 0, timedOut: 0, duplicates: 0, resent: 0 };
  private live: WorkerInfo[] = [];
  private capacity = 0;
  private providers = 'none';
  private seq = 0;
  private closed = false;
  private refreshTimer: NodeJS.Timeout | null = null;
  private replyLoop: Promise<void> = Promise.resolve();
  private everReady = false;
  private warnedVersions = '';
  readonly replicaId: string;
  private readonly timeoutMs: number;
  private readonly maxStreamLength: number;

  private constructor(private readonly options: QueueEngineOptions) {
    this.keys = queueKeys(options.prefix ?? 'strata', options.modelVersion);
    this.replicaId = options.replicaId ?? randomBytes(6).toString('hex');
    this.replyKey = this.keys.replies(this.replicaId);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxStreamLength = options.maxStreamLength ?? 100_000;
    this.blocking = options.redis.duplicate({ maxRetriesPerRequest: null });
    // A duplicate has none of the original's listeners: without one, a dropped connection is an unhandled 'error'.
    this.blocking.on('error', () => undefined);
  }

  /** Connect, create the streams' consumer group, read the live workers and start reading replies. */
  static async start(options: QueueEngineOptions): Promise<QueueInferenceEngine> {
    const engine = new QueueInferenceEngine(options);
    try {
      await engine.ensureGroups();
      await engine.refresh();
    } catch (error) {
      engine.blocking.disconnect();
      throw error;
    }
    engine.everReady = true;
    // After Redis comes back (a restart without persistence loses the streams), send the jobs still
    // waiting again: steps are content-addressed, so a job that runs twice is harmless.
    options.redis.on('ready', engine.onReconnect);
    engine.replyLoop = engine.readReplies();
    engine.refreshTimer = setInterval(() => void engine.refresh().catch(() => undefined), options.refreshMs ?? 1000);
    engine.refreshTimer.unref();
    return engine;
  }

  get workers(): number {
    return this.capacity;
  }

  /** The execution providers the live workers report ('cuda', 'cpu,cuda'...), or 'none'. */
  get provider(): string {
    return this.providers;
  }

  onCapacityChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  stats(): QueueEngineStats {
    return { ...this.counters, pending: this.pending.size };
  }

  run(request: InferenceRequest): Promise<QueueInferenceResult> {
    if (this.closed) return Promise.reject(new Error('the inference queue is closed'));
    const id = `${this.replicaId}:${++this.seq}`;
    const fields = jobFields({ id, reply: this.replyKey, request, deadline: Date.now() + this.timeoutMs });
    this.counters.submitted++;
    return new Promise<QueueInferenceResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(id)) return;
        this.counters.timedOut++;
        reject(new Error(`no inference worker answered ${request.model} job ${id} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { model: request.model, fields, resolve, reject, timer });
      this.add(request.model, fields).catch((error: unknown) => this.fail(id, error));
    });
  }

  /** Every worker with a live heartbeat (any model version), fresh from Redis. */
  async listWorkers(): Promise<WorkerInfo[]> {
    const redis = this.options.redis;
    const ids = await redis.smembers(this.keys.workers);
    if (!ids.length) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.worker(id));
    const hashes = (await pipeline.exec()) ?? [];
    const workers: WorkerInfo[] = [];
    const gone: string[] = [];
    hashes.forEach(([error, hash], i) => {
      const info = error ? null : parseWorkerInfo(hash as Record<string, string>);
      if (info) workers.push(info);
      else gone.push(ids[i]!);
    });
    // Heartbeats expire on their own; forget the ids of workers that are gone.
    if (gone.length) await redis.srem(this.keys.workers, ...gone);
    return workers.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
  }

  /** Resolves once at least `count` live workers serve this model version. */
  async waitForWorkers(count: number, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.refresh();
      if (this.live.length >= count) return;
      if (Date.now() > until) throw new Error(`${count} inference worker(s) did not join within ${timeoutMs} ms (${this.live.length} did)`);
      await sleep(50);
    }
  }

  /** Stop reading replies; jobs still waiting fail. The shared command connection stays open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.options.redis.off('ready', this.onReconnect);
    this.blocking.disconnect();
    await this.replyLoop;
    for (const [id, job] of this.pending) {
      clearTimeout(job.timer);
      this.pending.delete(id);
      job.reject(new Error('the inference queue is closed'));
    }
  }

  private async add(model: InferenceRequest['model'], fields: (string | Buffer)[]): Promise<void> {
    await this.options.redis.xadd(this.keys.jobs(model), 'MAXLEN', '~', String(this.maxStreamLength), '*', ...fields);
  }

  private fail(id: string, error: unknown): void {
    const job = this.pending.get(id);
    if (!job) return;
    this.pending.delete(id);
    clearTimeout(job.timer);
    this.counters.failed++;
    job.reject(error instanceof Error ? error : new Error(String(error)));
  }

  private async ensureGroups(): Promise<void> {
    await Promise.all(
      QUEUE_MODELS.map((model) =>
        this.options.redis.xgroup('CREATE', this.keys.jobs(model), GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
          if (!String(error).includes('BUSYGROUP')) throw error;
        }),
      ),
    );
  }

  private readonly onReconnect = (): void => {
    if (!this.everReady || this.closed) return;
    void (async () => {
      await this.ensureGroups();
      for (const job of this.pending.values()) {
        this.counters.resent++;
        await this.add(job.model, job.fields);
      }
    })().catch((error: unknown) => this.options.log?.error('inference queue: resending jobs failed', { error: String(error) }));
  };

  /** Read the live workers; tell the listeners when the capacity changed. */
  private async refresh(): Promise<void> {
    const all = await this.listWorkers();
    this.live = all.filter((w) => w.modelVersion === this.options.modelVersion);
    const others = [...new Set(all.filter((w) => w.modelVersion !== this.options.modelVersion).map((w) => w.modelVersion))]
      .sort()
      .join(', ');
    if (others && !this.live.length && others !== this.warnedVersions) {
      this.options.log?.error(`inference queue: no worker serves models ${this.options.modelVersion}; workers serve ${others}`);
    }
    this.warnedVersions = this.live.length ? '' : others;
    const capacity = this.live.reduce((n, w) => n + Math.max(1, w.threads), 0);
    this.providers = [...new Set(this.live.map((w) => w.provider))].sort().join(',') || 'none';
    if (capacity !== this.capacity) {
      this.capacity = capacity;
      for (const listener of this.listeners) listener();
    }
  }

  private async readReplies(): Promise<void> {
    while (!this.closed) {
      let popped: [Buffer, Buffer[]] | null;
      try {
        popped = (await this.blocking.blmpopBuffer(5, 1, this.replyKey, 'RIGHT', 'COUNT', 128)) as [Buffer, Buffer[]] | null;
      } catch (error) {
        if (this.closed) return;
        this.options.log?.error('inference queue: reading replies failed', { error: String(error) });
        await sleep(200);
        continue;
      }
      for (const message of popped?.[1] ?? []) this.settle(message);
    }
  }

  private settle(message: Buffer): void {
    let reply;
    try {
      reply = decodeReply(message);
    } catch (error) {
      this.options.log?.error('inference queue: unreadable reply', { error: String(error) });
      return;
    }
    const job = this.pending.get(reply.id);
    if (!job) {
      this.counters.duplicates++;
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(job.timer);
    if (reply.result) {
      this.counters.resolved++;
      job.resolve({ ...reply.result, worker: reply.worker, batch: reply.batch });
    } else {
      this.counters.failed++;
      job.reject(new Error(`inference worker ${reply.worker}: ${reply.error ?? 'failed'}`));
    }
  }
}
