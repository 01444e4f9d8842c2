import type {
  FrameFieldsFragment,
  LayerFieldsFragment,
  RenderState,
  SceneEventsSubscription,
  SceneFieldsFragment,
} from '@strata/schema/client';

/** One event of a scene's stream, as the SceneEvents subscription delivers it. */
export type SceneEvent = SceneEventsSubscription['sceneEvents'];

/** What the editor shows of a scene: the latest snapshot folded with the events after it. */
export interface SceneView {
  scene: SceneFieldsFragment;
  /** Sequence number of the newest event (or snapshot) folded in. */
  seq: number;
  /** The newest canvas painted for the current revision: what the live canvas shows. */
  liveFrame: FrameFieldsFragment | null;
  /** Steps the current render paints, from its RenderStarted event. */
  range: { from: number; to: number } | null;
  /** The latest render failure of the current revision. */
  failure: { code: string; step: number } | null;
  deleted: boolean;
}

/** The canvas after `step` (0 = background), if painted; while the step is repainted, its previous canvas. */
export function frameAtStep(scene: SceneFieldsFragment, step: number): FrameFieldsFragment | null {
  if (step === 0) return scene.background.frame;
  return scene.layers[step - 1]?.frame ?? null;
}

/** The render state of `step` (0 = background). */
export function stateAtStep(scene: SceneFieldsFragment, step: number): RenderState | null {
  if (step === 0) return scene.background.renderState;
  return scene.layers[step - 1]?.renderState ?? null;
}

/** The newest canvas that is up to date: the top one when all are, else the one under the first stale step. */
function settledFrame(scene: SceneFieldsFragment): FrameFieldsFragment | null {
  if (scene.renderState === 'DONE' && scene.latestFrame) return scene.latestFrame;
  let frame: FrameFieldsFragment | null = null;
  for (let step = 0; step <= scene.layers.length; step++) {
    if (stateAtStep(scene, step) !== 'DONE') break;
    frame = frameAtStep(scene, step) ?? frame;
  }
  return frame;
}

/** The steps a render of `scene` still has to paint, as far as its step states tell. */
function staleRange(scene: SceneFieldsFragment): SceneView['range'] {
  if (scene.renderState === 'DONE') return null;
  for (let step = 0; step <= scene.layers.length; step++) {
    if (stateAtStep(scene, step) !== 'DONE') return { from: step, to: scene.layers.length };
  }
  return null;
}

