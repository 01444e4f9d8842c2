import type { Role } from '@strata/schema';
import type { UserData } from './identity/identity.js';
import type { ParticipantData } from './identity/presence.js';
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

/** An edit to commit atomically: the new scene state, the events it causes, and its undo entry. */
export interface SceneCommit {
  scene: SceneData;
  /** The revision the stored scene must still have, or the commit fails with a conflict. */
  expectedRevision: number;
  events: SceneEventData[];
  /** Recorded in the same transaction: the actor's redo entries are dropped, this one is pushed. */
  history?: HistoryEntry | null;
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
 * Implementations: SQLite file (embedded default), PostgreSQL (cluster) and memory (tests).
 *
 * Every guarantee comes from the store, not from the caller's process: a commit checks the
 * revision as a condition of the write; sequence numbers are allocated inside the transaction that
 * appends the events (1, 2, 3... per scene, no gap, no duplicate, whichever process commits).
 */
export interface SceneStore {
  getScene(id: string): Promise<SceneData | null>;
  listScenes(filter: SceneFilter, first: number, after: string | null): Promise<ScenePage>;
  /** Insert a new scene with its first events; returns the stored events. */
  createScene(scene: SceneData, events: SceneEventData[]): Promise<StoredEvent[]>;
  /** Replace a scene if its revision is still `expectedRevision`; returns the stored events, or null on a revision race. */
  commit(commit: SceneCommit): Promise<StoredEvent[] | null>;
  /** Append events that change no spec (render progress); returns them with their sequence numbers ([] for an unknown scene). */
  appendEvents(sceneId: string, revision: number, events: SceneEventData[]): Promise<StoredEvent[]>;
  /** Events with seq > after, oldest first, at most `limit`. */
  readEvents(sceneId: string, after: number, limit: number): Promise<StoredEvent[]>;
  /** The scene's last sequence number (0 for an unknown scene). */
  lastSeq(sceneId: string): Promise<number>;
  deleteScene(id: string, events: SceneEventData[]): Promise<StoredEvent[]>;

  /** The actor's latest entry not undone (undo) or latest undone one (redo), and mark it. */
  takeHistory(sceneId: string, actorId: string, direction: 'undo' | 'redo'): Promise<HistoryEntry | null>;
  /** Whether the actor has something to undo and to redo in the scene. */
  historyState(sceneId: string, actorId: string): Promise<{ undo: boolean; redo: boolean }>;
  /** Put back an entry taken by `takeHistory` whose replay could not be applied. */
  restoreHistory(sceneId: string, entry: HistoryEntry, direction: 'undo' | 'redo'): Promise<void>;

  /** The frame id (PNG hash) rendered for each canvas key, null where none. */
  framesForKeys(keys: readonly string[]): Promise<(string | null)[]>;
  setFrameForKey(key: string, frameId: string): Promise<void>;
  /** Forget keys whose frame turned out to be missing from the blob store (so they are painted again). */
  forgetFrames(keys: readonly string[]): Promise<void>;

  /**
   * Mark a scene as having a render under way (or not): a render interrupted by a crash is found
   * again from these marks and resumed, by this process after a restart or by another replica.
   */
  setRendering(sceneId: string, rendering: boolean): Promise<void>;
  /** Scenes marked as rendering, oldest mark first. */
  renderingScenes(limit: number): Promise<string[]>;

