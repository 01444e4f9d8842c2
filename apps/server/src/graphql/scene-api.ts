import {
  ErrorCode,
  Role,
  Visibility,
  type ApiToken,
  type EditTarget,
  type Frame,
  type Invite,
  type Member,
  type ModelInfo,
  type Participant,
  type Runtime,
  type Scene,
  type SceneApi,
  type SceneConnection,
  type SceneEventPayload,
  type SceneEventsArgs,
  type ScenesArgs,
} from '@strata/schema';
import { badInput } from '../domain/errors.js';
import type { Actor, UserData } from '../domain/identity/identity.js';
import type { Limits } from '../domain/scenes/limits.js';
import { Lru } from '../domain/lru.js';
import { PRESET_IDS, presetLabel } from '../domain/rendering/mask.js';
import type { ModelSpec } from '../domain/rendering/model.js';
import type {
  AccessStore,
  ApiTokenRecord,
  BlobStore,
  EventBus,
  InferenceWorkerInfo,
  InviteRecord,
  PresenceBoard,
  RateLimit,
  SceneStore,
  SlotLimit,
} from '../domain/ports.js';
import type { ParticipantData } from '../domain/identity/presence.js';
import type { RenderCoordinator, StepStatus } from '../domain/rendering/render-coordinator.js';
import type { SceneService } from '../domain/scenes/scene-service.js';
import type { RenderScheduler } from '../domain/rendering/scheduler.js';
import type { SharingService } from '../domain/identity/sharing-service.js';
import type { SceneData } from '../domain/scenes/types.js';
import { DomainError } from '../domain/errors.js';
import type { Authenticator, SessionInfo, UrlSigner } from '../domain/identity/authenticator.js';
import { streamSceneEvents } from './event-stream.js';
import { blobPath, recordedStatus, toEventPayload, toScene, type BlobUrl } from './mappers.js';

/** What every request's API object is built from (made once at start-up). */
export interface ApiDeps {
  model: ModelSpec;
  limits: Limits;
  store: SceneStore;
  access: AccessStore;
  blobs: BlobStore;
  bus: EventBus;
  service: SceneService;
  sharing: SharingService;
  presence: PresenceBoard;
  auth: Authenticator;
  /** Signs the URLs of frames and drawn masks (scenes that are not public get expiring ones). */
  urls: UrlSigner;
  coordinator: RenderCoordinator;
  scheduler: RenderScheduler;
  /** `guests`: new guest identities (startSession) per client address. */
  rateLimits: { mutations: RateLimit; presence: RateLimit; guests: RateLimit; subscriptions: SlotLimit };
  runtime: {
    /** Execution provider(s) and inference sessions now (a cluster's change as workers come and go). */
    provider: () => string;
    workers: () => number;
    /** The live inference workers. */
    list: () => Promise<InferenceWorkerInfo[]>;
    startedAt: number;
  };
}

/** Who is calling and through what. */
export interface Caller {
  actor: Actor;
  /** Key for rate limits: the user id, or the client address for anonymous callers. */
  rateKey: string;
  /** The client's address (`ip:...`, the real one behind trusted proxies): limits that hold per address. */
  address?: string;
  /** The session that authenticated the caller (what signOut ends); null for API tokens and anonymous callers. */
  session?: SessionInfo | null;
  /**
   * The request carried no credentials: its identity (if any) was minted for it alone. Mutations refuse
   * such a caller (UNAUTHENTICATED): a client must come back with the session it was given.
   */
  fresh?: boolean;
  /** Tells the transport to drop the session (clear the cookie); absent over WebSocket. */
  clearSession?: () => void;
  /** Hands a new session to the transport (a cookie over HTTP); absent over WebSocket. */
  setSession?: (token: string) => void;
  /** Throws when the caller's credentials stopped being valid (a revoked API token); checked as streams run. */
  revalidate?: () => Promise<void>;
}

/** Base64 of recently requested frames: encoded once, shared by every subscriber that inlines them. */
const base64Cache = new Lru<string, string>(512);

/** A presence board's list, mapped once per change for every stream of this process that shares it. */
const mappedParticipants = new WeakMap<readonly ParticipantData[], Participant[]>();

const toToken = (r: ApiTokenRecord): ApiToken => ({ id: r.id, name: r.name, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt });

