import { Worker } from 'node:worker_threads';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../../domain/errors.js';
import type { InferenceEngine, InferenceRequest, InferenceResult } from '../../domain/ports.js';
import type { Logger } from '../../domain/rendering/render-coordinator.js';
import type { WorkerReply, WorkerRequest } from './onnx-worker.js';
import { describeSelection, type ProviderSelection, type SessionOptions } from './sessions.js';

interface Slot {
  worker: Worker;
  busy: number;
}

interface Call {
  resolve: (result: InferenceResult) => void;
  reject: (error: Error) => void;
  slot: Slot;
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

/**
 * Start the worker entry next to this file. When running from TypeScript sources (tests), the
 * worker registers tsx first: workers do not inherit the parent's loader hooks.
 */
function newWorker(workerData: SessionOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./onnx-worker.js', import.meta.url), { workerData });
  const entry = new URL('./onnx-worker.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

/**
 * Inference on a pool of worker threads, one set of sessions per worker. Requests go to the
 * least busy worker. A worker that dies fails its calls and is replaced.
 */
export class WorkerPoolEngine implements InferenceEngine {
  private readonly slots: Slot[] = [];
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closing = false;
  private announced = false;
  /** The provider asked for, the one the first worker loaded, and why better ones did not. */
  selection: ProviderSelection;

  private constructor(
    private options: SessionOptions,
    private readonly log?: Logger,
  ) {
    this.selection = { requested: options.provider, provider: options.provider === 'auto' ? 'cpu' : options.provider, skipped: [] };
  }

  get provider(): string {
    return this.selection.provider;
  }

  get workers(): number {
    return this.slots.length;
  }

  /**
   * Start `workers` workers and wait until every one has loaded its sessions. With `auto`, the
   * first worker finds the provider (and `log` gets one line naming it and why better ones did
   * not load); the others, and replacements, open that one.
   */
  static async start(options: SessionOptions, workers: number, log?: Logger): Promise<WorkerPoolEngine> {
    const pool = new WorkerPoolEngine(options, log);
    try {
      if (options.provider === 'auto') await pool.spawn();
      await Promise.all(Array.from({ length: workers - pool.slots.length }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private spawn(): Promise<Slot> {
    const worker = newWorker(this.options);
    const slot: Slot = { worker, busy: 0 };
    return new Promise((resolve, reject) => {
      worker.on('message', (reply: WorkerReply) => {
        switch (reply.type) {
          case 'ready':
            if (!this.announced) {
              this.announced = true;
              this.selection = { requested: this.selection.requested, provider: reply.provider, skipped: reply.skipped };
              this.options = { ...this.options, provider: reply.provider };
              this.log?.info(`inference on ${describeSelection(this.selection)}`, { ...this.selection });
            }
            this.slots.push(slot);
            resolve(slot);
            return;
          case 'failed-to-start':
            reject(
              reply.code === ErrorCode.MODEL_MISMATCH ? new DomainError(ErrorCode.MODEL_MISMATCH, reply.message) : new Error(reply.message),
            );
            return;
          case 'result':
          case 'error':
            this.settle(reply);
            return;
        }
      });
      worker.on('error', (error) => {
        reject(error);
        this.onExit(slot, error);
      });
      worker.on('exit', (code) => this.onExit(slot, new Error(`inference worker exited with code ${code}`)));
    });
  }

  private settle(reply: Extract<WorkerReply, { type: 'result' | 'error' }>): void {
    const call = this.calls.get(reply.id);
    if (!call) return;
    this.calls.delete(reply.id);
    call.slot.busy--;
    if (reply.type === 'result') call.resolve(reply.result);
    else call.reject(new Error(reply.message));
  }

  private onExit(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const [id, call] of this.calls) {
      if (call.slot !== slot) continue;
      this.calls.delete(id);
      call.reject(error);
    }
    if (!this.closing) void this.spawn().catch(() => undefined);
  }

  run(request: InferenceRequest): Promise<InferenceResult> {
    const slot = this.slots.reduce<Slot | undefined>((best, s) => (!best || s.busy < best.busy ? s : best), undefined);
    if (!slot) return Promise.reject(new Error('no inference worker is running'));
    const id = this.nextId++;
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, slot });
      const message: WorkerRequest = { type: 'run', id, request };
      slot.worker.postMessage(message);
    });
  }

  /** Let in-flight runs finish, then have each worker release its sessions and exit. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const slots = [...this.slots];
    const inFlight = [...this.calls.values()].map(
      (call) =>
        new Promise<void>((resolve) => {
          const { resolve: ok, reject: fail } = call;
          call.resolve = (result) => (ok(result), resolve());
          call.reject = (error) => (fail(error), resolve());
        }),
    );
    await withTimeout(Promise.all(inFlight), 10_000);
    this.slots.length = 0;
    await Promise.all(
      slots.map(async (slot) => {
        const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
        slot.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
        if (!(await withTimeout(exited, 10_000))) await slot.worker.terminate();
      }),
    );
  }
}