  close(): Promise<void>;
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

/** Users, memberships, invitations and API tokens (the SQLite, PostgreSQL and memory stores implement it). */
export interface AccessStore {
  saveUser(user: UserData): Promise<void>;
  getUser(id: string): Promise<UserData | null>;
  memberRole(sceneId: string, userId: string): Promise<Role | null>;
  members(sceneId: string): Promise<MemberRecord[]>;
  setMember(sceneId: string, userId: string, role: Role): Promise<void>;
  removeMember(sceneId: string, userId: string): Promise<boolean>;
  createInvite(invite: InviteRecord): Promise<void>;
  invites(sceneId: string): Promise<InviteRecord[]>;
  findInvite(token: string): Promise<InviteRecord | null>;
  revokeInvite(sceneId: string, id: string): Promise<boolean>;
  createApiToken(token: ApiTokenRecord): Promise<void>;
  findApiToken(hash: string): Promise<ApiTokenRecord | null>;
  apiTokens(userId: string): Promise<ApiTokenRecord[]>;
  revokeApiToken(userId: string, id: string): Promise<boolean>;
  touchApiToken(id: string, at: string): Promise<void>;
  /**
   * Record that session `id` is revoked (signed out). `expiresAt` is when the session would have
   * expired anyway: after it the entry may be forgotten (stores drop expired entries as they add new ones).
   */
  revokeSession(id: string, expiresAt: string): Promise<void>;
  /** Whether session `id` was revoked (and has not expired since). */
  sessionRevoked(id: string): Promise<boolean>;
}

/**
 * Blob storage for PNGs (frames, drawn masks, presets), addressed by sha256. Implementations: a
 * directory (embedded default; a shared volume in a cluster), PostgreSQL (cluster), memory (tests).
 */
export interface BlobStore {
  /** Store bytes; resolves with their sha256 once they are durable. */
  put(bytes: Uint8Array): Promise<string>;
  /** Store bytes under a hash already computed by the caller; resolves once they are durable. */
  putWithHash(hash: string, bytes: Uint8Array): Promise<void>;
  get(hash: string): Promise<Uint8Array | null>;
  has(hash: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Live fan-out of stored events to subscribers of a scene (in process, or Redis across replicas). */
export interface EventBus {
  /** Fan the events out (best effort: the log is the truth, a subscriber that sees a gap reads it). */
  publish(events: readonly StoredEvent[]): Promise<void>;
  /**
   * Calls `listener` for each event of the scene published from now on. Resolves, with the
   * unsubscribe function, once the subscription is active (events published after that are seen).
   */
  subscribe(sceneId: string, listener: (event: StoredEvent) => void): Promise<() => void>;
  close(): Promise<void>;
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

/** One inference worker as the runtime query lists it. */
export interface InferenceWorkerInfo {
  id: string;
  host: string;
  provider: string;
  modelVersion: string;
  threads: number;
  startedAt: string;
  seenAt: string;
}

/** Runs the generators. Implementations: a worker-thread pool (default) and in-process (benchmarks). */
export interface InferenceEngine {
  readonly provider: string;
  readonly workers: number;
  run(request: InferenceRequest): Promise<InferenceResult>;
  /** The live worker processes (a cluster's queue); absent for an engine inside this process. */
  listWorkers?(): Promise<InferenceWorkerInfo[]>;
  /** Called when `workers` changes (a queue's workers join or leave), so waiting steps can be dispatched. */
  onCapacityChange?(listener: () => void): void;
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

/** Token buckets per key (a user, or a client address): `take` refuses with RATE_LIMITED. */
export interface RateLimit {
  take(key: string, what: string): Promise<void>;
}

/** Open things per key (streams per person) against a ceiling, across every process that shares it. */
export interface SlotLimit {
  /** Take a slot or refuse with RATE_LIMITED; resolves with the function that gives it back. */
  acquire(key: string, what: string): Promise<() => void>;
}

/** A named, expiring lease: at most one holder at a time, across every process that shares the board. */
export interface Lease {
  /** Extend the lease; false when it was lost (expired and taken, or the board was reset). */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

/** Leases (one renderer per scene across replicas). Implementations: in process, Redis. */
export interface LeaseBoard {
  /** The lease, or null while someone else holds it. */
  acquire(name: string, ttlMs: number): Promise<Lease | null>;
}

/** What the process counts for operators (Prometheus in production, nothing in tests). */
export interface Metrics {
  /** One inference call: model, execution provider, batch size, time in the session. */
  inference(model: string, provider: string, batchSize: number, runMs: number): void;
  /** How long a step waited in the scheduler's queue before it was dispatched. */
  queueWait(model: string, ms: number): void;
  /** A step that finished: painted, taken from the cache, or dropped as stale. */
  step(outcome: 'painted' | 'cached' | 'dropped'): void;
  /** Events appended and published. */
  eventsPublished(count: number): void;
}

export const noMetrics: Metrics = {
  inference: () => {},
  queueWait: () => {},
  step: () => {},
  eventsPublished: () => {},
};

/**
 * Who is in each scene now, across every process that serves it. Implementations: in process
 * (`PresenceHub`), Redis (entries that expire unless their process renews them).
 */
export interface PresenceBoard {
  /** Count one open stream of `user` in the scene; resolves with the function that leaves (once). */
  join(sceneId: string, user: UserData, role: Role): Promise<() => void>;
  /** Set someone's selection and pointer; false when they are not in the scene. */
  update(sceneId: string, userId: string, selectedLayerId: string | null, pointer: { x: number; y: number } | null): Promise<boolean>;
  /** Remove a person from a scene at once, whichever process holds their streams (their access was revoked). */
  evict(sceneId: string, userId: string): Promise<void>;
  list(sceneId: string): Promise<ParticipantData[]>;
  /**
   * `listener` gets the scene's participants now (before this resolves) and after each change:
   * joins and leaves at once, selection and pointer moves at most once per throttle interval.
   * The list is built once per change and shared by every listener of the process: read only.
   */
  subscribe(sceneId: string, listener: (participants: readonly ParticipantData[]) => void): Promise<() => void>;
  close(): Promise<void>;
}
