import type { AddObjectInput, BackgroundInput, CreateSceneInput, SceneEventsArgs, ScenesArgs, UpdateObjectInput } from './inputs.js';
import type { RerollTarget, Visibility } from './enums.js';
import type { ModelInfo, Runtime } from './types/model.js';
import type { Frame, Scene, SceneConnection } from './types/scene.js';
import type { SceneEvent } from './types/events.js';
import type { ApiToken, ApiTokenCreated, Invite, PointInput, Role, Session, User } from './types/identity.js';

/** Common arguments of every edit that targets one scene. */
export interface EditTarget {
  sceneId: string;
  /** The scene revision the client based its edit on; used to detect conflicting edits of one layer. */
  baseRevision?: number | null;
}

/** An event as delivered to the GraphQL layer: the event's fields plus its `type` tag. */
export type SceneEventPayload = SceneEvent & { type: string } & Record<string, unknown>;

/**
 * What the GraphQL resolvers need from the server: one object per request, bound to the caller.
 * The resolvers in this package are thin adapters over it; `apps/server` implements it.
 */
export interface SceneApi {
  scene(id: string): Promise<Scene>;
  scenes(args: ScenesArgs): Promise<SceneConnection>;
  model(): ModelInfo;
  runtime(): Promise<Runtime>;
  framePng(frame: Frame): Promise<string | null>;

  createScene(input: CreateSceneInput): Promise<Scene>;
  importScene(document: Record<string, unknown>, title?: string | null): Promise<Scene>;
  renameScene(sceneId: string, title: string): Promise<Scene>;
  setVisibility(sceneId: string, visibility: Visibility): Promise<Scene>;
  duplicateScene(sceneId: string, title?: string | null): Promise<Scene>;
  deleteScene(sceneId: string): Promise<string>;
  setBackground(target: EditTarget, input: BackgroundInput): Promise<Scene>;
  addObject(target: EditTarget, input: AddObjectInput): Promise<Scene>;
  updateObject(target: EditTarget, layerId: string, input: UpdateObjectInput): Promise<Scene>;
  rerollObject(target: EditTarget, layerId: string, what: RerollTarget): Promise<Scene>;
  removeObject(target: EditTarget, layerId: string): Promise<Scene>;
  moveLayer(target: EditTarget, layerId: string, toIndex: number): Promise<Scene>;
  setLayerVisibility(target: EditTarget, layerId: string, visible: boolean): Promise<Scene>;
  rerender(sceneId: string): Promise<Scene>;
  undo(sceneId: string): Promise<Scene>;
  redo(sceneId: string): Promise<Scene>;

  sceneEvents(args: SceneEventsArgs): Promise<AsyncIterable<SceneEventPayload>>;

  me(): User | null;
  startSession(displayName?: string | null): Promise<Session>;
  updateProfile(displayName?: string | null, color?: string | null): Promise<Session>;
  /** End the caller's session (revoked, cookie cleared); false when the caller has no session. */
  signOut(): Promise<boolean>;
  apiTokens(): Promise<ApiToken[]>;
  createApiToken(name: string): Promise<ApiTokenCreated>;
  revokeApiToken(id: string): Promise<string>;
  invites(sceneId: string): Promise<Invite[]>;
  createInvite(sceneId: string, role: Role): Promise<Invite>;
  revokeInvite(sceneId: string, inviteId: string): Promise<string>;
  acceptInvite(token: string): Promise<Scene>;
  removeMember(sceneId: string, userId: string): Promise<Scene>;
  updatePresence(sceneId: string, selectedLayerId?: string | null, pointer?: PointInput | null): Promise<boolean>;
}

/** The GraphQL context every transport must provide. */
export interface ApiContext {
  api: SceneApi;
}
