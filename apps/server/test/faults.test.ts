import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { print } from 'graphql';
import {
  AddObjectDocument,
  CreateSceneDocument,
  DuplicateSceneDocument,
  RenameSceneDocument,
  RerenderDocument,
  SceneDocument,
  SceneEventsDocument,
  SetLayerVisibilityDocument,
  UndoDocument,
  UpdateObjectDocument,
  type SceneQuery,
} from '@strata/schema/client';
import { DiskBlobStore, BlobStoreUnavailableError } from '../src/infrastructure/fs/disk-blob-store.js';
import { DatabaseUnavailableError } from '../src/infrastructure/postgres/pool.js';
import { SqliteSceneStore } from '../src/infrastructure/sqlite/sqlite-store.js';
import { collect, FaultyBlobStore, faultyStore, fsError, startServer, TARGET, waitFor, type TestServer, type TestUser } from './harness.js';

// These suites reach into the process (its data directory, its store and bus): embedded only.
const embedded = TARGET !== 'cluster';
const box = (i: number) => ({ x: 0.05 + 0.2 * (i % 4), y: 0.45, w: 0.25, h: 0.4 });
const categories = ['tree', 'house', 'rock', 'bush'];
type Scene = NonNullable<SceneQuery['scene']>;

/** Every frame a scene shows: the background's, each layer's and the latest. */
function framesOf(scene: Scene): { id: string; url: string }[] {
  return [scene.background.frame, ...scene.layers.map((l) => l.frame), scene.latestFrame].filter(
    (f): f is NonNullable<typeof f> => f != null,
  );
}

