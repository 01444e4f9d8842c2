import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { ApiContext, SceneEventPayload } from './api.js';
import { RerollTarget, Visibility } from './enums.js';
import { AddObjectInput, BackgroundInput, CreateSceneInput, SceneEventsArgs, ScenesArgs, UpdateObjectInput } from './inputs.js';
import { SceneEvent } from './types/events.js';
import { ModelInfo, Runtime } from './types/model.js';
import { Frame, Scene, SceneConnection } from './types/scene.js';
import { ApiToken, ApiTokenCreated, Invite, PointInput, Role, Session, User } from './types/identity.js';

const BASE_REVISION = {
  nullable: true,
  description: 'Revision the edit is based on. An edit of a layer changed after this revision fails with CONFLICT.',
} as const;

@Resolver()
export class SceneQueryResolver {
  @Query(() => Scene, { description: 'One scene. NOT_FOUND when it does not exist or the caller cannot see it.' })
  scene(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<Scene> {
    return ctx.api.scene(id);
  }

  @Query(() => SceneConnection, { description: 'The scenes the caller can see, newest first.' })
  scenes(@Args(() => ScenesArgs) args: ScenesArgs, @Ctx() ctx: ApiContext): Promise<SceneConnection> {
    return ctx.api.scenes(args);
  }

  @Query(() => ModelInfo, { description: 'The generators: categories, styles, presets, resolution and limits.' })
  model(@Ctx() ctx: ApiContext): ModelInfo {
    return ctx.api.model();
  }

  @Query(() => Runtime, { description: 'The render runtime: execution provider, model version, queue depth.' })
  runtime(@Ctx() ctx: ApiContext): Promise<Runtime> {
    return ctx.api.runtime();
  }
}

@Resolver(() => Frame)
export class FrameFieldResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description: 'The PNG inline, base64. Ask for it only when you cannot fetch `url`: it is a third larger than the file.',
  })
  pngBase64(@Root() frame: Frame, @Ctx() ctx: ApiContext): Promise<string | null> {
    return ctx.api.framePng(frame);
  }
}

@Resolver()
export class SceneMutationResolver {
  @Mutation(() => Scene, { description: 'Create a scene; its background starts rendering at once.' })
  createScene(@Arg('input', () => CreateSceneInput) input: CreateSceneInput, @Ctx() ctx: ApiContext): Promise<Scene> {
    return ctx.api.createScene(input);
  }

  @Mutation(() => Scene, { description: 'Create a scene from a document exported by `Scene.document`.' })
  importScene(
    @Arg('document', () => GraphQLJSONObject) document: Record<string, unknown>,
    @Arg('title', () => String, { nullable: true, description: 'Title override.' }) title: string | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.importScene(document, title);
  }

  @Mutation(() => Scene, { description: 'Rename a scene.' })
  renameScene(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('title', () => String) title: string,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.renameScene(sceneId, title);
  }

  @Mutation(() => Scene, { description: "Change a scene's visibility (owner only)." })
  setVisibility(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('visibility', () => Visibility) visibility: Visibility,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.setVisibility(sceneId, visibility);
  }

  @Mutation(() => Scene, { description: 'Copy a scene (specs and seeds; the copy renders from the cache).' })
  duplicateScene(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('title', () => String, { nullable: true, description: 'Title of the copy.' }) title: string | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.duplicateScene(sceneId, title);
  }

  @Mutation(() => ID, { description: 'Delete a scene; returns its id. Subscribers receive SceneDeleted.' })
  deleteScene(@Arg('sceneId', () => ID) sceneId: string, @Ctx() ctx: ApiContext): Promise<string> {
    return ctx.api.deleteScene(sceneId);
  }

  @Mutation(() => Scene, { description: 'Change the background style or seed; every step re-renders.' })
  setBackground(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('input', () => BackgroundInput) input: BackgroundInput,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.setBackground({ sceneId, baseRevision }, input);
  }

  @Mutation(() => Scene, { description: 'Add an object layer; steps from its position on re-render.' })
  addObject(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('input', () => AddObjectInput) input: AddObjectInput,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.addObject({ sceneId, baseRevision }, input);
  }

