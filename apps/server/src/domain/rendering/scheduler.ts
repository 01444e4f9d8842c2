import type { EncodedImage, InferenceEngine, InferenceRequest, Metrics, Tensor } from '../ports.js';

/** A step whose scene moved on before it ran; the step is dropped, not an error. */
export class StaleStepError extends Error {
  constructor() {
    super('step made stale by a newer revision');
    this.name = 'StaleStepError';
  }
}

/** One batch-1 inference a scene needs. */
export interface StepRequest {
  sceneId: string;
  model: InferenceRequest['model'];
  feeds: Record<string, Tensor>;
  encode: boolean;
  /** Checked just before the step is dispatched: true drops it. */
  isStale?: () => boolean;
  /** Work done ahead of need (shape masks of later layers): runs only when no other step waits. */
  prefetch?: boolean;
}

export interface StepResult {
  outputs: Record<string, Tensor>;
  image: EncodedImage | null;
  runMs: number;
  batchSize: number;
}

export interface SchedulerOptions {
  /** Batch steps of different scenes that use the same model. */
  batching: boolean;
  /** Most steps per batch. @default 8 */
  maxBatch: number;
  /** Longest the oldest step waits for a batch to fill, ms. @default 2 */
  maxWaitMs: number;
}

interface Pending {
  request: StepRequest;
  enqueuedAt: number;
  resolve: (result: StepResult) => void;
  reject: (error: unknown) => void;
}

/** Counters the runtime query and the bench report. */
export interface SchedulerStats {
  queueDepth: number;
  inFlight: number;
  stepsRun: number;
  stepsDropped: number;
  batches: number;
}

/**
 * One scheduler for every scene: it keeps a FIFO per scene and serves scenes round-robin, so a
 * scene with many steps cannot starve the others; it batches steps per model when enabled; it
 * drops steps made stale by a newer revision just before they would run; and it keeps at most
 * one batch in flight per inference worker.
 */
export class RenderScheduler {
  private readonly queues = new Map<string, Pending[]>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly counters = { stepsRun: 0, stepsDropped: 0, batches: 0 };
  private readonly lastServed = new Map<string, number>();
  private serveClock = 0;

  constructor(
    private readonly engine: InferenceEngine,
    readonly options: SchedulerOptions,
    private readonly metrics?: Metrics,
  ) {
    // Steps wait while no worker is there (a cluster's queue); they go out as soon as one joins.
    engine.onCapacityChange?.(() => {
      if (!this.closed) this.pump();
    });
  }