async function getFrame(server: TestServer, url: string, user: TestUser = server): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(new URL(url, server.url), { headers: { authorization: `Bearer ${user.token}` } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

const blobPath = (dataDir: string, id: string) => join(dataDir, 'blobs', id.slice(0, 2), `${id}.png`);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function build(server: TestServer, title: string, seed: number, layers: number): Promise<string> {
  const id = (await server.gql(CreateSceneDocument, { input: { title, seed, style: 'dusk' } })).data!.createScene.id;
  for (let i = 0; i < layers; i++)
    await server.gql(AddObjectDocument, { sceneId: id, input: { category: categories[i % 4]!, box: box(i), appearanceSeed: seed + i } });
  await server.app.coordinator.idle(id);
  return id;
}

/** Wait until the scene's render is done and every frame it shows answers 200 with the bytes its id names. */
async function expectWhole(server: TestServer, sceneId: string, user: TestUser = server): Promise<Scene> {
  const scene = await waitFor(`scene ${sceneId} rendered`, async () => {
    await server.app.coordinator.idle(sceneId);
    const s = (await user.gql(SceneDocument, { id: sceneId })).data!.scene!;
    return s.renderState === 'DONE' ? s : undefined;
  });
  for (const frame of framesOf(scene)) {
    const { status, bytes } = await getFrame(server, frame.url, user);
    expect(status, `${frame.url} of scene ${sceneId}`).toBe(200);
    expect(sha256(bytes)).toBe(frame.id);
  }
  return scene;
}

describe.skipIf(!embedded)('a scene whose stored canvas was lost repairs itself', () => {
  let server: TestServer;
  /** The scenes' owner, the same person before and after the restart. */
  let owner: TestUser;
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-faults-'));
  const scenes: Record<string, Scene> = {};
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    // Four scenes rendered, then damaged on disk while the server is down (the only way a blob
    // vanishes under the running server's cache), then a fresh start on the same data.
    server = await startServer({ dataDir });
    const ids = {
      edited: await build(server, 'Edited', 101, 3),
      rerendered: await build(server, 'Rerendered', 102, 2),
      duplicated: await build(server, 'Duplicated', 103, 3),
      shared: await build(server, 'Shared', 104, 1),
      hidden: await build(server, 'Hidden', 105, 3),
    };
    // A hidden layer shows its predecessor's canvas (the same key and frame).
    const hiddenLayer = (await server.gql(SceneDocument, { id: ids.hidden })).data!.scene!.layers[1]!.id;
    await server.gql(SetLayerVisibilityDocument, { sceneId: ids.hidden, layerId: hiddenLayer, visible: false });
    await server.app.coordinator.idle(ids.hidden);
    for (const [name, id] of Object.entries(ids)) scenes[name] = (await server.gql(SceneDocument, { id })).data!.scene!;
    const token = server.token;
    await server.stop({ keepData: true });
    const { edited, rerendered, duplicated, shared } = scenes as Record<string, Scene>;
    unlinkSync(blobPath(dataDir, edited!.layers[0]!.frame!.id)); // a middle step: missing
    truncateSync(blobPath(dataDir, edited!.layers[2]!.frame!.id), 40); // the top step: truncated
    unlinkSync(blobPath(dataDir, rerendered!.background.frame!.id)); // the first step
    const damaged = blobPath(dataDir, duplicated!.layers[1]!.frame!.id);
    writeFileSync(damaged, Buffer.from(readFileSync(damaged).map((b, i) => (i > 60 ? b ^ 0x5a : b)))); // corrupt, same size
    unlinkSync(blobPath(dataDir, shared!.background.frame!.id)); // a background another scene will share
    expect(scenes['hidden']!.layers[1]!.frame!.id).toBe(scenes['hidden']!.layers[0]!.frame!.id);
    unlinkSync(blobPath(dataDir, scenes['hidden']!.layers[0]!.frame!.id)); // under a hidden layer
    server = await startServer({ dataDir });
    owner = server.as(token);
  });

  it('serves a lost or damaged frame as 404, never as wrong bytes', async () => {
    const { edited, duplicated } = scenes as Record<string, Scene>;
    expect((await getFrame(server, edited!.layers[0]!.frame!.url, owner)).status).toBe(404);
    expect((await getFrame(server, edited!.layers[2]!.frame!.url, owner)).status).toBe(404);
    expect((await getFrame(server, duplicated!.layers[1]!.frame!.url, owner)).status).toBe(404);
  });

  it('paints the lost steps again on the next edit, and every frame answers', async () => {
    const { edited } = scenes as Record<string, Scene>;
    const sceneId = edited!.id;
    const sub = collect(owner.ws(), SceneEventsDocument, { sceneId, after: edited!.lastSeq }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'RenderCompleted' && i.sceneEvents.revision === edited!.revision + 1),
    );
    const added = await owner.gql(AddObjectDocument, { sceneId, input: { category: 'rock', box: box(3), appearanceSeed: 7 } });
    expect(added.errors).toBeUndefined();
    const events = (await sub.done).map((i) => i.sceneEvents);
    expect(events.filter((e) => e.__typename === 'RenderFailed')).toEqual([]);
    // Steps 1..4 painted again from the missing one (step 1) on; a repaint gives the same bytes.
    const steps = events.flatMap((e) => (e.__typename === 'FrameRendered' ? [e.step] : []));
    expect(steps).toEqual([1, 2, 3, 4]);
    const after = await expectWhole(server, sceneId, owner);
    expect(after.layers.slice(0, 3).map((l) => l.frame!.id)).toEqual(edited!.layers.map((l) => l.frame!.id));
  });

  it('rerenders a scene whose first step was lost', async () => {
    const { rerendered } = scenes as Record<string, Scene>;
    const res = await owner.gql(RerenderDocument, { sceneId: rerendered!.id });
    expect(res.errors).toBeUndefined();
    const after = await expectWhole(server, rerendered!.id, owner);
    expect(framesOf(after).map((f) => f.id)).toEqual(framesOf(rerendered!).map((f) => f.id));
  });

  it('duplicates a scene with a damaged frame: the copy renders, and so does the original on its next render', async () => {
    const { duplicated } = scenes as Record<string, Scene>;
    const copy = await owner.gql(DuplicateSceneDocument, { sceneId: duplicated!.id });
    expect(copy.errors).toBeUndefined();
    const after = await expectWhole(server, copy.data!.duplicateScene.id, owner);
    expect(framesOf(after).map((f) => f.id)).toEqual(framesOf(duplicated!).map((f) => f.id));
    await expectWhole(server, duplicated!.id, owner);
  });

  it('renders a new scene that shares a lost canvas (same background) from its first step', async () => {
    const { shared } = scenes as Record<string, Scene>;
    const created = await owner.gql(CreateSceneDocument, { input: { title: 'Same sky', seed: 104, style: 'dusk' } });
    expect(created.errors).toBeUndefined();
    const after = await expectWhole(server, created.data!.createScene.id, owner);
    expect(after.background.frame!.id).toBe(shared!.background.frame!.id);
    expect((await getFrame(server, shared!.background.frame!.url, owner)).status).toBe(200);
    expect(server.log.lines.filter((l) => l.message === 'render step failed')).toEqual([]);
  });
  it('paints the canvas under a hidden layer again without drawing the hidden object into it', async () => {
    const { hidden } = scenes as Record<string, Scene>;
    const top = hidden!.layers[2]!;
    const edited = await owner.gql(UpdateObjectDocument, { sceneId: hidden!.id, layerId: top.id, input: { appearanceSeed: 99 } });
    expect(edited.errors).toBeUndefined();
    const after = await expectWhole(server, hidden!.id, owner);
    expect(after.layers.slice(0, 2).map((l) => l.frame!.id)).toEqual(hidden!.layers.slice(0, 2).map((l) => l.frame!.id));
    const rerendered = await owner.gql(RerenderDocument, { sceneId: hidden!.id });
    expect(rerendered.errors).toBeUndefined();
    expect(framesOf(await expectWhole(server, hidden!.id, owner)).map((f) => f.id)).toEqual(framesOf(after).map((f) => f.id));
  });
});

