import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { RenderState, ShapeKind, Visibility } from '../enums.js';
import { Member, Participant, Role } from './identity.js';

@ObjectType({ description: 'A rendered canvas: the PNG image of one step of a scene. Immutable and content-addressed.' })
export class Frame {
  @Field(() => ID, { description: 'Content hash (sha256 of the PNG bytes); also the name in `url`.' })
  id!: string;

  @Field(() => Int, { description: 'Step this canvas belongs to: 0 is the background, k is after the k-th layer.' })
  step!: number;

  @Field(() => Int, { description: 'Width in pixels (the model resolution).' })
  width!: number;

  @Field(() => Int, { description: 'Height in pixels (the model resolution).' })
  height!: number;

  @Field(() => String, { description: 'Relative HTTP URL of the PNG, served with immutable cache headers.' })
  url!: string;
}

@ObjectType({ description: 'A box on the canvas, in normalised coordinates: (0,0) is the top left, (1,1) the bottom right.' })
export class Box {
  @Field(() => Float, { description: 'Left edge, 0..1.' })
  x!: number;

  @Field(() => Float, { description: 'Top edge, 0..1.' })
  y!: number;

  @Field(() => Float, { description: 'Width, >0..1; x + w <= 1.' })
  w!: number;

  @Field(() => Float, { description: 'Height, >0..1; y + h <= 1.' })
  h!: number;
}

@ObjectType({ description: "An object's shape: a generated mask, a preset silhouette, or a user-drawn mask." })
export class Shape {
  @Field(() => ShapeKind, { description: 'How the mask is made.' })
  kind!: ShapeKind;

  @Field(() => Int, { nullable: true, description: 'Seed of the shape generator (GENERATED only).' })
  seed?: number | null;

  @Field(() => String, { nullable: true, description: 'Preset id (PRESET only).' })
  preset?: string | null;

  @Field(() => String, { nullable: true, description: 'URL of the drawn mask as a PNG (DRAWN only).' })
  maskUrl?: string | null;

  @Field(() => Int, { nullable: true, description: 'Width of the drawn mask in pixels (DRAWN only).' })
  maskWidth?: number | null;

  @Field(() => Int, { nullable: true, description: 'Height of the drawn mask in pixels (DRAWN only).' })
  maskHeight?: number | null;
}

@ObjectType({ description: 'What a layer paints: its category, box, shape and appearance seed.' })
export class ObjectSpec {
  @Field(() => String, { description: 'Category id, one of `model.categories`.' })
  category!: string;

  @Field(() => Box, { description: 'Where the object goes; the shape mask is fitted into this box.' })
  box!: Box;

  @Field(() => Shape, { description: "The object's shape." })
  shape!: Shape;

  @Field(() => Int, { description: 'Seed of the appearance noise; same seed, same look.' })
  appearanceSeed!: number;
}

@ObjectType({ description: 'One foreground object in the stack of a scene.' })
export class Layer {
  @Field(() => ID, { description: 'Stable id of the layer (survives moves and edits).' })
  id!: string;

  @Field(() => Int, { description: 'Position in the stack, 0 = painted first (just above the background).' })
  index!: number;

  @Field(() => Int, { description: 'The render step that paints this layer (index + 1).' })
  step!: number;

  @Field(() => ObjectSpec, { description: 'What this layer paints.' })
  object!: ObjectSpec;

  @Field(() => Boolean, { description: 'Hidden layers are skipped: the canvas after them is the canvas before.' })
  visible!: boolean;

  @Field(() => RenderState, { description: "State of this layer's canvas for the scene's latest revision." })
  renderState!: RenderState;

  @Field(() => Frame, { nullable: true, description: 'The canvas after this layer, once rendered for the latest revision.' })
  frame?: Frame | null;

  @Field(() => Int, { description: 'Scene revision at which this layer last changed (base edits on it to detect conflicts).' })
  revision!: number;
}

@ObjectType({ description: "The scene's background: a style and a seed for the background generator." })
export class Background {
  @Field(() => String, { description: 'Style id, one of `model.styles`.' })
  style!: string;

  @Field(() => Int, { description: 'Seed of the background noise.' })
  seed!: number;

  @Field(() => RenderState, { description: 'State of the background canvas (step 0).' })
  renderState!: RenderState;

  @Field(() => Frame, { nullable: true, description: 'The background canvas (step 0), once rendered.' })
  frame?: Frame | null;
}

@ObjectType({ description: 'A scene: a background and an ordered stack of object layers, rendered step by step.' })
export class Scene {
  @Field(() => ID, { description: 'Scene id.' })
  id!: string;

  @Field(() => String, { description: 'Title shown in the gallery.' })
  title!: string;

  @Field(() => ID, { nullable: true, description: 'Id of the owning user, when the scene has one.' })
  ownerId?: string | null;

  @Field(() => Visibility, { description: 'Who may see the scene.' })
  visibility!: Visibility;

  @Field(() => Int, { description: 'Revision number; every accepted edit increments it.' })
  revision!: number;

  @Field(() => Int, { description: 'Canvas size in pixels (square).' })
  resolution!: number;

  @Field(() => Background, { description: 'The background (step 0).' })
  background!: Background;

  @Field(() => [Layer], { description: 'The object layers, bottom (painted first) to top.' })
  layers!: Layer[];

  @Field(() => RenderState, { description: 'DONE when every step is up to date with the latest revision.' })
  renderState!: RenderState;

  @Field(() => Frame, { nullable: true, description: 'The latest complete canvas (after the top layer) for the latest revision.' })
  latestFrame?: Frame | null;

  @Field(() => Int, { description: 'Sequence number of the newest event on this scene\'s stream; subscribe with `after: lastSeq`.' })
  lastSeq!: number;

  @Field(() => String, { description: 'Model version the canvases were painted with.' })
  modelVersion!: string;

  @Field(() => String, { description: 'Creation time, ISO 8601.' })
  createdAt!: string;

  @Field(() => String, { description: 'Time of the latest accepted edit, ISO 8601.' })
  updatedAt!: string;

  @Field(() => Role, { nullable: true, description: "The caller's role (null for anonymous viewers of a public or link-shared scene)." })
  myRole?: Role | null;

  @Field(() => Boolean, { description: "Whether the caller has an edit of their own to undo (as of this read; not recorded in events)." })
  canUndo!: boolean;

  @Field(() => Boolean, { description: 'Whether the caller has an undone edit to redo (as of this read; not recorded in events).' })
  canRedo!: boolean;

  @Field(() => [Member], { description: 'The owner and the invited members.' })
  members!: Member[];

  @Field(() => [Participant], { description: 'Who is connected to the scene now.' })
  participants!: Participant[];

  @Field(() => GraphQLJSONObject, { description: 'The scene as a portable JSON document (format `strata-scene/1`), for export and `importScene`.' })
  document!: Record<string, unknown>;
}

@ObjectType({ description: 'Relay-style page information.' })
export class PageInfo {
  @Field(() => Boolean, { description: 'True when more items follow `endCursor`.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item; pass it as `after` for the next page.' })
  endCursor?: string | null;
}

@ObjectType({ description: 'A page of scenes, newest first.' })
export class SceneConnection {
  @Field(() => [Scene], { description: 'The scenes of this page.' })
  nodes!: Scene[];

  @Field(() => PageInfo, { description: 'Where this page ends.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'How many scenes the caller can see in all.' })
  totalCount!: number;
}
