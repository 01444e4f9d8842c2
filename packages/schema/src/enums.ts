import { registerEnumType } from 'type-graphql';

/** Who may see a scene. */
export enum Visibility {
  PRIVATE = 'PRIVATE',
  LINK = 'LINK',
  PUBLIC = 'PUBLIC',
}
registerEnumType(Visibility, {
  name: 'Visibility',
  description: 'Who may see a scene.',
  valuesConfig: {
    PRIVATE: { description: 'Only the owner and invited members.' },
    LINK: { description: 'Anyone who has the link.' },
    PUBLIC: { description: 'Everyone; listed in public galleries.' },
  },
});

/** How an object's shape mask is made. */
export enum ShapeKind {
  GENERATED = 'GENERATED',
  PRESET = 'PRESET',
  DRAWN = 'DRAWN',
}
registerEnumType(ShapeKind, {
  name: 'ShapeKind',
  description: "How an object's shape (its mask) is made.",
  valuesConfig: {
    GENERATED: { description: 'Painted by the shape generator from the category and a seed.' },
    PRESET: { description: 'One of the server-defined silhouettes (see `model.shapePresets`).' },
    DRAWN: { description: 'A mask drawn by the user and uploaded with the edit.' },
  },
});

/** The render state of a layer or of a whole scene. */
export enum RenderState {
  PENDING = 'PENDING',
  RENDERING = 'RENDERING',
  DONE = 'DONE',
  FAILED = 'FAILED',
}
registerEnumType(RenderState, {
  name: 'RenderState',
  description: 'Where a layer (or a scene) is in rendering.',
  valuesConfig: {
    PENDING: { description: 'Waiting for an earlier step or for the scheduler.' },
    RENDERING: { description: 'Being painted now.' },
    DONE: { description: 'Its canvas is up to date with the latest revision.' },
    FAILED: { description: 'Painting failed; see the RenderFailed event.' },
  },
});

/** What a reroll changes. */
export enum RerollTarget {
  APPEARANCE = 'APPEARANCE',
  SHAPE = 'SHAPE',
}
registerEnumType(RerollTarget, {
  name: 'RerollTarget',
  description: 'Which seed of an object a reroll replaces.',
  valuesConfig: {
    APPEARANCE: { description: 'A new appearance seed: same place and shape, new look.' },
    SHAPE: { description: 'A new generated-shape seed (the shape becomes GENERATED).' },
  },
});

/** The raw format of an uploaded mask. */
export enum MaskFormat {
  PNG = 'PNG',
  A8 = 'A8',
}
registerEnumType(MaskFormat, {
  name: 'MaskFormat',
  description: 'Encoding of an uploaded mask.',
  valuesConfig: {
    PNG: { description: 'A PNG file (grey, grey+alpha, RGB or RGBA); a pixel is inside when its alpha (or luminance, without alpha) is at least 128.' },
    A8: { description: 'Raw bytes, one per pixel, row-major; inside when at least 128.' },
  },
});

/** Which change a SceneChanged event reports. */
export enum SceneChangeKind {
  CREATED = 'CREATED',
  RENAMED = 'RENAMED',
  BACKGROUND_SET = 'BACKGROUND_SET',
  OBJECT_ADDED = 'OBJECT_ADDED',
  OBJECT_UPDATED = 'OBJECT_UPDATED',
  OBJECT_REMOVED = 'OBJECT_REMOVED',
  LAYER_MOVED = 'LAYER_MOVED',
  LAYER_VISIBILITY = 'LAYER_VISIBILITY',
  RERENDER = 'RERENDER',
  UNDO = 'UNDO',
  REDO = 'REDO',
  VISIBILITY = 'VISIBILITY',
  MEMBERS = 'MEMBERS',
}
registerEnumType(SceneChangeKind, {
  name: 'SceneChangeKind',
  description: 'The kind of edit a SceneChanged event reports.',
  valuesConfig: {
    CREATED: { description: 'The scene was created (or imported or duplicated).' },
    RENAMED: { description: 'The title changed.' },
    BACKGROUND_SET: { description: 'The background style or seed changed.' },
    OBJECT_ADDED: { description: 'A layer was added.' },
    OBJECT_UPDATED: { description: "A layer's object spec changed (move, resize, reshape, restyle, reroll)." },
    OBJECT_REMOVED: { description: 'A layer was removed.' },
    LAYER_MOVED: { description: 'A layer moved in the stack.' },
    LAYER_VISIBILITY: { description: 'A layer was hidden or shown.' },
    RERENDER: { description: 'A full re-render was requested.' },
    UNDO: { description: "An actor undid one of their own edits." },
    REDO: { description: "An actor redid one of their own edits." },
    VISIBILITY: { description: "The scene's visibility changed." },
    MEMBERS: { description: 'Someone joined, was invited, or was removed.' },
  },
});