describe('a cursor past the end of the log', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('is refused over graphql-ws with BAD_USER_INPUT naming `after` and the last seq', async () => {
    const created = (await server.gql(CreateSceneDocument, { input: { title: 'Cursor', seed: 3 } })).data!.createScene;
    await server.app.coordinator.idle(created.id);
    const last = (await server.gql(SceneDocument, { id: created.id })).data!.scene!.lastSeq;
    const past = collect(server.ws(), SceneEventsDocument, { sceneId: created.id, after: last + 5 }, () => false, 10_000);
    await past.done;
    expect(past.items).toEqual([]);
    const errors = past.errors.flat();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'after', current: last } });
    expect((errors[0] as { message: string }).message).toContain(`last seq is ${last}`);
    // At the end exactly: live events follow.
    const atEnd = collect(server.ws(), SceneEventsDocument, { sceneId: created.id, after: last }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'SceneChanged'),
    );
    await new Promise((r) => setTimeout(r, 200));
    await server.gql(RenameSceneDocument, { sceneId: created.id, title: 'Cursor 2' });
    const events = (await atEnd.done).map((i) => i.sceneEvents);
    expect(events.find((e) => e.__typename === 'SceneChanged')!.seq).toBe(last + 1);
  });
});

describe.skipIf(!embedded)('a full disk or a read-only data directory', () => {
  let server: TestServer;
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-faults-'));
  let blobs: FaultyBlobStore;
  let db: ReturnType<typeof faultyStore<SqliteSceneStore>>;
  beforeAll(async () => {
    blobs = new FaultyBlobStore(new DiskBlobStore(join(dataDir, 'blobs')));
    db = faultyStore(new SqliteSceneStore(join(dataDir, 'strata.db')), ['commit', 'createScene', 'appendEvents', 'takeHistory']);
    server = await startServer({ dataDir, overrides: { blobs, store: db.store }, env: { STRATA_RESUME_INTERVAL_MS: '150' } });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails renders with SERVICE_UNAVAILABLE while frames cannot be stored, keeps the accepted edits, and resumes by itself', async () => {
    const sceneId = await build(server, 'Full disk', 201, 1);
    const before = (await server.gql(SceneDocument, { id: sceneId })).data!.scene!;
    const sub = collect(
      server.ws(),
      SceneEventsDocument,
      { sceneId, after: before.lastSeq },
      (items) => items.some((i) => i.sceneEvents.__typename === 'RenderCompleted' && i.sceneEvents.revision === before.revision + 2),
      60_000,
    );
    // A full disk (as the blob directory reports it), then a read-only one (a raw EROFS from a store that does not map it).
    blobs.failWrites = () => new BlobStoreUnavailableError('write', fsError('ENOSPC'));
    const first = await server.gql(AddObjectDocument, { sceneId, input: { category: 'house', box: box(1), appearanceSeed: 1 } });
    expect(first.errors).toBeUndefined();
    await waitFor('a failed render', () => sub.items.some((i) => i.sceneEvents.__typename === 'RenderFailed'));
    // A drawn mask cannot be stored either: a typed error, and nothing changes.
    const mask = { format: 'A8' as const, width: 8, height: 8, data: Buffer.alloc(64, 255).toString('base64') };
    const drawn = await server.gql(AddObjectDocument, {
      sceneId,
      input: { category: 'rock', box: box(2), shape: { kind: 'DRAWN', mask } },
    });
    expect(drawn.errors?.[0]?.extensions?.['code']).toBe('SERVICE_UNAVAILABLE');
    blobs.failWrites = () => fsError('EROFS');
    const second = await server.gql(AddObjectDocument, { sceneId, input: { category: 'rock', box: box(2), appearanceSeed: 2 } });
    expect(second.errors).toBeUndefined();
    const during = (await server.gql(SceneDocument, { id: sceneId })).data!.scene!;
    expect(during.revision).toBe(before.revision + 2);
    expect(during.layers).toHaveLength(3);
    expect(during.renderState).not.toBe('DONE');
    await new Promise((r) => setTimeout(r, 800));
    const failures = sub.items.map((i) => i.sceneEvents).filter((e) => e.__typename === 'RenderFailed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    // Retried with a growing wait, not in a loop.
    expect(failures.length).toBeLessThan(12);
    for (const failure of failures) expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE', step: 2 });
    // Writes work again: the render finishes with no client action and no restart.
    blobs.failWrites = null;
    const events = (await sub.done).map((i) => i.sceneEvents);
    expect(events.filter((e) => e.__typename === 'FrameRendered').map((e) => (e as { step: number }).step)).toEqual([2, 3]);
    const after = await expectWhole(server, sceneId);
    expect(after.layers).toHaveLength(3);
    expect(server.log.lines.filter((l) => l.message === 'render step could not be stored; retrying later').length).toBe(failures.length);
  });

  it('answers a store that cannot write with a typed error and changes nothing', async () => {
    const sceneId = await build(server, 'Read-only db', 202, 2);
    const before = (await server.gql(SceneDocument, { id: sceneId })).data!.scene!;
    const seq = await server.app.store.lastSeq(sceneId);
    // What the PostgreSQL store raises when the database is gone, and what SQLite raises on a full disk.
    const failures: [() => Error, string[]][] = [
      [() => new DatabaseUnavailableError('ECONNREFUSED'), ['SERVICE_UNAVAILABLE']],
      [
        () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
        ['SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'],
      ],
    ];
    for (const [fail, codes] of failures) {
      db.fail = fail;
      const answers = await Promise.all([
        server.gql(AddObjectDocument, { sceneId, input: { category: 'tree', box: box(3), appearanceSeed: 3 } }),
        server.gql(RenameSceneDocument, { sceneId, title: 'Renamed' }),
        server.gql(UndoDocument, { sceneId }),
        server.gql(CreateSceneDocument, { input: { title: 'Never', seed: 5 } }),
      ]);
      for (const answer of answers) {
        expect(answer.data ?? null).toBeNull();
        expect(codes).toContain(answer.errors?.[0]?.extensions?.['code']);
      }
      db.fail = null;
      const now = (await server.gql(SceneDocument, { id: sceneId })).data!.scene!;
      expect(now).toEqual(before);
      expect(await server.app.store.lastSeq(sceneId)).toBe(seq);
    }
    // The undo entry was put back: the same edits work once the store does.
    expect((await server.gql(UndoDocument, { sceneId })).errors).toBeUndefined();
    expect((await server.gql(RenameSceneDocument, { sceneId, title: 'Renamed' })).errors).toBeUndefined();
    await expectWhole(server, sceneId);
  });
});

/** Whether a folder with mode 0555 refuses writes here (not for root, who writes anyway). */
function chmodStopsWrites(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'strata-probe-'));
  chmodSync(dir, 0o555);
  try {
    writeFileSync(join(dir, 'probe'), '');
    return false;
  } catch {
    return true;
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Set the mode of a folder and of the folders in it. */
function chmodTree(dir: string, mode: number): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) chmodSync(join(dir, entry.name), mode);
  chmodSync(dir, mode);
}

