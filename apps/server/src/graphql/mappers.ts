import { RenderState, ShapeKind, type Frame, type Layer, type Member, type Participant, type Role, type Scene } from '@strata/schema';
import type { StepStatus } from '../domain/rendering/render-coordinator.js';
import type { SceneData, ShapeData, StoredEvent } from '../domain/scenes/types.js';

/**
 * The URL path of a content-addressed PNG of one scene: a frame or a drawn mask. Signed by the API
 * (`?exp=..&sig=..` for scenes that are not public, `?sig=..` for public ones); the plain path is not served.
 */
export type BlobUrl = (kind: 'frames' | 'masks', id: string) => string;

/** The unsigned URL path of a blob (what a signed URL adds its query to). */
export const blobPath = (kind: 'frames' | 'masks', id: string) => `/${kind}/${id}.png`;

export function toFrame(id: string, step: number, resolution: number, url: BlobUrl): Frame {
  return { id, step, width: resolution, height: resolution, url: url('frames', id) };
}

function toShape(shape: ShapeData, url: BlobUrl) {
  switch (shape.kind) {
    case 'GENERATED':
      return { kind: ShapeKind.GENERATED, seed: shape.seed, preset: null, maskUrl: null, maskWidth: null, maskHeight: null };
    case 'PRESET':
      return { kind: ShapeKind.PRESET, seed: null, preset: shape.preset, maskUrl: null, maskWidth: null, maskHeight: null };
    case 'DRAWN':
      return {
        kind: ShapeKind.DRAWN,
        seed: null,
        preset: null,
        maskUrl: url('masks', shape.maskId),
        maskWidth: shape.width,
        maskHeight: shape.height,
      };
  }
}

export interface SceneExtras {
  status: StepStatus[];
  myRole: Role | null;
  history: () => Promise<{ undo: boolean; redo: boolean }>;
  members: () => Promise<Member[]>;
  participants: () => Promise<Participant[]>;
  lastSeq: number;
  modelVersion: string;
  resolution: number;
  document: () => Promise<Record<string, unknown>>;
  /** URLs of the scene's frames and drawn masks. */
  blobUrl: BlobUrl;
}

/** A stored scene plus its render status, as the GraphQL `Scene` type. */
export function toScene(scene: SceneData, extras: SceneExtras): Scene {
  const { status, resolution, blobUrl } = extras;
  const frameAt = (step: number) => {
    const id = status[step]?.frameId;
    return id ? toFrame(id, step, resolution, blobUrl) : null;
  };
  const layers: Layer[] = scene.layers.map((layer, index) => ({
    id: layer.id,
    index,
    step: index + 1,
    object: { ...layer.object, box: { ...layer.object.box }, shape: toShape(layer.object.shape, blobUrl) },
    visible: layer.visible,
    renderState: status[index + 1]?.state ?? RenderState.PENDING,
    frame: frameAt(index + 1),
    revision: layer.revision,
  }));
  const last = status.length - 1;
  const states = status.map((s) => s.state);
  const renderState = states.includes(RenderState.FAILED)
    ? RenderState.FAILED
    : states.every((s) => s === RenderState.DONE)
      ? RenderState.DONE
      : RenderState.RENDERING;
  const mapped: Scene = {
    id: scene.id,
    title: scene.title,
    ownerId: scene.ownerId,
    visibility: scene.visibility,
    revision: scene.revision,
    resolution,
    background: {
      style: scene.background.style,
      seed: scene.background.seed,
      renderState: status[0]?.state ?? RenderState.PENDING,
      frame: frameAt(0),
    },
    layers,
    renderState,
    latestFrame: frameAt(last),
    lastSeq: extras.lastSeq,
    modelVersion: extras.modelVersion,
    createdAt: scene.createdAt,
    updatedAt: scene.updatedAt,
    myRole: extras.myRole,
    canUndo: false,
    canRedo: false,
    document: {},
    members: [],
    participants: [],
  };
  // Built only when a client selects them (the document inlines drawn masks); graphql-js awaits the promises.
  Object.defineProperty(mapped, 'document', { get: extras.document, enumerable: true });
  Object.defineProperty(mapped, 'members', { get: extras.members, enumerable: true });
  Object.defineProperty(mapped, 'participants', { get: extras.participants, enumerable: true });
  Object.defineProperty(mapped, 'canUndo', { get: () => extras.history().then((h) => h.undo), enumerable: true });
  Object.defineProperty(mapped, 'canRedo', { get: () => extras.history().then((h) => h.redo), enumerable: true });
  return mapped;
}

/**
 * Step status as recorded in an event: replaying the event gives exactly what was sent live.
 */
export function recordedStatus(frames: (string | null)[]): StepStatus[] {
  return frames.map((frameId) => ({ key: '', frameId, state: frameId ? RenderState.DONE : RenderState.PENDING }));
}

/** A stored event as the GraphQL `SceneEvent` payload (the `type` tag picks the concrete type). */
export function toEventPayload(
  event: StoredEvent,
  resolution: number,
  scene: (data: SceneData, recorded: { frames: (string | null)[]; seq: number }) => Scene,
  blobUrl: BlobUrl,
): Record<string, unknown> & { type: string } {
  const base = { type: event.type, seq: event.seq, sceneId: event.sceneId, revision: event.revision, at: event.at };
  switch (event.type) {
    case 'FrameRendered':
      return {
        ...base,
        step: event.step,
        layerId: event.layerId,
        lastStep: event.lastStep,
        cached: event.cached,
        frame: toFrame(event.frameId, event.step, resolution, blobUrl),
      };
    case 'RenderCompleted':
      return {
        ...base,
        renderedSteps: event.renderedSteps,
        cachedSteps: event.cachedSteps,
        durationMs: event.durationMs,
        frame: toFrame(event.frameId, event.step, resolution, blobUrl),
      };
    case 'RenderStarted':
      return { ...base, fromStep: event.fromStep, toStep: event.toStep };
    case 'RenderFailed':
      return { ...base, step: event.step, layerId: event.layerId, code: event.code, message: event.message };
    case 'SceneChanged':
      return {
        ...base,
        change: event.change,
        layerId: event.layerId,
        actorId: event.actorId,
        scene: scene(event.scene, { frames: event.frames, seq: event.seq }),
      };
    case 'SceneDeleted':
      return { ...base, actorId: event.actorId };
  }
}
