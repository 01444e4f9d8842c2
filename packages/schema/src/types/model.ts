import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A foreground category the generators can paint.' })
export class Category {
  @Field(() => ID, { description: 'Stable id, used in inputs.' })
  id!: string;

  @Field(() => String, { description: 'Human-readable name.' })
  label!: string;
}

@ObjectType({ description: 'A background style (time of day).' })
export class Style {
  @Field(() => ID, { description: 'Stable id, used in inputs.' })
  id!: string;

  @Field(() => String, { description: 'Human-readable name.' })
  label!: string;
}

@ObjectType({ description: 'A server-defined silhouette usable as an object shape.' })
export class ShapePreset {
  @Field(() => ID, { description: 'Preset id, used in `ShapeInput.preset`.' })
  id!: string;

  @Field(() => String, { description: 'Human-readable name.' })
  label!: string;

  @Field(() => String, { description: 'URL of the preset mask as a PNG.' })
  url!: string;
}

@ObjectType({ description: 'The generators the server paints with, and the limits of the API.' })
export class ModelInfo {
  @Field(() => String, { description: 'Version of the model set (from the manifest).' })
  version!: string;

  @Field(() => Int, { description: 'Canvas resolution in pixels (square).' })
  resolution!: number;

  @Field(() => [Category], { description: 'Foreground categories, in model order.' })
  categories!: Category[];

  @Field(() => [Style], { description: 'Background styles, in model order.' })
  styles!: Style[];

  @Field(() => [ShapePreset], { description: 'Preset silhouettes.' })
  shapePresets!: ShapePreset[];

  @Field(() => Int, { description: 'Most layers a scene may have.' })
  maxLayers!: number;

  @Field(() => Int, { description: 'Largest side, in pixels, of a user-drawn mask.' })
  maxMaskSize!: number;

  @Field(() => String, { description: 'Where and how the models were trained (device, resolution).' })
  trainedOn!: string;
}

@ObjectType({ description: 'Batching settings of the render scheduler.' })
export class Batching {
  @Field(() => Boolean, { description: 'Whether steps of different scenes are batched into one inference call.' })
  enabled!: boolean;

  @Field(() => Int, { description: 'Most steps in one batch.' })
  maxBatch!: number;

  @Field(() => Float, { description: 'Longest a step waits for a batch to fill, in milliseconds.' })
  maxWaitMs!: number;
}

@ObjectType({ description: 'An inference worker: a process (or, embedded, the server itself) that runs the generators.' })
export class InferenceWorker {
  @Field(() => String, { description: "The worker's id (its name in the cluster)." })
  id!: string;

  @Field(() => String, { description: 'Host it runs on.' })
  host!: string;

  @Field(() => String, { description: 'Execution provider its sessions run on: `cpu`, `webgpu` or `cuda`.' })
  executionProvider!: string;

  @Field(() => String, { description: 'Model version it loaded.' })
  modelVersion!: string;

  @Field(() => Int, { description: 'Inference sessions it runs at once.' })
  threads!: number;

  @Field(() => String, { description: 'When it started (ISO 8601).' })
  startedAt!: string;

  @Field(() => String, { description: 'Its last heartbeat (ISO 8601); the start time for the embedded worker pool.' })
  seenAt!: string;
}

@ObjectType({ description: 'The render runtime: execution provider, model and queue.' })
export class Runtime {
  @Field(() => String, {
    description: 'ONNX Runtime execution provider(s) in use: `cpu`, `webgpu`, `cuda`, or several joined by `+` when workers differ.',
  })
  executionProvider!: string;

  @Field(() => String, { description: 'Model version loaded.' })
  modelVersion!: string;

  @Field(() => Int, { description: 'Inference sessions available (worker threads, summed over the live worker processes in a cluster).' })
  workers!: number;

  @Field(() => [InferenceWorker], { description: 'The live inference workers.' })
  inferenceWorkers!: InferenceWorker[];

  @Field(() => Int, { description: 'Steps waiting in the scheduler.' })
  queueDepth!: number;

  @Field(() => Int, { description: 'Steps being inferred now.' })
  inFlight!: number;

  @Field(() => Int, { description: 'Steps rendered since start (inference runs, not cache hits).' })
  stepsRendered!: number;

  @Field(() => Int, { description: 'Steps dropped because a newer revision made them stale.' })
  stepsDropped!: number;

  @Field(() => Batching, { description: 'Batching settings.' })
  batching!: Batching;

  @Field(() => Float, { description: 'Seconds since the server started.' })
  uptimeSeconds!: number;
}