  @Mutation(() => Scene, { description: 'Move, resize, reshape, restyle or reroll an object; only its layer and those above re-render.' })
  updateObject(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('layerId', () => ID) layerId: string,
    @Arg('input', () => UpdateObjectInput) input: UpdateObjectInput,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.updateObject({ sceneId, baseRevision }, layerId, input);
  }

  @Mutation(() => Scene, { description: 'Give an object a new random appearance (or generated-shape) seed.' })
  rerollObject(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('layerId', () => ID) layerId: string,
    @Arg('target', () => RerollTarget, { defaultValue: RerollTarget.APPEARANCE, description: 'Which seed to replace.' })
    target: RerollTarget,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.rerollObject({ sceneId, baseRevision }, layerId, target);
  }

  @Mutation(() => Scene, { description: 'Remove an object layer.' })
  removeObject(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('layerId', () => ID) layerId: string,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.removeObject({ sceneId, baseRevision }, layerId);
  }

  @Mutation(() => Scene, { description: 'Move a layer to another position in the stack.' })
  moveLayer(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('layerId', () => ID) layerId: string,
    @Arg('toIndex', () => Int, { description: 'New position, 0 = bottom.' }) toIndex: number,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.moveLayer({ sceneId, baseRevision }, layerId, toIndex);
  }

  @Mutation(() => Scene, { description: 'Hide or show a layer.' })
  setLayerVisibility(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('layerId', () => ID) layerId: string,
    @Arg('visible', () => Boolean) visible: boolean,
    @Arg('baseRevision', () => Int, BASE_REVISION) baseRevision: number | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.setLayerVisibility({ sceneId, baseRevision }, layerId, visible);
  }

  @Mutation(() => Scene, { description: 'Render every step again (after a failure, say); cached canvases are reused.' })
  rerender(@Arg('sceneId', () => ID) sceneId: string, @Ctx() ctx: ApiContext): Promise<Scene> {
    return ctx.api.rerender(sceneId);
  }

  @Mutation(() => Scene, { description: "Undo the caller's most recent edit of this scene (others' edits are kept)." })
  undo(@Arg('sceneId', () => ID) sceneId: string, @Ctx() ctx: ApiContext): Promise<Scene> {
    return ctx.api.undo(sceneId);
  }

  @Mutation(() => Scene, { description: "Redo the caller's most recently undone edit." })
  redo(@Arg('sceneId', () => ID) sceneId: string, @Ctx() ctx: ApiContext): Promise<Scene> {
    return ctx.api.redo(sceneId);
  }
}

@Resolver()
export class SceneSubscriptionResolver {
  @Subscription(() => SceneEvent, {
    description:
      "A scene's event stream: edits, render progress and every canvas as it is painted. With `after`, first replays every event after that sequence number, then goes live.",
    subscribe: ({ args, context }) => (context as ApiContext).api.sceneEvents(args as SceneEventsArgs),
  })
  sceneEvents(@Root() event: SceneEventPayload, @Args(() => SceneEventsArgs) _args: SceneEventsArgs): SceneEventPayload {
    return event;
  }
}

@Resolver()
export class IdentityResolver {
  @Query(() => User, { nullable: true, description: 'Who the caller is (null without a session or token).' })
  me(@Ctx() ctx: ApiContext): User | null {
    return ctx.api.me();
  }

  @Query(() => [ApiToken], { description: "The caller's personal API tokens." })
  apiTokens(@Ctx() ctx: ApiContext): Promise<ApiToken[]> {
    return ctx.api.apiTokens();
  }