/** The view of a freshly loaded scene. */
export function createSceneView(scene: SceneFieldsFragment): SceneView {
  return { scene, seq: scene.lastSeq, liveFrame: settledFrame(scene), range: staleRange(scene), failure: null, deleted: false };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A step being repainted keeps showing its previous canvas (marked by its state) until the new one comes. */
function keepStaleFrame<T extends { frame: FrameFieldsFragment | null }>(prev: T | undefined, next: T): T {
  return next.frame === null && prev?.frame ? { ...next, frame: prev.frame } : next;
}

/** `next`, reusing the previous layer objects that did not change, so their rows do not re-render. */
function shareLayers(prev: SceneFieldsFragment, next: SceneFieldsFragment): SceneFieldsFragment {
  const byId = new Map(prev.layers.map((layer) => [layer.id, layer]));
  const layers = next.layers.map((layer) => {
    const old = byId.get(layer.id);
    const kept = keepStaleFrame(old, layer);
    return old && sameJson(old, kept) ? old : kept;
  });
  const nextBackground = keepStaleFrame(prev.background, next.background);
  const background = sameJson(prev.background, nextBackground) ? prev.background : nextBackground;
  return { ...next, layers, background };
}

/** Fold in a full snapshot (a mutation's answer or a SceneChanged event) taken at `seq`. */
export function applySnapshot(view: SceneView, scene: SceneFieldsFragment, seq = scene.lastSeq): SceneView {
  if (seq < view.seq || scene.id !== view.scene.id) return view;
  const shared = shareLayers(view.scene, scene);
  const sameRevision = scene.revision === view.scene.revision;
  return {
    ...view,
    scene: shared,
    seq,
    liveFrame: scene.renderState === 'DONE' ? settledFrame(shared) : (view.liveFrame ?? settledFrame(shared)),
    // A render's range comes with RenderStarted; a snapshot taken after it (a mutation's answer) implies it.
    range: sameRevision ? view.range : staleRange(shared),
    failure: sameRevision ? view.failure : null,
  };
}

/** Set the state (and, when painted, the frame) of one step; other steps keep their objects. */
function updateStep(scene: SceneFieldsFragment, step: number, renderState: RenderState, frame?: FrameFieldsFragment): SceneFieldsFragment {
  if (step === 0) {
    return { ...scene, background: { ...scene.background, renderState, frame: frame ?? scene.background.frame } };
  }
  const layer = scene.layers[step - 1];
  if (!layer || (layer.renderState === renderState && !frame)) return scene;
  const next: LayerFieldsFragment = { ...layer, renderState, frame: frame ?? layer.frame };
  return { ...scene, layers: scene.layers.map((l) => (l === layer ? next : l)) };
}

function markRange(scene: SceneFieldsFragment, from: number, to: number): SceneFieldsFragment {
  let next: SceneFieldsFragment = { ...scene, renderState: 'RENDERING' };
  for (let step = from; step <= to; step++) next = updateStep(next, step, step === from ? 'RENDERING' : 'PENDING');
  return next;
}

function applyRenderEvent(view: SceneView, event: SceneEvent): SceneView {
  const { scene } = view;
  switch (event.__typename) {
    case 'RenderStarted':
      return {
        ...view,
        scene: markRange(scene, event.fromStep, event.toStep),
        range: { from: event.fromStep, to: event.toStep },
        failure: null,
      };
    case 'FrameRendered': {
      let next = updateStep(scene, event.step, 'DONE', event.frame);
      const following = stateAtStep(next, event.step + 1);
      if (following === 'PENDING') next = updateStep(next, event.step + 1, 'RENDERING');
      if (event.step === event.lastStep) next = { ...next, latestFrame: event.frame };
      // The live canvas follows the frame just painted, unless every step is already painted: a
      // snapshot can be ahead of its own `seq` (a mutation's answer reads the render index, which holds
      // cached canvases before the render has announced them), and the announcements that follow must
      // not take the canvas back down to a lower step while the progress says "all painted".
      const allPainted = Array.from({ length: next.layers.length + 1 }, (_, s) => s).every((s) => stateAtStep(next, s) === 'DONE');
      return { ...view, scene: next, liveFrame: allPainted ? (settledFrame(next) ?? event.frame) : event.frame };
    }
    case 'RenderCompleted':
      return {
        ...view,
        scene: { ...scene, renderState: 'DONE', latestFrame: event.frame },
        liveFrame: event.frame,
        range: null,
      };
    case 'RenderFailed':
      return {
        ...view,
        scene: { ...updateStep(scene, event.step, 'FAILED'), renderState: 'FAILED' },
        range: null,
        failure: { code: event.code, step: event.step },
      };
    default:
      return view;
  }
}

/** Fold one stream event into the view. Logged events already folded in (by `seq`) change nothing. */
export function applyEvent(view: SceneView, event: SceneEvent): SceneView {
  // Presence is not in the log (it repeats the latest seq) and is not part of the scene's pixels.
  if (event.__typename === 'PresenceChanged' || event.seq <= view.seq) return view;
  switch (event.__typename) {
    case 'SceneChanged':
      return applySnapshot(view, event.scene, event.seq);
    case 'SceneDeleted':
      return { ...view, seq: event.seq, deleted: true };
    default: {
      // Render events of an older revision describe canvases that are already stale.
      const folded = event.revision === view.scene.revision ? applyRenderEvent(view, event) : view;
      return { ...folded, seq: event.seq };
    }
  }
}
