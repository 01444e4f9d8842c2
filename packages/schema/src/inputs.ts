import { ArgsType, Field, Float, ID, InputType, Int } from 'type-graphql';
import { MaskFormat, ShapeKind, Visibility } from './enums.js';

@InputType({ description: 'A box in normalised canvas coordinates; must lie inside the canvas.' })
export class BoxInput {
  @Field(() => Float, { description: 'Left edge, 0..1.' })
  x!: number;

  @Field(() => Float, { description: 'Top edge, 0..1.' })
  y!: number;

  @Field(() => Float, { description: 'Width; at least two pixels of the canvas, and x + w <= 1.' })
  w!: number;

  @Field(() => Float, { description: 'Height; at least two pixels of the canvas, and y + h <= 1.' })
  h!: number;
}

@InputType({ description: 'A user-drawn mask.' })
export class MaskInput {
  @Field(() => MaskFormat, { description: 'How `data` is encoded.', defaultValue: MaskFormat.PNG })
  format!: MaskFormat;

  @Field(() => Int, { nullable: true, description: 'Width in pixels (required for A8; read from the file for PNG).' })
  width?: number | null;

  @Field(() => Int, { nullable: true, description: 'Height in pixels (required for A8; read from the file for PNG).' })
  height?: number | null;

  @Field(() => String, { description: 'The mask bytes, base64. Pixels are inside the object at >= 128.' })
  data!: string;
}

@InputType({ description: "An object's shape. Set the field that matches `kind`." })
export class ShapeInput {
  @Field(() => ShapeKind, { description: 'How the mask is made.' })
  kind!: ShapeKind;

  @Field(() => Int, { nullable: true, description: 'GENERATED: seed of the shape generator (random when omitted).' })
  seed?: number | null;

  @Field(() => String, { nullable: true, description: 'PRESET: a preset id from `model.shapePresets`.' })
  preset?: string | null;

  @Field(() => MaskInput, { nullable: true, description: 'DRAWN: the mask.' })
  mask?: MaskInput | null;
}

@InputType({ description: 'A new scene.' })
export class CreateSceneInput {
  @Field(() => String, { description: 'Title, 1 to 120 characters.' })
  title!: string;

  @Field(() => String, { nullable: true, description: 'Background style id (the first style when omitted).' })
  style?: string | null;

  @Field(() => Int, { nullable: true, description: 'Background seed, 0 .. 2^31-1 (random when omitted).' })
  seed?: number | null;

  @Field(() => Visibility, { nullable: true, description: 'Who may see it (PRIVATE when omitted).' })
  visibility?: Visibility | null;
}

@InputType({ description: 'A new background; omitted fields keep their value.' })
export class BackgroundInput {
  @Field(() => String, { nullable: true, description: 'Style id.' })
  style?: string | null;

  @Field(() => Int, { nullable: true, description: 'Seed, 0 .. 2^31-1.' })
  seed?: number | null;
}

@InputType({ description: 'A new object layer.' })
export class AddObjectInput {
  @Field(() => String, { description: 'Category id, one of `model.categories`.' })
  category!: string;

  @Field(() => BoxInput, { description: 'Where the object goes.' })
  box!: BoxInput;

  @Field(() => ShapeInput, { nullable: true, description: 'Its shape (a generated shape with a random seed when omitted).' })
  shape?: ShapeInput | null;

  @Field(() => Int, { nullable: true, description: 'Appearance seed, 0 .. 2^31-1 (random when omitted).' })
  appearanceSeed?: number | null;

  @Field(() => Int, { nullable: true, description: 'Stack position to insert at (on top when omitted).' })
  index?: number | null;
}

@InputType({ description: 'Changes to an object; omitted fields keep their value.' })
export class UpdateObjectInput {
  @Field(() => String, { nullable: true, description: 'New category.' })
  category?: string | null;

  @Field(() => BoxInput, { nullable: true, description: 'New box (move or resize).' })
  box?: BoxInput | null;

  @Field(() => ShapeInput, { nullable: true, description: 'New shape.' })
  shape?: ShapeInput | null;

  @Field(() => Int, { nullable: true, description: 'New appearance seed.' })
  appearanceSeed?: number | null;
}

@ArgsType()
export class ScenesArgs {
  @Field(() => Int, { defaultValue: 20, description: 'Page size, 1 to 100.' })
  first!: number;

  @Field(() => String, { nullable: true, description: 'Cursor from `pageInfo.endCursor`.' })
  after?: string | null;
}

@ArgsType()
export class SceneEventsArgs {
  @Field(() => ID, { description: 'The scene to follow.' })
  sceneId!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Replay every event with a sequence number above this one first, then go live. Omit to receive only new events.',
  })
  after?: number | null;
}
