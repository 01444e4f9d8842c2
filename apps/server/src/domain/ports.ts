import type { Role } from '@strata/schema';
import type { UserData } from './identity/identity.js';
import type { SceneData, SceneEventData, StoredEvent } from './scenes/types.js';

/** One page of scenes, newest first. */
export interface ScenePage {
  scenes: SceneData[];
  total: number;
  /** Opaque cursor of the last scene, when more follow. */
  nextCursor: string | null;
}

/** Which scenes a listing may include. */
export interface SceneFilter {
  /** Scenes this user owns or is a member of, plus public ones; null lists public scenes only. */
  viewerId: string | null;
}

/** An edit to commit atomically: the new scene state and the events it causes. */
export interface SceneCommit {
  scene: SceneData;
  /** The revision the stored scene must still have, or the commit fails with a conflict. */
  expectedRevision: number;
  events: SceneEventData[];
}

/** An undo-history entry: the scene state before and after one actor's edit. */
export interface HistoryEntry {
  /** Assigned by the store. */
  id?: number;
  actorId: string;
  revision: number;
  before: SceneData;
  after: SceneData;
  change: string;
  layerId: string | null;
}

/**
 * Persistence of scenes, their event logs, undo histories and the render index.
 * Implementations: SQLite file (embedded default) and memory; later PostgreSQL.
 */
export interface SceneStore {
  getScene(id: string): SceneData | null;
  listScenes(filter: SceneFilter, first: number, after: string | null): ScenePage;
  /** Insert a new scene with its first events; returns the stored events. */
  createScene(scene: SceneData, events: SceneEventData[]): StoredEvent[];
  /** Replace a scene if its revision is still `expectedRevision`; returns the stored events, or null on a revision race. */
  commit(commit: SceneCommit): StoredEvent[] | null;
  /** Append events that change no spec (render progress); returns them with their sequence numbers. */
  appendEvents(sceneId: string, revision: number, events: SceneEventData[]): StoredEvent[];
  /** Events with seq > after, oldest first, at most `limit`. */
  readEvents(sceneId: string, after: number, limit: number): StoredEvent[];
  lastSeq(sceneId: string): number;
  deleteScene(id: string, events: SceneEventData[]): StoredEvent[];

  pushHistory(sceneId: string, entry: HistoryEntry): void;
  /** The actor's latest entry not undone (undo) or latest undone one (redo), and mark it. */
  takeHistory(sceneId: string, actorId: string, direction: 'undo' | 'redo'): HistoryEntry | null;
  /** Whether the actor has something to undo and to redo in the scene. */
  historyState(sceneId: string, actorId: string): { undo: boolean; redo: boolean };
  /** Put back an entry taken by `takeHistory` whose replay could not be applied. */
  restoreHistory(sceneId: string, entry: HistoryEntry, direction: 'undo' | 'redo'): void;

  /** The frame id (PNG hash) rendered for a canvas key, if any. */
  frameForKey(key: string): string | null;
  setFrameForKey(key: string, frameId: string): void;

  close(): void;
}

/** A member of a scene. */
export interface MemberRecord {
  userId: string;
  role: Role;
}

/** An invitation link. */
export interface InviteRecord {
  id: string;
  sceneId: string;
  role: Role;
  token: string;
  createdAt: string;
}

/** A personal API token; only the sha256 of its secret is kept. */
export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Users, memberships, invitations and API tokens (the SQLite and memory stores implement it too). */
export interface AccessStore {
  saveUser(user: UserData): void;
  getUser(id: string): UserData | null;
  memberRole(sceneId: string, userId: string): Role | null;
  members(sceneId: string): MemberRecord[];
  setMember(sceneId: string, userId: string, role: Role): void;
  removeMember(sceneId: string, userId: string): boolean;
  createInvite(invite: InviteRecord): void;
  invites(sceneId: string): InviteRecord[];
  findInvite(token: string): InviteRecord | null;
  revokeInvite(sceneId: string, id: string): boolean;
  createApiToken(token: ApiTokenRecord): void;
  findApiToken(hash: string): ApiTokenRecord | null;
  apiTokens(userId: string): ApiTokenRecord[];
  revokeApiToken(userId: string, id: string): boolean;
  touchApiToken(id: string, at: string): void;
}

/** Blob storage for PNGs (frames, drawn masks, presets), addressed by sha256. */
export interface BlobStore {
  put(bytes: Uint8Array): string;
  /** Store bytes under a hash already computed by the caller. */
  putWithHash(hash: string, bytes: Uint8Array): void;
  get(hash: string): Uint8Array | null;
  has(hash: string): boolean;
  /** Resolves when every blob put so far is durable. */
  flush(): Promise<void>;
}

/** Live fan-out of stored events to subscribers of a scene (in process, or Redis across replicas). */
export interface EventBus {
  publish(events: readonly StoredEvent[]): void;
  /** Calls `listener` for each event of the scene published from now on; returns the unsubscribe function. */
  subscribe(sceneId: string, listener: (event: StoredEvent) => void): () => void;
  close(): void;
}

/** A float32 tensor. */
export interface Tensor {
  data: Float32Array;
  dims: readonly number[];
}

/** An image output converted for delivery: 8-bit RGB, the PNG and its sha256. */
export interface EncodedImage {
  rgb: Uint8Array;
  png: Uint8Array;
  hash: string;
}

/** One inference call on one model, possibly a batch. */
export interface InferenceRequest {
  model: 'background' | 'foreground' | 'shape';
  feeds: Record<string, Tensor>;
  /** Quantise `image` to RGB bytes, encode each batch item as PNG and hash it (off the main thread). */
  encode: boolean;
}

export interface InferenceResult {
  outputs: Record<string, Tensor>;
  /** One per batch item when `encode` was set. */
  images: EncodedImage[];
  /** Time spent in `session.run`, milliseconds. */
  runMs: number;
}

/** Runs the generators. Implementations: a worker-thread pool (default) and in-process (benchmarks). */
export interface InferenceEngine {
  readonly provider: string;
  readonly workers: number;
  run(request: InferenceRequest): Promise<InferenceResult>;
  close(): Promise<void>;
}

/** Time, behind an interface so tests can control it. */
export interface Clock {
  now(): number;
  iso(): string;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  iso: () => new Date().toISOString(),
};
