import { describe, expect, it } from 'vitest';
import type { InferenceEngine, InferenceRequest, InferenceResult } from '../ports.js';
import { RenderScheduler, StaleStepError, type StepRequest } from './scheduler.js';

/** An engine at the outermost edge: records batches and answers when told to. */
class ManualEngine implements InferenceEngine {
  readonly provider = 'cpu';
  readonly batches: { model: string; scenes: number[] }[] = [];
  private readonly pending: (() => void)[] = [];
  constructor(readonly workers = 1) {}

  run(request: InferenceRequest): Promise<InferenceResult> {
    const ids = Array.from(request.feeds['x']!.data);
    this.batches.push({ model: request.model, scenes: ids });
    return new Promise((resolve) =>
      this.pending.push(() =>
        resolve({ outputs: { y: { data: Float32Array.from(ids.map((v) => v * 10)), dims: [ids.length, 1] } }, images: [], runMs: 1 }),
      ),
    );
  }

  /** Finish the oldest running batch. */
  async finishOne(): Promise<void> {
    this.pending.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
  }

  async close(): Promise<void> {}
}

const step = (scene: number, extra: Partial<StepRequest> = {}): StepRequest => ({
  sceneId: `s${scene}`,
  model: 'foreground',
  encode: false,
  feeds: { x: { data: Float32Array.of(scene), dims: [1, 1] } },
  ...extra,
});

describe('RenderScheduler', () => {
  it('serves scenes round-robin, so one scene with many steps cannot starve another', async () => {
    const engine = new ManualEngine();
    const scheduler = new RenderScheduler(engine, { batching: false, maxBatch: 1, maxWaitMs: 0 });
    const results = [1, 1, 1, 1, 2, 3].map((s) => scheduler.submit(step(s)));
    for (let i = 0; i < 6; i++) await engine.finishOne();
    await Promise.all(results);
    expect(engine.batches.map((b) => b.scenes[0])).toEqual([1, 2, 3, 1, 1, 1]);
  });

  it('drops steps made stale before they run, and counts them', async () => {
    const engine = new ManualEngine();
    const scheduler = new RenderScheduler(engine, { batching: false, maxBatch: 1, maxWaitMs: 0 });
    let stale = false;
    const first = scheduler.submit(step(1));
    const second = scheduler.submit(step(2, { isStale: () => stale })).catch((error: unknown) => error);
    stale = true;
    await engine.finishOne();
    await expect(first).resolves.toMatchObject({ batchSize: 1 });
    expect(await second).toBeInstanceOf(StaleStepError);
    expect(scheduler.stats()).toMatchObject({ stepsRun: 1, stepsDropped: 1, queueDepth: 0 });
  });

  it('sends a lone step at once, then batches steps of one model from different scenes while a batch runs', async () => {
    const engine = new ManualEngine();
    const scheduler = new RenderScheduler(engine, { batching: true, maxBatch: 3, maxWaitMs: 5 });
    const results = [1, 2, 3, 4].map((s) => scheduler.submit(step(s)));
    await new Promise((r) => setTimeout(r, 20));
    await engine.finishOne();
    await new Promise((r) => setTimeout(r, 20));
    await engine.finishOne();
    const outputs = await Promise.all(results);
    expect(engine.batches.map((b) => b.scenes)).toEqual([[1], [2, 3, 4]]);
    expect(outputs.map((o) => o.outputs['y']!.data[0])).toEqual([10, 20, 30, 40]);
    expect(outputs.map((o) => o.batchSize)).toEqual([1, 3, 3, 3]);
  });

  it('never batches different models together', async () => {
    const engine = new ManualEngine(1);
    const scheduler = new RenderScheduler(engine, { batching: true, maxBatch: 8, maxWaitMs: 0 });
    const results = [
      scheduler.submit(step(1)),
      scheduler.submit(step(2, { model: 'shape' })),
      scheduler.submit(step(3)),
      scheduler.submit(step(4)),
    ];
    for (let i = 0; i < 3; i++) await engine.finishOne();
    await Promise.all(results);
    expect(engine.batches).toEqual([
      { model: 'foreground', scenes: [1] },
      { model: 'shape', scenes: [2] },
      { model: 'foreground', scenes: [3, 4] },
    ]);
  });

  it('serves prefetches only when no needed step waits', async () => {
    const engine = new ManualEngine(1);
    const scheduler = new RenderScheduler(engine, { batching: false, maxBatch: 1, maxWaitMs: 0 });
    const results = [
      scheduler.submit(step(1)),
      scheduler.submit(step(2, { model: 'shape', prefetch: true })),
      scheduler.submit(step(3, { model: 'shape', prefetch: true })),
      scheduler.submit(step(4)),
    ];
    for (let i = 0; i < 4; i++) await engine.finishOne();
    await Promise.all(results);
    expect(engine.batches.map((b) => b.scenes[0])).toEqual([1, 4, 2, 3]);
  });

  it('keeps at most one batch in flight per worker', async () => {
    const engine = new ManualEngine(2);
    const scheduler = new RenderScheduler(engine, { batching: false, maxBatch: 1, maxWaitMs: 0 });
    const results = [1, 2, 3].map((s) => scheduler.submit(step(s)));
    expect(scheduler.stats()).toMatchObject({ inFlight: 2, queueDepth: 1 });
    for (let i = 0; i < 3; i++) await engine.finishOne();
    await Promise.all(results);
  });
});
