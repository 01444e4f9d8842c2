import { ErrorCode, RenderState } from '@strata/schema';
import { isDomainError } from './errors.js';
import { Lru } from './lru.js';
import type { ModelSpec } from './model.js';
import { pngToRgb, type Painter } from './painter.js';
import type { BlobStore, Clock, EventBus, SceneStore } from './ports.js';
import { renderKeys } from './render-keys.js';
import { StaleStepError } from './scheduler.js';
import type { SceneData, SceneEventData } from './types.js';

/** Where every step of a scene stands, for the API. */
export interface StepStatus {
  key: string;
  frameId: string | null;
  state: RenderState;
}

interface Job {
  sceneId: string;
  revision: number;
  scene: SceneData;
  keys: string[];
  fromStep: number;
  current: number;
  startedAt: number;
  superseded: boolean;
  rendered: number;
  cached: number;
}

/** Logs what the coordinator cannot hand to anyone else. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/**
 * Renders each scene's latest revision, step by step, and publishes every canvas as it is
 * painted. One job per scene: a new revision supersedes the running job, whose pending steps are
 * then dropped by the scheduler. Steps whose key is in the render index come from the cache.
 */
export class RenderCoordinator {
  private readonly jobs = new Map<string, Job>();
  private readonly canvases = new Lru<string, Uint8Array>(2048);
  private readonly failed = new Map<string, string>();
  /** Paintings in flight by key: a newer job that needs the same canvas waits for it instead of painting it again. */
  private readonly painting = new Map<string, Promise<{ rgb: Uint8Array; frameId: string }>>();
  private readonly keyCache = new Lru<string, string[]>(1024);
  private readonly idleWaiters = new Map<string, (() => void)[]>();
  private closed = false;

  constructor(
    private readonly deps: {
      model: ModelSpec;
      store: SceneStore;
      blobs: BlobStore;
      bus: EventBus;
      painter: Painter;
      clock: Clock;
      log: Logger;
    },
  ) {}

  /**
   * Start rendering `scene` (its newest revision). Steps before the first one whose key changed
   * since `previous` (and is already rendered) are not painted again nor re-announced.
   */
  schedule(scene: SceneData, previous: SceneData | null, force = false): void {
    if (this.closed) return;
    const { store } = this.deps;
    const keys = this.keysOf(scene);
    const old = previous && !force ? this.keysOf(previous) : [];
    let fromStep = keys.findIndex((key, step) => key !== old[step] || !store.frameForKey(key));
    if (fromStep < 0) fromStep = keys.length;
    const running = this.jobs.get(scene.id);
    if (running) {
      running.superseded = true;
      // Steps the superseded job had not announced yet must be announced by this one.
      if (running.current < fromStep) fromStep = Math.max(0, Math.min(fromStep, running.current));
    }
    if (force) for (const key of keys) this.failed.delete(key);
    const job: Job = {
      sceneId: scene.id,
      revision: scene.revision,
      scene,
      keys,
      fromStep,
      current: fromStep,
      startedAt: this.deps.clock.now(),
      superseded: false,
      rendered: 0,
      cached: 0,
    };
    this.jobs.set(scene.id, job);
    void this.run(job);
  }

