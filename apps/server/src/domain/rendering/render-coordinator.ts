import { ErrorCode, RenderState } from '@strata/schema';
import { isDomainError } from '../errors.js';
import { Lru } from '../lru.js';
import type { ModelSpec } from './model.js';
import { pngToRgb, type Painter } from './painter.js';
import type { BlobStore, Clock, EventBus, Lease, LeaseBoard, Metrics, SceneStore } from '../ports.js';
import { renderKeys } from './render-keys.js';
import { StaleStepError } from './scheduler.js';
import type { SceneData, SceneEventData } from '../scenes/types.js';

/** Where every step of a scene stands, for the API. */
export interface StepStatus {
  key: string;
  frameId: string | null;
  state: RenderState;
}

/** The render of one scene: always aimed at its newest revision. */
interface Job {
  sceneId: string;
  revision: number;
  scene: SceneData;
  keys: string[];
  /** Step being painted now, -1 between steps. */
  current: number;
  /** Counters and start time of the newest revision's render. */
  startedAt: number;
  rendered: number;
  cached: number;
  stopped: boolean;
  /** The revision whose render this job finished (completed or failed), once it has. */
  doneRevision: number | null;
  /** Failed because storage did (full disk, read-only, database down): kept marked, so the sweeper retries it. */
  retry: boolean;
  /** Steps painted again because their stored canvas was missing or unreadable (bounded, so a broken store cannot loop). */
  repairs: number;
}

/** File system and database errors that mean "storage failed, try again later", not "this render is wrong". */
const STORAGE_ERRORS =
  /^(ENOSPC|EROFS|EDQUOT|EIO|EACCES|EPERM|EMFILE|ENFILE|EBUSY|EAGAIN|SQLITE_(FULL|READONLY|IOERR|BUSY|CANTOPEN|LOCKED))/;

/** Whether a render failed because storage did (it is retried once storage works again). */
export function isStorageFailure(error: unknown): boolean {
  if (isDomainError(error)) return error.code === ErrorCode.SERVICE_UNAVAILABLE;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORAGE_ERRORS.test(code);
}

/** An event append failed: the frame is stored but not announced; the render retries once the store works. */
class AnnounceFailedError extends Error {
  readonly code = 'EIO';
}

/** The step's canvas was lost and is painted again from an earlier step (a hidden layer shares its predecessor's): go back there. */
class RepaintEarlierError extends Error {}

/** Longest wait between retries of a render that failed because storage did. */
const MAX_RETRY_MS = 60_000;

/** Render events read back from the log to learn what was announced before a takeover. */
const RECALL_EVENTS = 512;

/** A forgotten canvas (the LRU keeps no holes): reads as absent. */
const EMPTY = new Uint8Array(0);

/** Logs what the coordinator cannot hand to anyone else. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/**
 * Renders each scene's newest revision step by step and publishes every canvas as it is painted.
 *
 * It remembers, per scene, the key of the frame last announced at each step. A render announces,
 * in step order, every step whose key differs from what was announced: so an edit at layer k
 * announces k..T only, and steps whose key is in the render index come from the cache. One job
 * per scene; a newer revision retargets the running job in place (its in-flight step finishes and
 * is kept if still wanted), so frames keep flowing while edits arrive.
 */
