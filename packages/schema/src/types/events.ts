import { Field, ID, Int, InterfaceType, ObjectType } from 'type-graphql';
import { SceneChangeKind } from '../enums.js';
import { Frame, Scene } from './scene.js';
import { Participant } from './identity.js';

/** The `type` tag of every event on a scene's stream. */
export const SceneEventType = {
  FrameRendered: 'FrameRendered',
  RenderStarted: 'RenderStarted',
  RenderCompleted: 'RenderCompleted',
  RenderFailed: 'RenderFailed',
  SceneChanged: 'SceneChanged',
  SceneDeleted: 'SceneDeleted',
  PresenceChanged: 'PresenceChanged',
} as const;
export type SceneEventType = (typeof SceneEventType)[keyof typeof SceneEventType];

@InterfaceType({
  description: "An event on a scene's stream. Every event has a sequence number; subscribe with `after` to resume.",
  resolveType: (value: { type?: string }) => value.type,
})
export abstract class SceneEvent {
  @Field(() => Int, { description: 'Sequence number, increasing by one per event of this scene.' })
  seq!: number;

  @Field(() => ID, { description: 'The scene.' })
  sceneId!: string;

  @Field(() => Int, { description: 'Scene revision the event belongs to.' })
  revision!: number;

  @Field(() => String, { description: 'When the event happened, ISO 8601.' })
  at!: string;
}

@ObjectType({ implements: SceneEvent, description: 'A step was painted: the canvas after it.' })
export class FrameRendered extends SceneEvent {
  @Field(() => Int, { description: 'Step: 0 is the background, k the canvas after the k-th layer.' })
  step!: number;

  @Field(() => ID, { nullable: true, description: 'The layer painted at this step (null for the background).' })
  layerId?: string | null;

  @Field(() => Int, { description: 'Last step of this render (the number of layers).' })
  lastStep!: number;

  @Field(() => Frame, { description: 'The canvas.' })
  frame!: Frame;

  @Field(() => Boolean, { description: 'True when the canvas came from the cache instead of inference.' })
  cached!: boolean;
}

@ObjectType({ implements: SceneEvent, description: 'A render began: steps fromStep..toStep will follow as FrameRendered events.' })
export class RenderStarted extends SceneEvent {
  @Field(() => Int, { description: 'First step that will be painted.' })
  fromStep!: number;

  @Field(() => Int, { description: 'Last step that will be painted.' })
  toStep!: number;
}

@ObjectType({ implements: SceneEvent, description: 'Every step of a revision is painted.' })
export class RenderCompleted extends SceneEvent {
  @Field(() => Frame, { description: 'The final canvas.' })
  frame!: Frame;

  @Field(() => Int, { description: 'Steps painted by inference.' })
  renderedSteps!: number;

  @Field(() => Int, { description: 'Steps served from the cache.' })
  cachedSteps!: number;

  @Field(() => Int, { description: 'Milliseconds from the edit to the last frame.' })
  durationMs!: number;
}

@ObjectType({ implements: SceneEvent, description: 'Painting a step failed. The specs are kept; `rerender` tries again.' })
export class RenderFailed extends SceneEvent {
  @Field(() => Int, { description: 'The step that failed.' })
  step!: number;

  @Field(() => ID, { nullable: true, description: 'The layer of that step (null for the background).' })
  layerId?: string | null;

  @Field(() => String, { description: 'Error code (see the ErrorCode list).' })
  code!: string;

  @Field(() => String, { description: 'What went wrong, for people.' })
  message!: string;
}

@ObjectType({ implements: SceneEvent, description: 'The scene changed: an edit was accepted.' })
export class SceneChanged extends SceneEvent {
  @Field(() => SceneChangeKind, { description: 'What kind of edit.' })
  change!: SceneChangeKind;

  @Field(() => ID, { nullable: true, description: 'The layer the edit touched, if any.' })
  layerId?: string | null;

  @Field(() => ID, { nullable: true, description: 'Who made the edit, when known.' })
  actorId?: string | null;

  @Field(() => Scene, { description: 'The scene as of this revision.' })
  scene!: Scene;
}

@ObjectType({ implements: SceneEvent, description: 'The scene was deleted; the stream ends after this event.' })
export class SceneDeleted extends SceneEvent {
  @Field(() => ID, { nullable: true, description: 'Who deleted it, when known.' })
  actorId?: string | null;
}

/** Every concrete event class, for schema building (`orphanedTypes`). */
export const SCENE_EVENT_TYPES = [FrameRendered, RenderStarted, RenderCompleted, RenderFailed, SceneChanged, SceneDeleted] as const;

@ObjectType({
  implements: SceneEvent,
  description:
    'Who is in the scene changed (joined, left, selected a layer, moved the pointer). Presence is not kept in the log: `seq` is the latest logged event\'s, and a resumed stream starts with the current presence.',
})
export class PresenceChanged extends SceneEvent {
  @Field(() => [Participant], { description: 'Everyone in the scene now.' })
  participants!: Participant[];
}

/** Every concrete event class including presence. */
export const ALL_SCENE_EVENT_TYPES = [...SCENE_EVENT_TYPES, PresenceChanged] as const;