// As root (the usual container) chmod does not stop writes: the FaultyBlobStore tests above cover it.
describe.skipIf(!embedded || !chmodStopsWrites())('a blob directory made read-only while the server runs', () => {
  let server: TestServer;
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-faults-'));
  beforeAll(async () => {
    server = await startServer({ dataDir, env: { STRATA_RESUME_INTERVAL_MS: '150' } });
  });
  afterAll(async () => {
    chmodTree(join(dataDir, 'blobs'), 0o755);
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('fails the render with SERVICE_UNAVAILABLE and finishes it by itself once the folder is writable again', async () => {
    const sceneId = await build(server, 'Read-only', 301, 1);
    const before = (await server.gql(SceneDocument, { id: sceneId })).data!.scene!;
    const sub = collect(
      server.ws(),
      SceneEventsDocument,
      { sceneId, after: before.lastSeq },
      (items) => items.some((i) => i.sceneEvents.__typename === 'RenderCompleted'),
      60_000,
    );
    chmodTree(join(dataDir, 'blobs'), 0o555);
    const added = await server.gql(AddObjectDocument, { sceneId, input: { category: 'bush', box: box(2), appearanceSeed: 3 } });
    expect(added.errors).toBeUndefined();
    await waitFor('a failed render', () => sub.items.some((i) => i.sceneEvents.__typename === 'RenderFailed'));
    expect(sub.items.map((i) => i.sceneEvents).find((e) => e.__typename === 'RenderFailed')).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      step: 2,
    });
    chmodTree(join(dataDir, 'blobs'), 0o755);
    await sub.done;
    expect((await expectWhole(server, sceneId)).layers).toHaveLength(2);
  });
});