export class RenderCoordinator {
  private readonly jobs = new Map<string, Job>();
  private readonly announced = new Map<string, string[]>();
  private readonly canvases = new Lru<string, Uint8Array>(2048);
  /** Steps whose painting failed, by render key (bounded: a status hint, the log has the RenderFailed events). */
  private readonly failed = new Lru<string, string>(4096);
  /** Paintings in flight by key, shared by every scene that needs the same canvas. */
  private readonly painting = new Map<string, Promise<{ rgb: Uint8Array; frameId: string }>>();
  private readonly keyCache = new Lru<string, string[]>(1024);
  private readonly idleWaiters = new Map<string, (() => void)[]>();
  /** The render index as far as it is known here: a key's frame never changes once set (content addressed). */
  private readonly known = new Lru<string, string>(16384);
  /** Appends of each scene, in call order (so its events keep the order in which they happened). */
  private readonly emitting = new Map<string, Promise<boolean>>();
  /** Scenes whose render failed because storage did: when the sweeper may retry, and how many times it failed in a row. */
  private readonly retries = new Map<string, { at: number; failures: number }>();
  private resumeIntervalMs = 5_000;
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
      /** One renderer per scene across every process that shares the board. */
      leases: LeaseBoard;
      metrics?: Metrics;
      /** How long a scene's render lease lasts without renewal (renewed every third of it). @default 15000 */
      leaseMs?: number;
    },
  ) {}

  private get leaseMs(): number {
    return this.deps.leaseMs ?? 15_000;
  }

  private sweeper: NodeJS.Timeout | null = null;

  /**
   * Resume renders that were under way when a process died (this one before a restart, or another
   * replica), now and then every `intervalMs`: a scene marked as rendering whose lease nobody holds.
   */
  startResuming(intervalMs: number): void {
    this.resumeIntervalMs = intervalMs;
    const sweep = () => {
      void this.resumeInterrupted().catch((error) => this.deps.log.error('could not resume interrupted renders', { error: String(error) }));
    };
    sweep();
    this.sweeper = setInterval(sweep, intervalMs);
    this.sweeper.unref?.();
  }

  /** One sweep of `startResuming`. */
  async resumeInterrupted(): Promise<void> {
    for (const sceneId of await this.deps.store.renderingScenes(256)) {
      if (this.closed) return;
      // A render that failed because storage did waits out its backoff before it is tried again.
      if ((this.retries.get(sceneId)?.at ?? 0) > this.deps.clock.now()) continue;
      if (!this.jobs.has(sceneId)) await this.resume(sceneId);
    }
  }

  /** Take over a scene's render: learn from its log what was announced, then render the rest. */
  private async resume(sceneId: string): Promise<void> {
    const scene = await this.deps.store.getScene(sceneId);
    if (!scene) {
      await this.deps.store.setRendering(sceneId, false);
      return;
    }
    const keys = this.keysOf(scene);
    const frames = await this.framesOf(keys);
    const last = await this.deps.store.lastSeq(sceneId);
    const events = await this.deps.store.readEvents(sceneId, Math.max(0, last - RECALL_EVENTS), RECALL_EVENTS);
    if (this.jobs.has(sceneId) || this.closed) return;
    const announced: string[] = [];
    for (const event of events) {
      if (event.type === 'FrameRendered' && frames[event.step] === event.frameId) announced[event.step] = keys[event.step]!;
    }
    this.announced.set(sceneId, announced);
    this.requested.delete(sceneId);
    for (const key of keys) this.failed.delete(key);
    if (this.firstUnannounced(sceneId, keys) >= keys.length) {
      // Every step was announced but the process died before saying the render completed: say it now.
      const completed = events.some((e) => e.type === 'RenderCompleted' && e.revision === scene.revision);
      const lastFrame = frames[keys.length - 1];
      if (!completed && lastFrame) {
        await this.emit(sceneId, scene.revision, [
          { type: 'RenderCompleted', frameId: lastFrame, step: keys.length - 1, renderedSteps: 0, cachedSteps: 0, durationMs: 0 },
        ]);
      }
      await this.deps.store.setRendering(sceneId, false);
      return;
    }
    await this.schedule(scene, null);
    // Nothing left to paint: the mark was all that remained of the interrupted render.
    if (!this.jobs.has(sceneId) && this.firstUnannounced(sceneId, keys) >= keys.length) await this.deps.store.setRendering(sceneId, false);
  }

  /** Newest revision asked for per scene, and the revision last forced (rerender), to drop stale or repeated calls. */
  private readonly requested = new Map<string, number>();
  private readonly forced = new Map<string, number>();

  /**
   * Render `scene`'s newest revision. `previous` is the revision before it: after a restart, when
   * nothing is remembered, its rendered steps count as announced. `force` announces every step again.
   */
  async schedule(scene: SceneData, previous: SceneData | null, force = false): Promise<void> {
    if (this.closed) return;
    // The same revision arrives twice when this process made the edit (directly and from the bus).
    if ((this.requested.get(scene.id) ?? 0) > scene.revision) return;
    if (force && this.forced.get(scene.id) === scene.revision) force = false;
    const running = this.jobs.get(scene.id);
    if (!force && running && running.revision >= scene.revision) return;
    this.requested.set(scene.id, scene.revision);
    if (force) this.forced.set(scene.id, scene.revision);
    const keys = this.keysOf(scene);
    const frames = await this.framesOf(keys);
    let known: string[] | null = null;
    if (!force && previous && !this.jobs.has(scene.id)) {
      // Starting afresh (after a restart, or after another process rendered this scene): what the
      // previous revision had painted counts as announced.
      const old = this.keysOf(previous);
      const oldFrames = await this.framesOf(old);
      known = [];
      for (const [step, key] of old.entries()) {
        if (!oldFrames[step]) break;
        known[step] = key;
      }
    }
    if (this.closed || (this.requested.get(scene.id) ?? 0) > scene.revision) return;
    if (force) {
      this.announced.set(scene.id, []);
      for (const key of keys) this.failed.delete(key);
    } else if (known && !this.jobs.has(scene.id)) this.announced.set(scene.id, known);
    const fromStep = this.firstUnannounced(scene.id, keys);
    const job = this.jobs.get(scene.id);
    const now = this.deps.clock.now();
    if (job) {
      Object.assign(job, { revision: scene.revision, scene, keys, startedAt: now, rendered: 0, cached: 0 });
      this.started(scene, keys, frames, fromStep);
      return;
    }
    if (fromStep >= keys.length) {
      // Nothing to paint (a rename, or the top layer removed): only say where the scene ends now.
      const announced = this.announced.get(scene.id);
      if (announced && announced.length > keys.length) {
        announced.length = keys.length;
        const frameId = frames[keys.length - 1];
        if (frameId)
          void this.emit(scene.id, scene.revision, [
            { type: 'RenderCompleted', frameId, step: keys.length - 1, renderedSteps: 0, cachedSteps: 0, durationMs: 0 },
          ]);
      }
      return;
    }
    const fresh: Job = {
      sceneId: scene.id,
      revision: scene.revision,
      scene,
      keys,
      current: -1,
      startedAt: now,
      rendered: 0,
      cached: 0,
      stopped: false,
      doneRevision: null,
      retry: false,
      repairs: 0,
    };
    this.jobs.set(scene.id, fresh);
    void this.lead(fresh, frames);
  }

  /**
   * Take the scene's render lease and run the job. Without it another process renders the scene:
   * that one follows the scene's events and picks up this revision, so this one steps aside.
   */
  private async lead(job: Job, frames: (string | null)[]): Promise<void> {
    let lease: Lease | null = null;
    try {
      lease = await this.deps.leases.acquire(`render:${job.sceneId}`, this.leaseMs);
    } catch (error) {
      // The board is unreachable (Redis down): render anyway. Accepted work must not wait for the board; at
      // worst two processes paint the same content-addressed steps.
      this.deps.log.error('could not take a render lease; rendering without one', { sceneId: job.sceneId, error: String(error) });
      lease = { renew: async () => true, release: async () => {} };
    }
    if (!lease || job.stopped) {
      await lease?.release();
      if (this.jobs.get(job.sceneId) === job) this.jobs.delete(job.sceneId);
      this.announced.delete(job.sceneId);
      this.requested.delete(job.sceneId);
      this.notifyIdle(job.sceneId);
      return;
    }
    const renew = setInterval(() => {
      lease!.renew().then(
        (held) => {
          if (!held && !job.stopped) {
            this.deps.log.error('lost the render lease of a scene; another process renders it now', { sceneId: job.sceneId });
            job.stopped = true;
          }
        },
        () => undefined,
      );
    }, this.leaseMs / 3);
    renew.unref?.();
    // Follow edits made through other processes while this one renders the scene.
    let unsubscribe: (() => void) | null = null;
    try {
      try {
        unsubscribe = await this.deps.bus.subscribe(job.sceneId, (event) => {
          if (event.type === 'SceneDeleted') this.cancel(job.sceneId);
          else if (event.type === 'SceneChanged' && event.revision >= job.revision && this.jobs.get(job.sceneId) === job)
            void this.schedule(event.scene, null, event.change === 'RERENDER').catch((error) =>
              this.deps.log.error('could not follow an edit', { error: String(error) }),
            );
        });
      } catch (error) {
        // The bus is down (Redis): render anyway; edits made elsewhere meanwhile are caught up after the job.
        this.deps.log.error('could not follow the scene while rendering it', { sceneId: job.sceneId, error: String(error) });
      }
      await this.deps.store.setRendering(job.sceneId, true).catch((error: unknown) => {
        this.deps.log.error('could not mark a render as under way', { sceneId: job.sceneId, error: String(error) });
      });
      this.started(job.scene, job.keys, frames, this.firstUnannounced(job.sceneId, job.keys));
      await this.run(job);
    } catch (error) {
      this.deps.log.error('render job failed', { sceneId: job.sceneId, error: String(error) });
      // Keep the mark: the sweeper tries the render again.
      job.retry = true;
    } finally {
      clearInterval(renew);
      unsubscribe?.();
      if (this.jobs.get(job.sceneId) === job) this.jobs.delete(job.sceneId);
      // Unmark before the lease goes, so a sweeper elsewhere never takes a finished render for an
      // interrupted one; then look for a revision that arrived meanwhile (it marks again).
      // A render that failed because storage did stays marked: the sweeper tries it again.
      if (!this.jobs.has(job.sceneId) && !this.closed && !job.stopped && !job.retry)
        await this.deps.store.setRendering(job.sceneId, false).catch(() => undefined);
      await lease.release().catch(() => undefined);
      await this.catchUp(job);
      if (!this.jobs.has(job.sceneId)) {
        // Nothing more to do here: forget the scene (a later edit rebuilds this from its previous revision).
        this.announced.delete(job.sceneId);
        this.requested.delete(job.sceneId);
        this.forced.delete(job.sceneId);
        this.notifyIdle(job.sceneId);
      }
    }
  }

  /**
   * A revision that arrived while the job was finishing (or while another process held the lease)
   * is rendered now: the store has the newest one.
   */
  private async catchUp(job: Job): Promise<void> {
    if (this.closed || job.stopped || this.jobs.has(job.sceneId)) return;
    try {
      const latest = await this.deps.store.getScene(job.sceneId);
      if (latest && latest.revision > (job.doneRevision ?? job.revision - 1) && !this.jobs.has(job.sceneId)) {
        this.requested.delete(job.sceneId);
        await this.schedule(latest, null);
      }
    } catch (error) {
      this.deps.log.error('could not look for newer revisions', { sceneId: job.sceneId, error: String(error) });
    }
  }

  /** Say that a revision's render starts at `fromStep`, and prefetch the shapes it will need. */
  private started(scene: SceneData, keys: string[], frames: (string | null)[], fromStep: number): void {
    if (fromStep < keys.length) {
      // Layer j is painted at step j + 1: prefetch the shapes of the layers still to paint.
      const wanted = scene.layers.filter((l, j) => j + 1 >= fromStep && l.visible && !frames[j + 1]);
      const stale = () => this.closed || this.jobs.get(scene.id)?.revision !== scene.revision;
      this.deps.painter.prefetchShapes(
        scene.id,
        wanted.map((l) => l.object),
        stale,
      );
    }
    if (fromStep < keys.length) void this.emit(scene.id, scene.revision, [{ type: 'RenderStarted', fromStep, toStep: keys.length - 1 }]);
  }

  /** Stop rendering a scene (it was deleted) and forget what it announced. */
  cancel(sceneId: string): void {
    const job = this.jobs.get(sceneId);
    if (job) job.stopped = true;
    this.jobs.delete(sceneId);
    this.announced.delete(sceneId);
    this.requested.delete(sceneId);
    this.forced.delete(sceneId);
    this.retries.delete(sceneId);
    this.notifyIdle(sceneId);
  }

  /** Stop every render and publish nothing more (shutdown). */
  close(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const job of this.jobs.values()) job.stopped = true;
    for (const sceneId of [...this.jobs.keys()]) this.notifyIdle(sceneId);
    this.jobs.clear();
  }

  /** The frame of every step of `scene` that is rendered already (null where not yet). */
  frameIds(scene: SceneData): Promise<(string | null)[]> {
    return this.framesOf(this.keysOf(scene));
  }

  /** The state of every step of `scene` for its revision. */
  async status(scene: SceneData): Promise<StepStatus[]> {
    const keys = this.keysOf(scene);
    const frames = await this.framesOf(keys);
    const job = this.jobs.get(scene.id);
    const active = job && job.revision === scene.revision ? job : null;
    return keys.map((key, step) => {
      const frameId = frames[step] ?? null;
      let state: RenderState = RenderState.PENDING;
      if (frameId) state = RenderState.DONE;
      else if (this.failed.get(key) !== undefined) state = RenderState.FAILED;
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

  private firstUnannounced(sceneId: string, keys: string[]): number {
    const announced = this.announced.get(sceneId) ?? [];
    const step = keys.findIndex((key, k) => announced[k] !== key);
    return step < 0 ? keys.length : step;
  }

  private async run(job: Job): Promise<void> {
    try {
      await this.checkAnnounced(job);
      for (;;) {
        if (job.stopped) return;
        const step = this.firstUnannounced(job.sceneId, job.keys);
        if (step >= job.keys.length) break;
        const key = job.keys[step]!;
        let previous: Uint8Array | null = null;
        if (step > 0) {
          previous = await this.loadCanvas(job.keys[step - 1]!);
          if (!previous) {
            // The canvas this step paints on is lost (its blob missing or damaged): paint it again.
            await this.repaintFrom(job, step - 1);
            continue;
          }
        }
        job.current = step;
        let painted: { frameId: string; cached: boolean };
        try {
          painted = await this.paint(job, step, key, previous);
        } catch (error) {
          // Dropped because a newer revision stopped wanting it: carry on with the newest keys.
          if (error instanceof StaleStepError && !job.stopped) continue;
          if (error instanceof RepaintEarlierError) continue;
          throw error;
        } finally {
          job.current = -1;
        }
        // Announce only if the newest revision still wants this canvas here and nothing before it changed meanwhile.
        if (job.stopped || job.keys[step] !== key || this.firstUnannounced(job.sceneId, job.keys) !== step) continue;
        this.setAnnounced(job.sceneId, step, key, job.keys.length);
        const layer = step > 0 ? job.scene.layers[step - 1]! : null;
        const recorded = await this.emit(job.sceneId, job.revision, [
          {
            type: 'FrameRendered',
            step,
            layerId: layer?.id ?? null,
            lastStep: job.keys.length - 1,
            frameId: painted.frameId,
            cached: painted.cached,
          },
        ]);
        if (!recorded) {
          // Not in the log, so not announced: said again when the render is retried.
          this.unannounce(job.sceneId, step);
          throw new AnnounceFailedError(`could not record the frame of step ${step}`);
        }
      }
      job.doneRevision = job.revision;
      await this.complete(job);
      this.retries.delete(job.sceneId);
    } catch (error) {
      job.doneRevision = job.revision;
      if (job.stopped || this.closed) return;
      if (isStorageFailure(error)) this.scheduleRetry(job);
      try {
        await this.fail(job, error);
      } catch (failure) {
        this.deps.log.error('could not record a render failure', { sceneId: job.sceneId, error: String(failure) });
      }
    }
  }

  private async complete(job: Job): Promise<void> {
    // A newer revision may retarget the job while this awaits: complete only the revision that finished.
    const { keys, revision, startedAt, rendered, cached } = job;
    const lastStep = keys.length - 1;
    const [frameId] = await this.framesOf([keys[lastStep]!]);
    if (!frameId || job.revision !== revision) return;
    const announced = this.announced.get(job.sceneId);
    if (announced) announced.length = keys.length;
    await this.emit(job.sceneId, revision, [
      {
        type: 'RenderCompleted',
        frameId,
        step: lastStep,
        renderedSteps: rendered,
        cachedSteps: cached,
        durationMs: Math.round(this.deps.clock.now() - startedAt),
      },
    ]);
  }

  private setAnnounced(sceneId: string, step: number, key: string, length: number): void {
    const announced = this.announced.get(sceneId) ?? [];
    announced[step] = key;
    if (announced.length > length) announced.length = length;
    this.announced.set(sceneId, announced);
  }

  /** The canvas of a step: from the cache, from a painting in flight, or painted now. */
  private async paint(job: Job, step: number, key: string, previous: Uint8Array | null): Promise<{ frameId: string; cached: boolean }> {
    const [known] = await this.framesOf([key]);
    if (known && (await this.readable(known))) {
      this.deps.metrics?.step('cached');
      job.cached++;
      return { frameId: known, cached: true };
    }
    // A hidden layer's canvas is its predecessor's: never painted here, but again from the step
    // that first has it (it was forgotten or lost since).
    if (job.keys.indexOf(key) < step) {
      await this.repaintFrom(job, step);
      throw new RepaintEarlierError();
    }
    // Indexed but lost from the blob store: this step and the ones built on it are painted again.
    if (known) await this.repaintFrom(job, step);
    let painting = this.painting.get(key);
    const shared = painting !== undefined;
    if (!painting) {
      painting = this.paintStep(job, step, key, previous!).finally(() => this.painting.delete(key));
      this.painting.set(key, painting);
    }
    const { frameId } = await painting;
    if (shared) job.cached++;
    else job.rendered++;
    this.deps.metrics?.step(shared ? 'cached' : 'painted');
    return { frameId, cached: shared };
  }

  private async paintStep(job: Job, step: number, key: string, previous: Uint8Array): Promise<{ rgb: Uint8Array; frameId: string }> {
    // Drop the step if, by the time it would run, the scene no longer needs this canvas.
    const isStale = () => job.stopped || !job.keys.includes(key);
    const scene = job.scene;
    const image =
      step === 0
        ? await this.deps.painter.background(job.sceneId, scene.background, isStale)
        : await this.deps.painter.foreground(job.sceneId, previous, scene.layers[step - 1]!.object, isStale);
    // Durable before it is indexed, indexed before it is announced: a crash never leaves a frame
    // that the index names and the blob store lacks.
    this.canvases.set(key, image.rgb);
    await this.deps.blobs.putWithHash(image.hash, image.png);
    await this.deps.store.setFrameForKey(key, image.hash);
    this.known.set(key, image.hash);
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

  /**
   * The canvas of a rendered step, from memory or the blob store; null when it is lost (not in the
   * index, its blob missing, or bytes that do not decode to a canvas of the model's size).
   */
  private async loadCanvas(key: string): Promise<Uint8Array | null> {
    const cached = this.canvases.get(key);
    if (cached && cached.length > 0) return cached;
    const [frameId] = await this.framesOf([key]);
    const png = frameId ? await this.deps.blobs.get(frameId) : null;
    if (!png) return null;
    const R = this.deps.model.resolution;
    let rgb: Uint8Array;
    try {
      rgb = pngToRgb(png);
    } catch {
      return null;
    }
    if (rgb.length !== R * R * 3) return null;
    this.canvases.set(key, rgb);
    return rgb;
  }

  /** Whether a frame's bytes can be read back from the blob store. */
  private async readable(frameId: string): Promise<boolean> {
    return (await this.deps.blobs.get(frameId)) !== null;
  }

  /** Before a render goes on from where the scene was announced, check that those frames are still stored. */
  private async checkAnnounced(job: Job): Promise<void> {
    const upTo = this.firstUnannounced(job.sceneId, job.keys);
    const frames = await this.framesOf(job.keys.slice(0, upTo));
    for (const [step, frameId] of frames.entries()) {
      if (frameId && (await this.readable(frameId))) continue;
      await this.repaintFrom(job, step);
      return;
    }
  }

  /**
   * A stored canvas turned out to be lost: forget the keys from `step` on (in the render index and
   * here), so this render paints them again and announces them anew, from that step. A hidden
   * layer's canvas is its predecessor's, so it goes back to the first step with the same key (only
   * that one paints it); returns the step it goes back to.
   */
  private async repaintFrom(job: Job, lost: number): Promise<number> {
    const step = job.keys.indexOf(job.keys[lost]!);
    if (++job.repairs > 2 * job.keys.length + 2)
      throw new Error(`the canvases of scene ${job.sceneId} cannot be stored and read back (step ${step})`);
    const keys = job.keys.slice(step);
    this.deps.log.info('repainting frames missing from the blob store', { sceneId: job.sceneId, fromStep: step });
    // The in-memory maps cannot drop entries: an empty value reads as "not known".
    for (const key of keys) {
      this.known.set(key, '');
      this.canvases.set(key, EMPTY);
    }
    await this.deps.store.forgetFrames([...new Set(keys)]);
    this.unannounce(job.sceneId, step);
    void this.emit(job.sceneId, job.revision, [{ type: 'RenderStarted', fromStep: step, toStep: job.keys.length - 1 }]);
    return step;
  }

  /** Forget what was announced from `step` on. */
  private unannounce(sceneId: string, step: number): void {
    const announced = this.announced.get(sceneId);
    if (announced && announced.length > step) announced.length = step;
  }

  /** After a render failed because storage did: the sweeper tries it again, waiting longer after each failure in a row. */
  private scheduleRetry(job: Job): void {
    const failures = (this.retries.get(job.sceneId)?.failures ?? 0) + 1;
    const wait = Math.min(MAX_RETRY_MS, this.resumeIntervalMs * 2 ** (failures - 1));
    this.retries.set(job.sceneId, { at: this.deps.clock.now() + wait, failures });
    job.retry = true;
  }

  private async fail(job: Job, error: unknown): Promise<void> {
    const step = this.firstUnannounced(job.sceneId, job.keys);
    const storage = isStorageFailure(error);
    const expected = isDomainError(error);
    if (storage)
      this.deps.log.error('render step could not be stored; retrying later', { sceneId: job.sceneId, step, error: String(error) });
    else if (!expected) this.deps.log.error('render step failed', { sceneId: job.sceneId, step, error: String(error) });
    if (job.keys[step]) this.failed.set(job.keys[step]!, String(error));
    const layer = step > 0 ? job.scene.layers[step - 1] : null;
    await this.emit(job.sceneId, job.revision, [
      {
        type: 'RenderFailed',
        step,
        layerId: layer?.id ?? null,
        code: storage ? ErrorCode.SERVICE_UNAVAILABLE : expected ? error.code : ErrorCode.RENDER_FAILED,
        message: storage
          ? 'the frame could not be stored (storage is full, read-only or down); the render resumes by itself once storage works again'
          : expected
            ? error.message
            : 'the generator failed on this step; try re-rendering',
      },
    ]);
  }

  /**
   * Append render events to the scene's log and publish them, after every earlier append of the
   * scene (so they keep their order). A deleted scene's store appends nothing.
   */
  private emit(sceneId: string, revision: number, events: SceneEventData[]): Promise<boolean> {
    const previous = this.emitting.get(sceneId) ?? Promise.resolve(true);
    const next = previous.then(async () => {
      if (this.closed) return true;
      try {
        const stored = await this.deps.store.appendEvents(sceneId, revision, events);
        if (stored.length > 0) {
          await this.deps.bus.publish(stored);
          this.deps.metrics?.eventsPublished(stored.length);
        }
        return true;
      } catch (error) {
        this.deps.log.error('could not record render events', { sceneId, error: String(error) });
        return false;
      }
    });
    this.emitting.set(sceneId, next);
    void next.then(() => {
      if (this.emitting.get(sceneId) === next) this.emitting.delete(sceneId);
    });
    return next;
  }

  /** Frame ids for render keys: from what is known here, the rest from the store's index. */
  private async framesOf(keys: readonly string[]): Promise<(string | null)[]> {
    const result = keys.map((key) => this.known.get(key) || null);
    const missing = keys.filter((_, i) => result[i] === null);
    if (missing.length === 0) return result;
    const found = await this.deps.store.framesForKeys(missing);
    let j = 0;
    for (let i = 0; i < keys.length; i++) {
      if (result[i] !== null) continue;
      const frameId = found[j++] ?? null;
      if (frameId) {
        this.known.set(keys[i]!, frameId);
        result[i] = frameId;
      }
    }
    return result;
  }

  private notifyIdle(sceneId: string): void {
    const waiters = this.idleWaiters.get(sceneId);
    this.idleWaiters.delete(sceneId);
    waiters?.forEach((resolve) => resolve());
  }
}