  @Mutation(() => Session, {
    description: 'Get a guest identity (name and colour) and its signed session token. Browsers also receive it as a cookie.',
  })
  startSession(
    @Arg('displayName', () => String, { nullable: true, description: 'Name to show (a random one when omitted).' })
    displayName: string | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Session> {
    return ctx.api.startSession(displayName);
  }

  @Mutation(() => Session, { description: "Change the caller's name or colour; returns a new session token." })
  updateProfile(
    @Arg('displayName', () => String, { nullable: true, description: 'New name.' }) displayName: string | null | undefined,
    @Arg('color', () => String, { nullable: true, description: 'New colour, #rrggbb.' }) color: string | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<Session> {
    return ctx.api.updateProfile(displayName, color);
  }

  @Mutation(() => Boolean, {
    description:
      "End the caller's session: its token stops working (on every replica within seconds) and browsers get the cookie cleared. False when the request carried no session (anonymous, or an API token: revoke those with revokeApiToken).",
  })
  signOut(@Ctx() ctx: ApiContext): Promise<boolean> {
    return ctx.api.signOut();
  }

  @Mutation(() => ApiTokenCreated, { description: 'Create a personal API token that acts as the caller.' })
  createApiToken(
    @Arg('name', () => String, { description: 'What it is for.' }) name: string,
    @Ctx() ctx: ApiContext,
  ): Promise<ApiTokenCreated> {
    return ctx.api.createApiToken(name);
  }

  @Mutation(() => ID, { description: "Revoke one of the caller's API tokens; requests with it fail from now on." })
  revokeApiToken(@Arg('id', () => ID) id: string, @Ctx() ctx: ApiContext): Promise<string> {
    return ctx.api.revokeApiToken(id);
  }
}

@Resolver()
export class SharingResolver {
  @Query(() => [Invite], { description: "A scene's open invitation links (owner only)." })
  invites(@Arg('sceneId', () => ID) sceneId: string, @Ctx() ctx: ApiContext): Promise<Invite[]> {
    return ctx.api.invites(sceneId);
  }

  @Mutation(() => Invite, { description: 'Create an invitation link granting EDITOR or VIEWER (owner only).' })
  createInvite(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('role', () => Role, { description: 'EDITOR or VIEWER.' }) role: Role,
    @Ctx() ctx: ApiContext,
  ): Promise<Invite> {
    return ctx.api.createInvite(sceneId, role);
  }

  @Mutation(() => ID, { description: 'Revoke an invitation link (owner only); members who joined with it stay until removed.' })
  revokeInvite(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('inviteId', () => ID, { description: 'The invite.' }) inviteId: string,
    @Ctx() ctx: ApiContext,
  ): Promise<string> {
    return ctx.api.revokeInvite(sceneId, inviteId);
  }

  @Mutation(() => Scene, { description: 'Join a scene through an invitation link; the caller becomes a member with its role.' })
  acceptInvite(@Arg('token', () => String, { description: 'The invite token.' }) token: string, @Ctx() ctx: ApiContext): Promise<Scene> {
    return ctx.api.acceptInvite(token);
  }

  @Mutation(() => Scene, { description: 'Remove a member (owner only); their open streams of the scene end.' })
  removeMember(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('userId', () => ID, { description: 'The member.' }) userId: string,
    @Ctx() ctx: ApiContext,
  ): Promise<Scene> {
    return ctx.api.removeMember(sceneId, userId);
  }

  @Mutation(() => Boolean, {
    description: "Share the caller's selection and pointer with everyone in the scene (throttled; the latest wins).",
  })
  updatePresence(
    @Arg('sceneId', () => ID) sceneId: string,
    @Arg('selectedLayerId', () => ID, { nullable: true, description: 'Selected layer, or null.' })
    selectedLayerId: string | null | undefined,
    @Arg('pointer', () => PointInput, { nullable: true, description: 'Pointer on the canvas, or null when it left the canvas.' })
    pointer: PointInput | null | undefined,
    @Ctx() ctx: ApiContext,
  ): Promise<boolean> {
    return ctx.api.updatePresence(sceneId, selectedLayerId, pointer);
  }
}

/** Every resolver class of the contract, for `buildSchema`. */
export const RESOLVERS = [
  SceneQueryResolver,
  FrameFieldResolver,
  SceneMutationResolver,
  SceneSubscriptionResolver,
  IdentityResolver,
  SharingResolver,
] as const;
