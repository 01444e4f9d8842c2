import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FrameFieldsFragment, LayerFieldsFragment, SceneFieldsFragment } from '@strata/schema/client';
import { applyEvent, applySnapshot, createSceneView, frameAtStep, type SceneEvent } from './sceneView';

const frame = (step: number, id = `f${step}`): FrameFieldsFragment => ({ id, step, width: 64, height: 64, url: `/frames/${id}.png` });

function layer(index: number, over: Partial<LayerFieldsFragment> = {}): LayerFieldsFragment {
  return {
    id: `L${index}`,
    index,
    step: index + 1,
    visible: true,
    renderState: 'DONE',
    revision: 1,
    object: {
      category: 'tree',
      appearanceSeed: index,
      box: { x: 0.1, y: 0.1, w: 0.2, h: 0.2 },
      shape: { kind: 'GENERATED', seed: 1, preset: null, maskUrl: null, maskWidth: null, maskHeight: null },
    },
    frame: frame(index + 1),
    ...over,
  };
}

function scene(over: Partial<SceneFieldsFragment> = {}): SceneFieldsFragment {
  return {
    id: 's',
    title: 'Scene',
    ownerId: null,
    visibility: 'PRIVATE',
    revision: 3,
    resolution: 64,
    renderState: 'DONE',
    lastSeq: 10,
    modelVersion: 'v',
    myRole: 'OWNER',
    createdAt: '',
    updatedAt: '',
    background: { style: 'day', seed: 1, renderState: 'DONE', frame: frame(0) },
    layers: [layer(0), layer(1)],
    latestFrame: frame(2),
    ...over,
  } as SceneFieldsFragment;
}

const base = { sceneId: 's', at: '' };
const started = (seq: number, revision: number, fromStep: number, toStep: number): SceneEvent => ({
  __typename: 'RenderStarted',
  ...base,
  seq,
  revision,
  fromStep,
  toStep,
});
const painted = (seq: number, revision: number, step: number, id: string): SceneEvent => ({
  __typename: 'FrameRendered',
  ...base,
  seq,
  revision,
  step,
  layerId: step === 0 ? null : `L${step - 1}`,
  lastStep: 2,
  cached: false,
  frame: frame(step, id),
});
const changed = (seq: number, next: SceneFieldsFragment): SceneEvent => ({
  __typename: 'SceneChanged',
  ...base,
  seq,
  revision: next.revision,
  change: 'OBJECT_UPDATED',
  layerId: 'L0',
  actorId: null,
  scene: next,
});

test('a loaded scene shows its latest frame', () => {
  const view = createSceneView(scene());
  assert.equal(view.liveFrame?.id, 'f2');
  assert.equal(view.seq, 10);
});

test('an edit repaints step by step: the live canvas follows each new frame, untouched layers keep their objects', () => {
  let view = createSceneView(scene());
  const untouched = view.scene.layers[0];
  const edited = scene({ revision: 4, renderState: 'RENDERING', layers: [layer(0), layer(1, { renderState: 'PENDING', frame: null })] });
  view = applyEvent(view, changed(11, edited));
  assert.equal(view.scene.layers[0], untouched, 'the unchanged layer object is reused');
  assert.equal(view.scene.layers[1]?.frame?.id, 'f2', 'a layer being repainted keeps its previous canvas meanwhile');
  assert.equal(view.liveFrame?.id, 'f2', 'the canvas keeps showing what it showed');
  assert.deepEqual(view.range, { from: 2, to: 2 }, 'the stale steps are the render to come');
  view = applyEvent(view, started(12, 4, 2, 2));
  assert.equal(view.scene.layers[1]?.renderState, 'RENDERING');
  view = applyEvent(view, painted(13, 4, 2, 'g2'));
  assert.equal(view.liveFrame?.id, 'g2');
  assert.equal(view.scene.layers[1]?.renderState, 'DONE');
  assert.equal(view.scene.layers[0], untouched);
  view = applyEvent(view, {
    __typename: 'RenderCompleted',
    ...base,
    seq: 14,
    revision: 4,
    renderedSteps: 1,
    cachedSteps: 2,
    durationMs: 5,
    frame: frame(2, 'g2'),
  });
  assert.equal(view.scene.renderState, 'DONE');
  assert.equal(view.range, null);
});

test('events already folded in, and render events of an older revision, change nothing', () => {
  const view = createSceneView(scene());
  assert.equal(applyEvent(view, painted(9, 3, 1, 'old')), view, 'seq 9 is older than the snapshot');
  const stale = applyEvent(view, painted(11, 2, 1, 'stale'));
  assert.equal(stale.scene, view.scene, 'revision 2 is older than the scene');
  assert.equal(stale.seq, 11);
});

test('a snapshot older than the stream is ignored; a newer one replaces the scene', () => {
  let view = createSceneView(scene());
  view = applyEvent(view, started(11, 3, 1, 2));
  view = applyEvent(view, painted(12, 3, 1, 'h1'));
  assert.equal(applySnapshot(view, scene({ lastSeq: 11 })), view, 'a mutation answer that the stream has overtaken');
  const renamed = applySnapshot(view, scene({ lastSeq: 13, title: 'Renamed' }));
  assert.equal(renamed.scene.title, 'Renamed');
});

test('a failed step is marked and reported with its code', () => {
  let view = createSceneView(scene({ revision: 4, renderState: 'RENDERING' }));
  view = applyEvent(view, started(11, 4, 1, 2));
  view = applyEvent(view, {
    __typename: 'RenderFailed',
    ...base,
    seq: 12,
    revision: 4,
    step: 1,
    layerId: 'L0',
    code: 'RENDER_FAILED',
    message: 'x',
  });
  assert.equal(view.scene.layers[0]?.renderState, 'FAILED');
  assert.deepEqual(view.failure, { code: 'RENDER_FAILED', step: 1 });
});

test('frameAtStep reads the background at 0 and layer k-1 at k', () => {
  const s = scene();
  assert.equal(frameAtStep(s, 0)?.id, 'f0');
  assert.equal(frameAtStep(s, 2)?.id, 'f2');
  assert.equal(frameAtStep(s, 3), null);
});

test('announcements of frames a snapshot already holds do not take the live canvas back down the stack', () => {
  // An undo to cached canvases: the mutation's answer reads the render index, which already has every
  // frame of the new revision, at a `seq` taken while the render was still announcing them (after its
  // RenderStarted). The FrameRendered events that follow name frames the view already shows as DONE.
  const undone = scene({ revision: 4, lastSeq: 12, layers: [layer(0), layer(1)], latestFrame: frame(2) });
  let view = applySnapshot(createSceneView(scene({ revision: 3, lastSeq: 10, latestFrame: frame(2, 'old') })), undone);
  assert.equal(view.liveFrame?.id, 'f2');
  view = applyEvent(view, painted(13, 4, 1, 'f1'));
  assert.equal(view.liveFrame?.id, 'f2', 'every step is painted: the canvas stays on the top one, not step 1');
  view = applyEvent(view, painted(14, 4, 2, 'f2'));
  assert.equal(view.liveFrame?.id, 'f2');
});
