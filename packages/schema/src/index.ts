/**
 * @strata/schema: the GraphQL contract of the layered scene platform.
 * One public entry; the typed client documents live in `@strata/schema/client`.
 */
import 'reflect-metadata';

export { ErrorCode, ERROR_CODES, ERROR_SENTENCES, isErrorCode } from './errors.js';
export { MaskFormat, RenderState, RerollTarget, SceneChangeKind, ShapeKind, Visibility } from './enums.js';
export {
  AddObjectInput,
  BackgroundInput,
  BoxInput,
  CreateSceneInput,
  MaskInput,
  SceneEventsArgs,
  ScenesArgs,
  ShapeInput,
  UpdateObjectInput,
} from './inputs.js';
export { Background, Box, Frame, Layer, ObjectSpec, PageInfo, Scene, SceneConnection, Shape } from './types/scene.js';
export { Batching, Category, InferenceWorker, ModelInfo, Runtime, ShapePreset, Style } from './types/model.js';
export {
  FrameRendered,
  RenderCompleted,
  RenderFailed,
  RenderStarted,
  SceneChanged,
  SceneDeleted,
  SceneEvent,
  SceneEventType,
  PresenceChanged,
} from './types/events.js';
export { ApiToken, ApiTokenCreated, Invite, Member, Participant, Point, PointInput, Role, Session, User } from './types/identity.js';
export type { ApiContext, EditTarget, SceneApi, SceneEventPayload } from './api.js';
export { buildContractSchema } from './build.js';
export { printContractSchema } from './print.js';