  /** Stop every render and publish nothing more (shutdown). */
  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) job.superseded = true;
    for (const sceneId of [...this.jobs.keys()]) this.notifyIdle(sceneId);
    this.jobs.clear();
  }

  /** Stop rendering a scene (it was deleted). */
  cancel(sceneId: string): void {
    const job = this.jobs.get(sceneId);
    if (job) job.superseded = true;
    this.jobs.delete(sceneId);
    this.notifyIdle(sceneId);
  }

  /** The frame of every step of `scene` that is rendered already (null where not yet). */
  frameIds(scene: SceneData): (string | null)[] {
    return this.keysOf(scene).map((key) => this.deps.store.frameForKey(key));
  }

  /** The state of every step of `scene` for its revision. */
  status(scene: SceneData): StepStatus[] {
    const keys = this.keysOf(scene);
    const job = this.jobs.get(scene.id);
    const active = job && job.revision === scene.revision && !job.superseded ? job : null;
    return keys.map((key, step) => {
      const frameId = this.deps.store.frameForKey(key);
      let state: RenderState = RenderState.PENDING;
      if (frameId) state = RenderState.DONE;
      else if (this.failed.has(key)) state = RenderState.FAILED;
      else if (active && active.current === step) state = RenderState.RENDERING;
      return { key, frameId, state };
    });
  }

  /** Resolves when the scene has no render running (for tests, benches and shutdown). */
  idle(sceneId: string): Promise<void> {
    if (!this.jobs.has(sceneId)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.idleWaiters.get(sceneId) ?? [];
      list.push(resolve);
      this.idleWaiters.set(sceneId, list);
    });
  }

  /** Scenes with a render running. */
  get active(): number {
    return this.jobs.size;
  }

  private async run(job: Job): Promise<void> {
    const lastStep = job.keys.length - 1;
    try {
      if (job.fromStep <= lastStep) this.emit(job, [{ type: 'RenderStarted', fromStep: job.fromStep, toStep: lastStep }]);
      let previous = job.fromStep > 0 ? await this.canvasAt(job, job.fromStep - 1) : null;
      for (let step = job.fromStep; step <= lastStep; step++) {
        if (job.superseded) return;
        job.current = step;
        const painted = await this.paint(job, step, previous);
        previous = painted;
        if (job.superseded) return;
        const layer = step > 0 ? job.scene.layers[step - 1]! : null;
        this.emit(job, [{ type: 'FrameRendered', step, layerId: layer?.id ?? null, lastStep, frameId: painted.frameId, cached: painted.cached }]);
      }
      job.current = lastStep + 1;
      const finalFrame = this.deps.store.frameForKey(job.keys[lastStep]!);
      if (finalFrame) {
        this.emit(job, [
          {
            type: 'RenderCompleted',
            frameId: finalFrame,
            step: lastStep,
            renderedSteps: job.rendered,
            cachedSteps: job.cached,
            durationMs: Math.round(this.deps.clock.now() - job.startedAt),
          },
        ]);
      }
    } catch (error) {
      if (error instanceof StaleStepError || job.superseded || this.closed) return;
      try {
        this.fail(job, error);
      } catch (failure) {
        this.deps.log.error('could not record a render failure', { sceneId: job.sceneId, error: String(failure) });
      }
    } finally {
      if (this.jobs.get(job.sceneId) === job) {
        this.jobs.delete(job.sceneId);
        this.notifyIdle(job.sceneId);
      }
    }
  }

  private async paint(job: Job, step: number, previous: { rgb: Uint8Array } | null): Promise<{ rgb: Uint8Array; frameId: string; cached: boolean }> {
    const key = job.keys[step]!;
    const known = this.deps.store.frameForKey(key);
    if (known) {
      job.cached++;
      return { rgb: this.loadCanvas(key, known), frameId: known, cached: true };
    }
    const running = this.painting.get(key);
    if (running) {
      try {
        const shared = await running;
        job.cached++;
        return { ...shared, cached: true };
      } catch (error) {
        // The job that started it was superseded and its step dropped: paint it here instead.
        if (!(error instanceof StaleStepError) || job.superseded) throw error;
        return this.paint(job, step, previous);
      }
    }
    // Only the job that started a painting may drop it as stale, and only when no other job waits.
    const painting = this.paintStep(job, step, key, previous).finally(() => this.painting.delete(key));
    this.painting.set(key, painting);
    const painted = await painting;
    job.rendered++;
    return { ...painted, cached: false };
  }

  private async paintStep(job: Job, step: number, key: string, previous: { rgb: Uint8Array } | null): Promise<{ rgb: Uint8Array; frameId: string }> {
    const isStale = () => job.superseded && this.jobs.get(job.sceneId)?.keys[step] !== key;
    const image =
      step === 0
        ? await this.deps.painter.background(job.sceneId, job.scene.background, isStale)
        : await this.deps.painter.foreground(job.sceneId, previous!.rgb, job.scene.layers[step - 1]!.object, isStale);
    // A superseded job's canvas is still right for its key: keep it for whoever needs it next.
    this.deps.blobs.putWithHash(image.hash, image.png);
    this.deps.store.setFrameForKey(key, image.hash);
    this.canvases.set(key, image.rgb);
    return { rgb: image.rgb, frameId: image.hash };
  }

  /** Render keys of a scene revision, memoised (every API read of a scene needs them). */
  private keysOf(scene: SceneData): string[] {
    const id = `${scene.id}@${scene.revision}`;
    let keys = this.keyCache.get(id);
    if (!keys) {
      keys = renderKeys(scene, this.deps.model.version);
      this.keyCache.set(id, keys);
    }
    return keys;
  }

  private async canvasAt(job: Job, step: number): Promise<{ rgb: Uint8Array }> {
    const key = job.keys[step]!;
    const frameId = this.deps.store.frameForKey(key);
    if (frameId) return { rgb: this.loadCanvas(key, frameId) };
    // Not rendered (a superseded job never got there): paint from the start without announcing.
    let canvas: { rgb: Uint8Array } | null = null;
    for (let s = 0; s <= step; s++) canvas = await this.paint(job, s, canvas);
    return canvas!;
  }

  private loadCanvas(key: string, frameId: string): Uint8Array {
    const cached = this.canvases.get(key);
    if (cached) return cached;
    const png = this.deps.blobs.get(frameId);
    if (!png) throw new Error(`frame ${frameId} is in the render index but not in the blob store`);
    const rgb = pngToRgb(png);
    this.canvases.set(key, rgb);
    return rgb;
  }

  private fail(job: Job, error: unknown): void {
    const step = job.current;
    const expected = isDomainError(error);
    if (!expected) this.deps.log.error('render step failed', { sceneId: job.sceneId, step, error: String(error) });
    this.failed.set(job.keys[step]!, String(error));
    const layer = step > 0 ? job.scene.layers[step - 1] : null;
    this.emit(job, [
      {
        type: 'RenderFailed',
        step,
        layerId: layer?.id ?? null,
        code: expected ? error.code : ErrorCode.RENDER_FAILED,
        message: expected ? error.message : 'the generator failed on this step; try re-rendering',
      },
    ]);
  }

  private emit(job: Job, events: SceneEventData[]): void {
    // lastSeq is 0 only for a scene that does not exist (a live one has at least its creation event).
    if (this.closed || this.deps.store.lastSeq(job.sceneId) === 0) return;
    const stored = this.deps.store.appendEvents(job.sceneId, job.revision, events);
    this.deps.bus.publish(stored);
  }

  private notifyIdle(sceneId: string): void {
    const waiters = this.idleWaiters.get(sceneId);
    this.idleWaiters.delete(sceneId);
    waiters?.forEach((resolve) => resolve());
  }
}
