import type {
  AddObjectInput,
  BackgroundInput,
  CreateSceneInput,
  EditTarget,
  Frame,
  ModelInfo,
  RerollTarget,
  Runtime,
  Scene,
  SceneApi,
  SceneConnection,
  SceneEventPayload,
  SceneEventsArgs,
  ScenesArgs,
  UpdateObjectInput,
  Visibility,
} from '@strata/schema';
import { badInput } from '../domain/errors.js';
import type { Limits } from '../domain/limits.js';
import { Lru } from '../domain/lru.js';
import { PRESET_IDS, presetLabel } from '../domain/mask.js';
import type { ModelSpec } from '../domain/model.js';
import type { BlobStore, EventBus, SceneStore } from '../domain/ports.js';
import type { RenderCoordinator } from '../domain/render-coordinator.js';
import type { Actor, SceneService } from '../domain/scene-service.js';
import type { RenderScheduler } from '../domain/scheduler.js';
import type { SceneData } from '../domain/types.js';
import { streamSceneEvents } from './event-stream.js';
import { recordedStatus, toEventPayload, toScene } from './mappers.js';

/** What every request's API object is built from (made once at start-up). */
export interface ApiDeps {
  model: ModelSpec;
  limits: Limits;
  store: SceneStore;
  blobs: BlobStore;
  bus: EventBus;
  service: SceneService;
  coordinator: RenderCoordinator;
  scheduler: RenderScheduler;
  runtime: { provider: string; workers: number; startedAt: number };
}

/** Base64 of recently requested frames: encoded once, shared by every subscriber that inlines them. */
const base64Cache = new Lru<string, string>(512);

/** The GraphQL layer's view of the domain, bound to one caller. */
export function createSceneApi(deps: ApiDeps, actor: Actor): SceneApi {
  const { service, model } = deps;
  /** A scene now, or as recorded in an event (so a replay shows exactly what was sent live). */
  const view = (scene: SceneData, recorded?: { frames: (string | null)[]; seq: number }): Scene =>
    toScene(scene, {
      status: recorded ? recordedStatus(recorded.frames) : deps.coordinator.status(scene),
      lastSeq: recorded ? recorded.seq : deps.store.lastSeq(scene.id),
      modelVersion: model.version,
      resolution: model.resolution,
      document: () => service.exportDocument(scene),
    });
  const target = (t: EditTarget) => ({ sceneId: t.sceneId, baseRevision: t.baseRevision ?? null });

  return {
    scene: async (id) => view(service.get(actor, id)),
    scenes: async (args: ScenesArgs): Promise<SceneConnection> => {
      const page = service.list(actor, args.first, args.after ?? null);
      return { nodes: page.scenes.map((s) => view(s)), totalCount: page.total, pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor } };
    },
    model: (): ModelInfo => ({
      version: model.version,
      resolution: model.resolution,
      categories: model.categories,
      styles: model.styles,
      shapePresets: PRESET_IDS.map((id) => ({ id, label: presetLabel(id)!, url: `/presets/${id}.png` })),
      maxLayers: deps.limits.maxLayers,
      maxMaskSize: deps.limits.maxMaskSize,
      trainedOn: model.trainedOn,
    }),
    runtime: (): Runtime => {
      const stats = deps.scheduler.stats();
      return {
        executionProvider: deps.runtime.provider,
        modelVersion: model.version,
        workers: deps.runtime.workers,
        queueDepth: stats.queueDepth,
        inFlight: stats.inFlight,
        stepsRendered: stats.stepsRun,
        stepsDropped: stats.stepsDropped,
        batching: { enabled: deps.scheduler.options.batching, maxBatch: deps.scheduler.options.maxBatch, maxWaitMs: deps.scheduler.options.maxWaitMs },
        uptimeSeconds: (performance.now() - deps.runtime.startedAt) / 1000,
      };
    },
    framePng: async (frame: Frame) => {
      const cached = base64Cache.get(frame.id);
      if (cached) return cached;
      const bytes = deps.blobs.get(frame.id);
      if (!bytes) return null;
      const encoded = Buffer.from(bytes).toString('base64');
      base64Cache.set(frame.id, encoded);
      return encoded;
    },

    createScene: async (input: CreateSceneInput) => view(service.create(actor, input)),
    importScene: async (document, title) => view(service.importDocument(actor, document, title)),
    renameScene: async (sceneId, title) => view(service.rename(actor, sceneId, title)),
    setVisibility: async (sceneId, visibility: Visibility) => view(service.setVisibility(actor, sceneId, visibility)),
    duplicateScene: async (sceneId, title) => view(service.duplicate(actor, sceneId, title)),
    deleteScene: async (sceneId) => service.delete(actor, sceneId),
    setBackground: async (t, input: BackgroundInput) => view(service.setBackground(actor, target(t), input)),
    addObject: async (t, input: AddObjectInput) => view(service.addObject(actor, target(t), input)),
    updateObject: async (t, layerId, input: UpdateObjectInput) => view(service.updateObject(actor, target(t), layerId, input)),
    rerollObject: async (t, layerId, what: RerollTarget) => view(service.reroll(actor, target(t), layerId, what)),
    removeObject: async (t, layerId) => view(service.removeObject(actor, target(t), layerId)),
    moveLayer: async (t, layerId, toIndex) => view(service.moveLayer(actor, target(t), layerId, toIndex)),
    setLayerVisibility: async (t, layerId, visible) => view(service.setLayerVisibility(actor, target(t), layerId, visible)),
    rerender: async (sceneId) => view(service.rerender(actor, sceneId)),
    undo: async (sceneId) => view(service.undo(actor, sceneId)),
    redo: async (sceneId) => view(service.redo(actor, sceneId)),

    sceneEvents: (args: SceneEventsArgs): AsyncIterable<SceneEventPayload> => {
      service.get(actor, args.sceneId, 'sceneId');
      if (args.after != null && (!Number.isInteger(args.after) || args.after < 0)) throw badInput('after', 'must be a non-negative integer');
      const events = streamSceneEvents(deps.store, deps.bus, args.sceneId, args.after ?? null);
      return mapIterable(events, (event) => toEventPayload(event, model.resolution, view) as unknown as SceneEventPayload);
    },
  };
}

/** Map an async iterable lazily, passing `return` through so the source is cleaned up. */
function mapIterable<T, U>(source: AsyncGenerator<T>, fn: (value: T) => U): AsyncIterableIterator<U> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const result = await source.next();
      return result.done ? { done: true, value: undefined } : { done: false, value: fn(result.value) };
    },
    async return() {
      await source.return(undefined);
      return { done: true, value: undefined };
    },
  };
}
