import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddObjectDocument,
  CreateSceneDocument,
  DeleteSceneDocument,
  DuplicateSceneDocument,
  ImportSceneDocument,
  MoveLayerDocument,
  RedoDocument,
  RemoveObjectDocument,
  SceneDocument,
  SceneDocumentDocument,
  SceneEventsDocument,
  SceneEventsInlineDocument,
  ScenesDocument,
  SetBackgroundDocument,
  SetLayerVisibilityDocument,
  UndoDocument,
  UpdateObjectDocument,
} from '@strata/schema/client';
import { collect, startServer, type TestServer } from './harness.js';

const box = (x: number) => ({ x, y: 0.5, w: 0.25, h: 0.35 });

describe('editing a scene', () => {
  let server: TestServer;
  let sceneId = '';
  const scene = async () => (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
  const idle = () => server.app.coordinator.idle(sceneId);

  beforeAll(async () => {
    server = await startServer();
    sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Edits', style: 'dusk', seed: 5 } })).data!.createScene.id;
    for (const [i, category] of ['tree', 'house', 'rock'].entries()) {
      await server.gql(AddObjectDocument, { sceneId, input: { category, box: box(0.05 + i * 0.3), appearanceSeed: i } });
    }
    await idle();
  });
  afterAll(() => server?.stop());

  it('gives the second of two edits of one layer from the same base a CONFLICT with the current state', async () => {
    const s = await scene();
    const layer = s.layers[1]!;
    const first = await server.gql(UpdateObjectDocument, {
      sceneId,
      layerId: layer.id,
      input: { box: box(0.4) },
      baseRevision: s.revision,
    });
    expect(first.errors).toBeUndefined();
    const second = await server.gql(UpdateObjectDocument, {
      sceneId,
      layerId: layer.id,
      input: { appearanceSeed: 77 },
      baseRevision: s.revision,
    });
    expect(second.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'baseRevision',
      current: { id: layer.id, object: { box: box(0.4) } },
    });
    // An edit of another layer from the same stale base still lands.
    const other = await server.gql(UpdateObjectDocument, {
      sceneId,
      layerId: s.layers[0]!.id,
      input: { appearanceSeed: 5 },
      baseRevision: s.revision,
    });
    expect(other.errors).toBeUndefined();
    await idle();
  });

  it('moves, hides and shows layers, re-rendering from the lowest changed step', async () => {
    const s = await scene();
    const top = s.layers[2]!;
    const sub = collect(server.ws(), SceneEventsDocument, { sceneId, after: s.lastSeq }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'RenderCompleted' && i.sceneEvents.revision === s.revision + 1),
    );
    const moved = (await server.gql(MoveLayerDocument, { sceneId, layerId: top.id, toIndex: 0 })).data!.moveLayer;
    expect(moved.layers.map((l) => l.id)).toEqual([top.id, s.layers[0]!.id, s.layers[1]!.id]);
    const steps = (await sub.done).flatMap((i) => (i.sceneEvents.__typename === 'FrameRendered' ? [i.sceneEvents.step] : []));
    expect(steps).toEqual([1, 2, 3]);
    await idle();
    const movedScene = await scene();

    const hidden = (await server.gql(SetLayerVisibilityDocument, { sceneId, layerId: top.id, visible: false })).data!.setLayerVisibility;
    await idle();
    const after = await scene();
    expect(after.layers[0]!.visible).toBe(false);
    expect(after.layers[0]!.frame!.id).toBe(after.background.frame!.id);
    expect(hidden.revision).toBe(after.revision);
    await server.gql(SetLayerVisibilityDocument, { sceneId, layerId: top.id, visible: true });
    await idle();
    expect((await scene()).latestFrame!.id).toBe(movedScene.latestFrame!.id);
  });

  it('undoes and redoes edits, and an undone scene paints the same pixels as before (frames are cached)', async () => {
    await idle();
    const before = await scene();
    await server.gql(SetBackgroundDocument, { sceneId, input: { style: 'night' } });
    await idle();
    const night = await scene();
    expect(night.background.style).toBe('night');
    expect(night.latestFrame!.id).not.toBe(before.latestFrame!.id);
    const undone = (await server.gql(UndoDocument, { sceneId })).data!.undo;
    expect(undone.background.style).toBe('dusk');
    expect(undone.latestFrame!.id).toBe(before.latestFrame!.id);
    expect(undone.renderState).toBe('DONE');
    const redone = (await server.gql(RedoDocument, { sceneId })).data!.redo;
    expect(redone.background.style).toBe('night');
    expect(redone.latestFrame!.id).toBe(night.latestFrame!.id);
    await idle();
  });

  it('undoes a removal by putting the layer back where it was', async () => {
    const s = await scene();
    const middle = s.layers[1]!;
    await server.gql(RemoveObjectDocument, { sceneId, layerId: middle.id });
    expect((await scene()).layers.map((l) => l.id)).not.toContain(middle.id);
    const undone = (await server.gql(UndoDocument, { sceneId })).data!.undo;
    expect(undone.layers.map((l) => l.id)).toEqual(s.layers.map((l) => l.id));
    expect(undone.layers[1]!.object).toEqual(middle.object);
    await idle();
  });

  it('says when there is nothing to redo, and tells the caller beforehand', async () => {
    const redo = (await server.gql(RedoDocument, { sceneId })).data!.redo;
    expect(redo).toMatchObject({ canUndo: true, canRedo: false });
    const result = await server.gql(RedoDocument, { sceneId });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'NOTHING_TO_REDO' });
    const other = await server.newUser('Other');
    expect(await other.gql(SceneDocument, { id: sceneId })).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
  });

  it("answers a mutation with exactly the scene its events describe up to the answer's lastSeq", async () => {
    await idle();
    const s = await scene();
    const sub = collect(server.ws(), SceneEventsDocument, { sceneId, after: s.lastSeq }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'RenderCompleted'),
    );
    const answer = (await server.gql(UpdateObjectDocument, { sceneId, layerId: s.layers[0]!.id, input: { appearanceSeed: 31337 } })).data!
      .updateObject;
    const events = (await sub.done).map((i) => i.sceneEvents).filter((e) => e.seq <= answer.lastSeq && e.__typename !== 'PresenceChanged');
    const changed = events.filter((e) => e.__typename === 'SceneChanged');
    expect(changed).toHaveLength(1);
    const snapshot = changed[0]!.__typename === 'SceneChanged' ? changed[0]!.scene : null;
    // Events after the change and up to lastSeq are render progress: they change no spec and no frame yet.
    expect(events.filter((e) => e.seq > changed[0]!.seq).every((e) => e.__typename === 'RenderStarted')).toBe(true);
    const { canUndo: _u, canRedo: _r, ...fields } = answer;
    // The answer may already show the first step RENDERING: that is what RenderStarted says.
    const settled = JSON.parse(JSON.stringify({ ...fields, lastSeq: 0 }).replaceAll('"RENDERING"', '"PENDING"'));
    expect(settled).toEqual(JSON.parse(JSON.stringify({ ...snapshot, lastSeq: 0 }).replaceAll('"RENDERING"', '"PENDING"')));
    await idle();
  });

  it('exports a document that imports to the same pixels, and duplicates from the cache', async () => {
    await idle();
    const s = await scene();
    const doc = (await server.gql(SceneDocumentDocument, { id: sceneId })).data!.scene.document;
    expect(doc).toMatchObject({ format: 'strata-scene/1', background: { style: s.background.style, seed: s.background.seed } });
    const imported = (await server.gql(ImportSceneDocument, { document: doc, title: 'Imported' })).data!.importScene;
    expect(imported.id).not.toBe(sceneId);
    expect(imported.layers.map((l) => l.object)).toEqual(s.layers.map((l) => l.object));
    expect(imported.latestFrame?.id).toBe(s.latestFrame!.id);
    const copy = (await server.gql(DuplicateSceneDocument, { sceneId })).data!.duplicateScene;
    expect(copy.title).toBe('Edits (copy)');
    expect(copy.renderState).toBe('DONE');
    const bad = await server.gql(ImportSceneDocument, {
      document: {
        ...doc,
        layers: [{ category: 'tree', box: { x: 2, y: 0, w: 0.1, h: 0.1 }, appearanceSeed: 1, shape: { kind: 'GENERATED', seed: 1 } }],
      },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'document.layers.0.box.x' });
  });

  it('paints a drawn mask and serves it back', async () => {
    const size = 16;
    const a8 = Buffer.alloc(size * size, 0);
    for (let y = 4; y < 12; y++) for (let x = 2; x < 14; x++) a8[y * size + x] = 255;
    const added = await server.gql(AddObjectDocument, {
      sceneId,
      input: {
        category: 'rock',
        box: { x: 0.6, y: 0.7, w: 0.3, h: 0.2 },
        shape: { kind: 'DRAWN', mask: { format: 'A8', width: size, height: size, data: a8.toString('base64') } },
      },
    });
    expect(added.errors).toBeUndefined();
    const shape = added.data!.addObject.layers.at(-1)!.object.shape;
    expect(shape).toMatchObject({ kind: 'DRAWN', maskWidth: 16, maskHeight: 16 });
    const mask = await fetch(`${server.url}${shape.maskUrl}`);
    expect(mask.status).toBe(200);
    expect(mask.headers.get('content-type')).toBe('image/png');
    await idle();
    expect((await scene()).renderState).toBe('DONE');
  });

  it('delivers frames inline to clients that ask, and serves them over HTTP', async () => {
    const s = await scene();
    const sub = collect(server.ws(), SceneEventsInlineDocument, { sceneId, after: 0 }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'FrameRendered'),
    );
    const [first] = (await sub.done).filter((i) => i.sceneEvents.__typename === 'FrameRendered');
    const inline = first!.sceneEvents.__typename === 'FrameRendered' ? first!.sceneEvents.frame : null;
    const viaHttp = Buffer.from(await (await fetch(`${server.url}${inline!.url}`)).arrayBuffer());
    expect(Buffer.from(inline!.pngBase64!, 'base64').equals(viaHttp)).toBe(true);
    const missing = await fetch(`${server.url}/frames/${'0'.repeat(64)}.png`);
    expect(missing.status).toBe(404);
    const etag = await fetch(`${server.url}${s.latestFrame!.url}`, { headers: { 'if-none-match': `"${s.latestFrame!.id}"` } });
    expect(etag.status).toBe(304);
  });

  it('lists scenes newest first, in pages', async () => {
    const page = (await server.gql(ScenesDocument, { first: 2 })).data!.scenes;
    expect(page.nodes).toHaveLength(2);
    expect(page.totalCount).toBeGreaterThanOrEqual(3);
    expect(page.nodes[0]!.createdAt >= page.nodes[1]!.createdAt).toBe(true);
    const next = (await server.gql(ScenesDocument, { first: 2, after: page.pageInfo.endCursor })).data!.scenes;
    expect(next.nodes.map((n) => n.id)).not.toContain(page.nodes[0]!.id);
    expect((await server.gql(ScenesDocument, { first: 0 })).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'first',
    });
  });

  it('ends subscriptions with SceneDeleted when the scene is deleted', async () => {
    const s = await scene();
    const sub = collect(server.ws(), SceneEventsDocument, { sceneId, after: s.lastSeq }, () => false);
    await new Promise((r) => setTimeout(r, 100));
    expect((await server.gql(DeleteSceneDocument, { sceneId })).data!.deleteScene).toBe(sceneId);
    const items = await sub.done;
    expect(items.filter((i) => i.sceneEvents.__typename !== 'PresenceChanged').at(-1)!.sceneEvents.__typename).toBe('SceneDeleted');
    expect((await server.gql(SceneDocument, { id: sceneId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
});