describe.skipIf(!embedded)('a slow consumer', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('cannot grow what the server buffers for its socket, and misses nothing once it reads again', async () => {
    const sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Slow reader', seed: 11 } })).data!.createScene.id;
    await server.app.coordinator.idle(sceneId);
    const serverSockets: Socket[] = [];
    const onConnection = (socket: Socket) => serverSockets.push(socket);
    server.app.httpServer.on('connection', onConnection);
    const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const seqs: number[] = [];
    let acked = false;
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        type: string;
        payload?: { data?: { sceneEvents: { __typename: string; seq: number } } };
      };
      if (message.type === 'connection_ack') acked = true;
      const event = message.payload?.data?.sceneEvents;
      if (message.type === 'next' && event && event.__typename !== 'PresenceChanged') seqs.push(event.seq);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.token}` } }));
    await waitFor('connection_ack', () => acked);
    ws.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: print(SceneEventsDocument), variables: { sceneId, after: 0 } } }),
    );
    await waitFor('the stream', () => seqs.length > 0);
    const client = (ws as unknown as { _socket: Socket })._socket;
    const peer = serverSockets.find((s) => s.remotePort === client.localPort)!;
    expect(peer).toBeDefined();
    // Stop reading: the kernel buffers fill, then the server's.
    client.pause();
    const { store, bus } = server.app;
    const message = 'x'.repeat(8_000);
    let peak = 0;
    const events = 3_000;
    for (let i = 0; i < events; i++) {
      await bus.publish(
        await store.appendEvents(sceneId, 1, [{ type: 'RenderFailed', step: 0, layerId: null, code: 'RENDER_FAILED', message }]),
      );
      if (i % 50 === 0) {
        await new Promise((r) => setImmediate(r));
        peak = Math.max(peak, peer.writableLength);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    peak = Math.max(peak, peer.writableLength);
    // About 24 MB flowed; the server holds at most a message or two for this socket (the rest waits in the log).
    expect(peak).toBeLessThan(256 * 1024);
    console.info(`slow consumer: ${events} events of ${message.length} bytes while paused; server-side buffer peak ${peak} bytes`);
    client.resume();
    const last = await store.lastSeq(sceneId);
    await waitFor('the rest of the log', () => seqs.at(-1) === last, 60_000);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    server.app.httpServer.off('connection', onConnection);
    ws.close();
  });
});

describe('the blob directory', () => {
  it('turns a write the file system refuses into SERVICE_UNAVAILABLE, and a damaged file into an absent one the next put replaces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-blobs-'));
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const hash = sha256(bytes);
    // A file where the blob's folder should be: the write fails as the file system says (root or not).
    writeFileSync(join(dir, hash.slice(0, 2)), 'in the way');
    const blocked = new DiskBlobStore(dir);
    const refused = await blocked.put(bytes).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BlobStoreUnavailableError);
    expect(refused).toMatchObject({ code: 'SERVICE_UNAVAILABLE', errno: expect.stringMatching(/^E/) });
    unlinkSync(join(dir, hash.slice(0, 2)));
    expect(await blocked.put(bytes)).toBe(hash);
    await blocked.close();
    // Damaged on disk: read as absent (never as wrong bytes), and written again by the next put.
    writeFileSync(join(dir, hash.slice(0, 2), `${hash}.png`), new Uint8Array([9, 9]));
    const reopened = new DiskBlobStore(dir);
    expect(await reopened.get(hash)).toBeNull();
    await reopened.putWithHash(hash, bytes);
    const again = new DiskBlobStore(dir);
    expect(await again.get(hash)).toEqual(bytes);
    rmSync(dir, { recursive: true, force: true });
  });
});
