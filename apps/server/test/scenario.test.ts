import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddObjectDocument,
  CreateSceneDocument,
  SceneDocument,
  SceneEventsDocument,
  UpdateObjectDocument,
  type SceneEventsSubscription,
} from '@strata/schema/client';
import { decodePng } from '../src/lib/png.js';
import { collect, startServer, type TestServer } from './harness.js';

type Event = SceneEventsSubscription['sceneEvents'];
const CATEGORIES = ['tree', 'pine', 'house', 'horse', 'rock', 'bush', 'tree', 'pine'];
const box = (i: number) => ({ x: 0.02 + (i % 4) * 0.24, y: i < 4 ? 0.35 : 0.6, w: 0.2, h: 0.3 });

/** The logged events (presence is transient and carries the last logged seq). */
const logged = (items: { sceneEvents: Event }[]) => items.map((i) => i.sceneEvents).filter((e) => e.__typename !== 'PresenceChanged');

function framesOf(events: Event[]): { step: number; id: string; revision: number }[] {
  return events.flatMap((e) => (e.__typename === 'FrameRendered' ? [{ step: e.step, id: e.frame.id, revision: e.revision }] : []));
}

const doneAt = (revision: number) => (items: { sceneEvents: Event }[]) =>
  items.some((i) => i.sceneEvents.__typename === 'RenderCompleted' && i.sceneEvents.revision === revision);

describe('a scene built step by step over GraphQL', () => {
  let server: TestServer;
  let sceneId = '';
  let firstEvents: Event[] = [];
  let framesBefore: string[] = [];

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('streams all 9 frames (background + 8 objects) in order to a subscriber', async () => {
    const created = await server.gql(CreateSceneDocument, { input: { title: 'Valley', style: 'day', seed: 11 } });
    sceneId = created.data!.createScene.id;
    const sub = collect(server.ws(), SceneEventsDocument, { sceneId, after: 0 }, doneAt(9));
    for (let i = 0; i < 8; i++) {
      const added = await server.gql(AddObjectDocument, {
        sceneId,
        input: { category: CATEGORIES[i]!, box: box(i), appearanceSeed: 100 + i, shape: { kind: 'GENERATED', seed: 7 + i } },
      });
      expect(added.errors).toBeUndefined();
      expect(added.data!.addObject.revision).toBe(i + 2);
    }
    firstEvents = logged(await sub.done);
    expect(sub.errors).toEqual([]);
    expect(framesOf(firstEvents).map((f) => f.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const seqs = firstEvents.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const scene = (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
    expect(scene.renderState).toBe('DONE');
    expect(scene.layers.map((l) => l.renderState)).toEqual(Array(8).fill('DONE'));
    framesBefore = [scene.background.frame!.id, ...scene.layers.map((l) => l.frame!.id)];
    expect(new Set(framesBefore).size).toBe(9);
    expect(framesOf(firstEvents).at(-1)!.id).toBe(scene.latestFrame!.id);
  });

  it('re-renders only steps 3..8 after an edit of layer 3, leaving steps 0..2 untouched', async () => {
    const scene = (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
    const layer3 = scene.layers[2]!;
    const sub = collect(server.ws(), SceneEventsDocument, { sceneId, after: scene.lastSeq }, doneAt(scene.revision + 1));
    const edited = await server.gql(UpdateObjectDocument, {
      sceneId,
      layerId: layer3.id,
      input: { appearanceSeed: 999 },
      baseRevision: scene.revision,
    });
    expect(edited.errors).toBeUndefined();
    const events = logged(await sub.done);
    expect(framesOf(events).map((f) => f.step)).toEqual([3, 4, 5, 6, 7, 8]);
    const completed = events.find((e) => e.__typename === 'RenderCompleted');
    expect(completed).toMatchObject({ renderedSteps: 6, cachedSteps: 0 });

    const after = (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
    const framesAfter = [after.background.frame!.id, ...after.layers.map((l) => l.frame!.id)];
    expect(framesAfter.slice(0, 3)).toEqual(framesBefore.slice(0, 3));
    expect(framesAfter[3]).not.toBe(framesBefore[3]);

    // Pixels outside layer 3's box (plus the model's dilation) are the canvas before it, bit for bit.
    // Frame URLs come from the API (signed: the scene is private).
    const urlOf = new Map([after.background.frame!, ...after.layers.map((l) => l.frame!)].map((f) => [f.id, f.url]));
    const png = async (id: string) => decodePng(new Uint8Array(await (await fetch(`${server.url}${urlOf.get(id)}`)).arrayBuffer()));
    const [before, painted] = await Promise.all([png(framesAfter[2]!), png(framesAfter[3]!)]);
    const R = before.width;
    const margin = 3;
    const { x, y, w, h } = layer3.object.box;
    let changedOutside = 0;
    let changedInside = 0;
    for (let py = 0; py < R; py++) {
      for (let px = 0; px < R; px++) {
        const inside = px >= x * R - margin && px < (x + w) * R + margin && py >= y * R - margin && py < (y + h) * R + margin;
        const i = (py * R + px) * 4;
        const differs =
          before.rgba[i] !== painted.rgba[i] || before.rgba[i + 1] !== painted.rgba[i + 1] || before.rgba[i + 2] !== painted.rgba[i + 2];
        if (differs && inside) changedInside++;
        if (differs && !inside) changedOutside++;
      }
    }
    expect(changedOutside).toBe(0);
    expect(changedInside).toBeGreaterThan(0);
  });

  it('replays every event after `after` to a client that reconnects', async () => {
    const all = collect(server.ws(), SceneEventsDocument, { sceneId, after: 0 }, (items) => logged(items).length >= firstEvents.length);
    const replayed = logged(await all.done);
    expect(replayed.slice(0, firstEvents.length)).toEqual(firstEvents);

    const cut = 10;
    const resumed = collect(
      server.ws(),
      SceneEventsDocument,
      { sceneId, after: cut },
      (items) => logged(items).length >= firstEvents.length - cut,
    );
    expect(logged(await resumed.done).slice(0, firstEvents.length - cut)).toEqual(firstEvents.slice(cut));
  });

  it('finds the scene intact, frames included, after a restart', async () => {
    const before = (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
    const { dataDir, token } = server;
    await server.stop({ keepData: true });
    server = await startServer({ dataDir });
    const after = await server.as(token).gql(SceneDocument, { id: sceneId });
    expect(after.errors).toBeUndefined();
    expect(after.data!.scene).toEqual(before);
    const frame = await fetch(`${server.url}${before.latestFrame!.url}`);
    expect(after.data!.scene.myRole).toBe('OWNER');
    expect(frame.status).toBe(200);
    expect(frame.headers.get('cache-control')).toContain('immutable');
  });
});