  submit(request: StepRequest): Promise<StepResult> {
    if (this.closed) return Promise.reject(new Error('scheduler is closed'));
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(request.sceneId) ?? [];
      queue.push({ request, enqueuedAt: performance.now(), resolve, reject });
      this.queues.set(request.sceneId, queue);
      this.pump();
    });
  }

  stats(): SchedulerStats {
    let queueDepth = 0;
    for (const q of this.queues.values()) queueDepth += q.length;
    return { queueDepth, inFlight: this.inFlight, ...this.counters };
  }

  /** Reject everything queued and refuse new steps; in-flight batches finish. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const queue of this.queues.values()) for (const p of queue) p.reject(new StaleStepError());
    this.queues.clear();
  }

  private pump(): void {
    while (this.inFlight < this.engine.workers) {
      this.dropStale();
      const oldest = this.oldest();
      if (!oldest) return;
      const batch = this.collect(oldest);
      // Wait for a fuller batch only while other batches are running: their scenes will soon submit
      // their next steps. A lone scene's step never waits.
      if (this.options.batching && batch.length < this.options.maxBatch && this.inFlight > 0) {
        const waited = performance.now() - oldest.enqueuedAt;
        if (waited < this.options.maxWaitMs) {
          this.putBack(batch);
          this.armTimer(this.options.maxWaitMs - waited);
          return;
        }
      }
      this.dispatch(batch);
    }
  }

  private armTimer(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.pump();
      },
      Math.max(0, ms),
    );
  }

  private dropStale(): void {
    for (const [sceneId, queue] of this.queues) {
      const keep = queue.filter((p) => {
        if (!p.request.isStale?.()) return true;
        this.counters.stepsDropped++;
        this.metrics?.step('dropped');
        p.reject(new StaleStepError());
        return false;
      });
      if (keep.length) this.queues.set(sceneId, keep);
      else this.queues.delete(sceneId);
    }
  }

  /**
   * Scenes in serving order: least recently served first (never served first of all), then by
   * the age of their oldest step. Taking them in this order is round-robin across scenes.
   */
  private servingOrder(): Pending[][] {
    const rank = (queue: Pending[]) => [this.lastServed.get(queue[0]!.request.sceneId) ?? -1, queue[0]!.enqueuedAt] as const;
    return [...this.queues.values()]
      .filter((q) => q.length > 0)
      .sort((a, b) => {
        const [sa, ea] = rank(a);
        const [sb, eb] = rank(b);
        return sa - sb || ea - eb;
      });
  }

  /** The next step to serve: needed steps first, prefetches only when nothing else waits. */
  private oldest(): Pending | null {
    const order = this.servingOrder();
    for (const queue of order) {
      const needed = queue.find((p) => !p.request.prefetch);
      if (needed) return needed;
    }
    return order[0]?.[0] ?? null;
  }

  /** Take up to maxBatch steps like `first` (same model and priority), one per scene per round, in serving order. */
  private collect(first: Pending): Pending[] {
    const { model, prefetch = false } = first.request;
    const limit = this.options.batching ? this.options.maxBatch : 1;
    const batch: Pending[] = [first];
    this.remove(first);
    const order = this.servingOrder();
    let progress = true;
    while (batch.length < limit && progress) {
      progress = false;
      for (const queue of order) {
        if (batch.length >= limit) break;
        const index = queue.findIndex((p) => p.request.model === model && (p.request.prefetch ?? false) === prefetch);
        if (index < 0) continue;
        batch.push(queue.splice(index, 1)[0]!);
        progress = true;
      }
    }
    return batch;
  }

  private remove(p: Pending): void {
    const queue = this.queues.get(p.request.sceneId);
    const index = queue?.indexOf(p) ?? -1;
    if (index >= 0) queue!.splice(index, 1);
  }

  private putBack(batch: Pending[]): void {
    for (const p of [...batch].reverse()) {
      const queue = this.queues.get(p.request.sceneId) ?? [];
      queue.unshift(p);
      this.queues.set(p.request.sceneId, queue);
    }
  }

  private markServed(batch: Pending[]): void {
    for (const p of batch) {
      this.lastServed.set(p.request.sceneId, ++this.serveClock);
      if (this.queues.get(p.request.sceneId)?.length === 0) this.queues.delete(p.request.sceneId);
    }
    // Forget scenes that have nothing queued so the map stays bounded.
    if (this.lastServed.size > 4 * (this.queues.size + 64)) {
      for (const id of this.lastServed.keys()) if (!this.queues.has(id)) this.lastServed.delete(id);
    }
  }

  private dispatch(batch: Pending[]): void {
    this.markServed(batch);
    this.inFlight++;
    this.counters.batches++;
    const first = batch[0]!.request;
    if (this.metrics) {
      const now = performance.now();
      for (const p of batch) this.metrics.queueWait(first.model, now - p.enqueuedAt);
    }
    const request: InferenceRequest = { model: first.model, feeds: concatFeeds(batch.map((p) => p.request.feeds)), encode: first.encode };
    this.engine
      .run(request)
      .then((result) => {
        this.counters.stepsRun += batch.length;
        this.metrics?.inference(first.model, this.engine.provider, batch.length, result.runMs);
        batch.forEach((p, i) =>
          p.resolve({
            outputs: sliceOutputs(result.outputs, i),
            image: result.images[i] ?? null,
            runMs: result.runMs,
            batchSize: batch.length,
          }),
        );
      })
      .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
      .finally(() => {
        this.inFlight--;
        if (!this.closed) this.pump();
      });
  }
}

/** Concatenate batch-1 feeds along the batch axis. */
export function concatFeeds(feeds: Record<string, Tensor>[]): Record<string, Tensor> {
  if (feeds.length === 1) return feeds[0]!;
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(feeds[0]!)) {
    const parts = feeds.map((f) => f[name]!);
    const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
    let offset = 0;
    for (const t of parts) {
      data.set(t.data, offset);
      offset += t.data.length;
    }
    out[name] = { data, dims: [parts.length, ...parts[0]!.dims.slice(1)] };
  }
  return out;
}

/** Item `index` of every batched output, as a batch-1 tensor. */
export function sliceOutputs(outputs: Record<string, Tensor>, index: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const size = t.data.length / t.dims[0]!;
    out[name] = { data: t.data.subarray(index * size, (index + 1) * size), dims: [1, ...t.dims.slice(1)] };
  }
  return out;
}