/** The GraphQL layer's view of the domain, bound to one caller. */
export function createSceneApi(deps: ApiDeps, caller: Caller): SceneApi {
  const { service, sharing, model, auth } = deps;
  const { actor } = caller;
  const userOf = async (id: string): Promise<UserData> =>
    (await deps.access.getUser(id)) ?? { id, displayName: 'Someone', color: '#888888' };
  const participant = (p: ParticipantData): Participant => ({ ...p, user: { ...p.user } });
  const members = async (scene: SceneData): Promise<Member[]> => [
    ...(scene.ownerId ? [{ user: await userOf(scene.ownerId), role: Role.OWNER }] : []),
    ...(await Promise.all((await deps.access.members(scene.id)).map(async (m) => ({ user: await userOf(m.userId), role: m.role })))),
  ];

  /** A scene as recorded in an event (so a replay shows exactly what was sent live) or, with `live`, now. */
  const viewAs = (scene: SceneData, at: { status: StepStatus[]; seq: number; role: Role | null; visibility?: Visibility }): Scene => {
    let history: Promise<{ undo: boolean; redo: boolean }> | null = null;
    const historyState = () =>
      (history ??= actor.id ? deps.store.historyState(scene.id, actor.id) : Promise.resolve({ undo: false, redo: false }));
    return toScene(scene, {
      status: at.status,
      lastSeq: at.seq,
      modelVersion: model.version,
      resolution: model.resolution,
      myRole: at.role,
      history: historyState,
      members: () => members(scene),
      participants: () => deps.presence.list(scene.id).then((list) => list.map(participant)),
      document: () => service.exportDocument(scene),
      blobUrl: urlsFor(at.visibility ?? scene.visibility),
    });
  };
  const view = async (scene: SceneData): Promise<Scene> => {
    const [status, seq, role] = await Promise.all([
      deps.coordinator.status(scene),
      deps.store.lastSeq(scene.id),
      service.roleOf(actor, scene),
    ]);
    return viewAs(scene, { status, seq, role });
  };
  const recorded =
    (role: Role | null, visibility: Visibility) =>
    (scene: SceneData, at: { frames: (string | null)[]; seq: number }): Scene =>
      viewAs(scene, { status: recordedStatus(at.frames), seq: at.seq, role, visibility });
  const target = (t: EditTarget) => ({ sceneId: t.sceneId, baseRevision: t.baseRevision ?? null });
  /** Every mutation spends one token of the caller's bucket. */
  const spend = () => deps.rateLimits.mutations.take(caller.rateKey, 'changes');
  /** ... and needs a session the client already had: an identity minted for this one request changes nothing. */
  const limited =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    async (...args: A): Promise<Awaited<R>> => {
      await spend();
      if (caller.fresh)
        throw new DomainError(
          ErrorCode.UNAUTHENTICATED,
          'this request carried no session: load a page (cookie) or call startSession, then send the session with your requests',
          { field: 'authorization' },
        );
      return await fn(...args);
    };
  /** Frames and drawn masks of a public scene get URLs that never expire; those of any other scene expiring ones. */
  const urlsFor =
    (visibility: Visibility): BlobUrl =>
    (kind, id) =>
      `${blobPath(kind, id)}?${deps.urls.query(id, visibility === Visibility.PUBLIC)}`;
  const session = (s: { token: string; user: UserData }) => {
    caller.setSession?.(s.token);
    return { token: s.token, user: s.user };
  };
  const invite = (i: InviteRecord): Invite => ({
    id: i.id,
    role: i.role,
    token: i.token,
    url: `/invite/${i.token}`,
    createdAt: i.createdAt,
  });

  return {
    scene: async (id) => view(await service.get(actor, id)),
    scenes: async (args: ScenesArgs): Promise<SceneConnection> => {
      const page = await service.list(actor, args.first, args.after ?? null);
      return {
        nodes: await Promise.all(page.scenes.map((s) => view(s))),
        totalCount: page.total,
        pageInfo: { hasNextPage: page.nextCursor !== null, endCursor: page.nextCursor },
      };
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
    runtime: async (): Promise<Runtime> => {
      const stats = deps.scheduler.stats();
      const workers = await deps.runtime.list();
      return {
        executionProvider: deps.runtime.provider(),
        modelVersion: model.version,
        workers: deps.runtime.workers(),
        inferenceWorkers: workers.map((w) => ({
          id: w.id,
          host: w.host,
          executionProvider: w.provider,
          modelVersion: w.modelVersion,
          threads: w.threads,
          startedAt: w.startedAt,
          seenAt: w.seenAt,
        })),
        queueDepth: stats.queueDepth,
        inFlight: stats.inFlight,
        stepsRendered: stats.stepsRun,
        stepsDropped: stats.stepsDropped,
        batching: {
          enabled: deps.scheduler.options.batching,
          maxBatch: deps.scheduler.options.maxBatch,
          maxWaitMs: deps.scheduler.options.maxWaitMs,
        },
        uptimeSeconds: (performance.now() - deps.runtime.startedAt) / 1000,
      };
    },
    framePng: async (frame: Frame) => {
      const cached = base64Cache.get(frame.id);
      if (cached) return cached;
      const bytes = await deps.blobs.get(frame.id);
      if (!bytes) return null;
      const encoded = Buffer.from(bytes).toString('base64');
      base64Cache.set(frame.id, encoded);
      return encoded;
    },

    createScene: limited(async (input) => view(await service.create(actor, input))),
    importScene: limited(async (document, title) => view(await service.importDocument(actor, document, title))),
    renameScene: limited(async (sceneId, title) => view(await service.rename(actor, sceneId, title))),
    setVisibility: limited(async (sceneId, visibility) => view(await service.setVisibility(actor, sceneId, visibility))),
    duplicateScene: limited(async (sceneId, title) => view(await service.duplicate(actor, sceneId, title))),
    deleteScene: limited((sceneId) => service.delete(actor, sceneId)),
    setBackground: limited(async (t, input) => view(await service.setBackground(actor, target(t), input))),
    addObject: limited(async (t, input) => view(await service.addObject(actor, target(t), input))),
    updateObject: limited(async (t, layerId, input) => view(await service.updateObject(actor, target(t), layerId, input))),
    rerollObject: limited(async (t, layerId, what) => view(await service.reroll(actor, target(t), layerId, what))),
    removeObject: limited(async (t, layerId) => view(await service.removeObject(actor, target(t), layerId))),
    moveLayer: limited(async (t, layerId, toIndex) => view(await service.moveLayer(actor, target(t), layerId, toIndex))),
    setLayerVisibility: limited(async (t, layerId, visible) => view(await service.setLayerVisibility(actor, target(t), layerId, visible))),
    rerender: limited(async (sceneId) => view(await service.rerender(actor, sceneId))),
    undo: limited(async (sceneId) => view(await service.undo(actor, sceneId))),
    redo: limited(async (sceneId) => view(await service.redo(actor, sceneId))),

    me: () => actor.user ?? null,
    startSession: async (displayName) => {
      await spend();
      // One new guest per request: a request without credentials already paid for the one it was given.
      if (!(caller.fresh && actor.id)) await deps.rateLimits.guests.take(caller.address ?? caller.rateKey, 'new guests');
      return session(auth.newGuest(displayName));
    },
    updateProfile: limited(async (displayName, color) => session(await auth.updateProfile(actor, displayName, color, caller.session))),
    signOut: async () => {
      await spend();
      caller.clearSession?.();
      if (!caller.session || caller.fresh) return false;
      await auth.signOut(caller.session);
      return true;
    },
    apiTokens: async () => (await auth.apiTokens(actor)).map(toToken),
    createApiToken: limited(async (name) => {
      const { token, record } = await auth.createApiToken(actor, name);
      return { token, apiToken: toToken(record) };
    }),
    revokeApiToken: limited((id) => auth.revokeApiToken(actor, id)),
    invites: async (sceneId) => (await sharing.invites(actor, sceneId)).map(invite),
    createInvite: limited(async (sceneId, role) => invite(await sharing.createInvite(actor, sceneId, role))),
    revokeInvite: limited((sceneId, inviteId) => sharing.revokeInvite(actor, sceneId, inviteId)),
    acceptInvite: limited(async (token) => view(await sharing.acceptInvite(actor, token))),
    removeMember: limited(async (sceneId, userId) => view(await sharing.removeMember(actor, sceneId, userId))),
    updatePresence: async (sceneId, selectedLayerId, pointer) => {
      await deps.rateLimits.presence.take(caller.rateKey, 'presence updates');
      await service.get(actor, sceneId, 'sceneId');
      if (!actor.id) return false;
      if (
        pointer &&
        (!Number.isFinite(pointer.x) || !Number.isFinite(pointer.y) || pointer.x < 0 || pointer.x > 1 || pointer.y < 0 || pointer.y > 1)
      ) {
        throw badInput('pointer', 'x and y must be between 0 and 1');
      }
      return await deps.presence.update(sceneId, actor.id, selectedLayerId ?? null, pointer ? { x: pointer.x, y: pointer.y } : null);
    },

    sceneEvents: async (args: SceneEventsArgs): Promise<AsyncIterable<SceneEventPayload>> => {
      const scene = await service.get(actor, args.sceneId, 'sceneId');
      if (args.after != null && (!Number.isInteger(args.after) || args.after < 0))
        throw badInput('after', 'must be a non-negative integer');
      if (args.after != null) {
        // A cursor past the end would wait for events it claims to have seen: say so instead.
        const last = await deps.store.lastSeq(scene.id);
        if (args.after > last) {
          const error = badInput('after', `${args.after} is past the end of the scene's log, whose last seq is ${last}`);
          Object.assign(error.details, { current: last });
          throw error;
        }
      }
      const release = await deps.rateLimits.subscriptions.acquire(caller.rateKey, 'scene streams');
      let role: Role;
      // Frame URLs follow the scene's visibility now (re-read with access), not as an old event recorded it.
      let visibility = scene.visibility;
      let leave = () => {};
      let participants: readonly ParticipantData[] = [];
      let presenceChanged: (() => void) | null = null;
      let stopPresence = () => {};
      try {
        role = (await service.roleOf(actor, scene))!;
        if (actor.user) leave = await deps.presence.join(scene.id, actor.user, role);
        stopPresence = await deps.presence.subscribe(scene.id, (list) => {
          participants = list;
          presenceChanged?.();
        });
      } catch (error) {
        leave();
        release();
        throw error;
      }
      const shared = (list: readonly ParticipantData[]) => {
        let mapped = mappedParticipants.get(list);
        if (!mapped) mappedParticipants.set(list, (mapped = list.map(participant)));
        return mapped;
      };
      const events = streamSceneEvents(deps.store, deps.bus, args.sceneId, {
        after: args.after ?? null,
        // Access is re-checked as events arrive: a removed member's stream ends with NOT_FOUND.
        // The edit's event carries the scene's owner and visibility as of that edit; members are read once
        // per edit for all the streams of this process (not once per stream), so a burst of watchers
        // costs one query per event.
        authorize: async (edit) => {
          if (edit.type !== 'SceneChanged') {
            await service.get(actor, args.sceneId, 'sceneId');
            return;
          }
          role = await service.requireRoleAt(actor, edit.scene, edit.seq);
          visibility = edit.scene.visibility;
        },
        revalidate: caller.revalidate,
        transient: {
          subscribe: (listener) => {
            presenceChanged = listener;
            return () => (presenceChanged = null);
          },
          snapshot: (seq, revision) => ({
            type: 'PresenceChanged',
            seq,
            sceneId: args.sceneId,
            revision: revision ?? scene.revision,
            at: new Date().toISOString(),
            participants: shared(participants),
          }),
        },
      });
      const mapped = mapIterable(
        events,
        (event) =>
          (event.type === 'PresenceChanged'
            ? event
            : toEventPayload(
                event as never,
                model.resolution,
                recorded(role, visibility),
                urlsFor(visibility),
              )) as unknown as SceneEventPayload,
      );
      return onClose(mapped, () => {
        stopPresence();
        leave();
        release();
      });
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

/** Run `cleanup` once when the iterator finishes, fails or is closed by its consumer. */
function onClose<T>(source: AsyncIterableIterator<T>, cleanup: () => void): AsyncIterableIterator<T> {
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      cleanup();
    }
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const result = await source.next();
        if (result.done) finish();
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    async return() {
      finish();
      return (await source.return?.()) ?? { done: true, value: undefined };
    },
  };
}
