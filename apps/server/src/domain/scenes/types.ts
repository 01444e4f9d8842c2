import type { Visibility } from '@strata/schema';

/** A box in normalised canvas coordinates. */
export interface BoxData {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** How a layer's mask is made; DRAWN masks are stored as blobs named by their hash. */
export type ShapeData =
  | { kind: 'GENERATED'; seed: number }
  | { kind: 'PRESET'; preset: string }
  | { kind: 'DRAWN'; maskId: string; width: number; height: number };

/** What one layer paints. */
export interface ObjectData {
  category: string;
  box: BoxData;
  shape: ShapeData;
  appearanceSeed: number;
}

/** A layer of a scene as stored. */
export interface LayerData {
  id: string;
  object: ObjectData;
  visible: boolean;
  /** Scene revision at which this layer last changed. */
  revision: number;
}

/** The background as stored. */
export interface BackgroundData {
  style: string;
  seed: number;
  revision: number;
}

/** A scene as stored: specs and seeds only; canvases are derived and cached. */
export interface SceneData {
  id: string;
  title: string;
  ownerId: string | null;
  visibility: Visibility;
  revision: number;
  background: BackgroundData;
  layers: LayerData[];
  createdAt: string;
  updatedAt: string;
}

/** The `type` tag and payload of every event kept in a scene's log. */
export type SceneEventData =
  | { type: 'SceneChanged'; change: string; layerId: string | null; actorId: string | null; scene: SceneData; frames: (string | null)[] }
  | { type: 'RenderStarted'; fromStep: number; toStep: number }
  | { type: 'FrameRendered'; step: number; layerId: string | null; lastStep: number; frameId: string; cached: boolean }
  | { type: 'RenderCompleted'; frameId: string; step: number; renderedSteps: number; cachedSteps: number; durationMs: number }
  | { type: 'RenderFailed'; step: number; layerId: string | null; code: string; message: string }
  | { type: 'SceneDeleted'; actorId: string | null };

/** An event with its place in the scene's log. */
export type StoredEvent = SceneEventData & { seq: number; sceneId: string; revision: number; at: string };
