import { Role } from '@strata/schema';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ParticipantData } from '../../src/domain/identity/presence.js';
import { PresenceHub } from '../../src/domain/identity/presence.js';
import type { PresenceBoard } from '../../src/domain/ports.js';
import { RedisPresenceBoard } from '../../src/infrastructure/redis/redis-presence.js';
import { hasRedis, startRedis, type Engine } from '../engines/engines.js';

const ann = { id: 'u-ann', displayName: 'Ann', color: '#ff0000' };
const bob = { id: 'u-bob', displayName: 'Bob', color: '#00ff00' };
const names = (list: readonly ParticipantData[]) => list.map((p) => `${p.user.displayName}:${p.connections}`);

/** A subscriber that records every list it is handed. */
async function watch(board: PresenceBoard, sceneId: string) {
  const lists: (readonly ParticipantData[])[] = [];
  const off = await board.subscribe(sceneId, (list) => lists.push(list));
  return { lists, off, latest: () => lists[lists.length - 1] ?? [] };
}

describe('in-process presence (PresenceHub) as a PresenceBoard', () => {
  it('tells subscribers the current list at once and every join and leave, one list per change for all', async () => {
    const hub = new PresenceHub(20);
    const w1 = await watch(hub, 's');
    const w2 = await watch(hub, 's');
    expect(w1.lists).toEqual([[]]);
    const leave = await hub.join('s', ann, Role.EDITOR);
    expect(names(w1.latest())).toEqual(['Ann:1']);
    expect(w1.latest()).toBe(w2.latest());
    leave();
    expect(w1.latest()).toEqual([]);
    await hub.close();
  });
});

describe.skipIf(!hasRedis())('Redis presence across replicas', () => {
  let redis: Engine;
  const boards: RedisPresenceBoard[] = [];
  const board = async (options: { ttlMs?: number } = {}) => {
    const b = await RedisPresenceBoard.open(redis.url, { throttleMs: 40, ...options });
    boards.push(b);
    return b;
  };
  let n = 0;
  const scene = () => `scene-${n++}`;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(boards.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await redis?.dispose();
  });

  it("a join on replica A is listed on B and B's subscribers are told; a leave too", async () => {
    const [a, b] = [await board(), await board()];
    const s = scene();
    const w1 = await watch(b, s);
    const w2 = await watch(b, s);
    expect(w1.lists).toEqual([[]]);

    const leave1 = await a.join(s, ann, Role.EDITOR);
    const leave2 = await a.join(s, ann, Role.EDITOR);
    await b.join(s, bob, Role.VIEWER);
    expect(names(await b.list(s))).toEqual(['Ann:2', 'Bob:1']);
    expect((await a.list(s))[0]).toMatchObject({ user: ann, role: Role.EDITOR, selectedLayerId: null, pointer: null });
    await expect.poll(() => names(w1.latest())).toEqual(['Ann:2', 'Bob:1']);
    // One list per change on a replica, shared by its subscribers.
    expect(w1.latest()).toBe(w2.latest());

    leave1();
    await expect.poll(() => names(w1.latest())).toEqual(['Ann:1', 'Bob:1']);
    leave2();
    await expect.poll(() => names(w2.latest())).toEqual(['Bob:1']);
    expect(names(await a.list(s))).toEqual(['Bob:1']);
  });

  it('selection and pointer updates cross replicas, throttled; updates for someone absent are refused', async () => {
    const [a, b] = [await board(), await board()];
    const s = scene();
    const w = await watch(b, s);
    await a.join(s, ann, Role.EDITOR);
    await expect.poll(() => w.lists.length).toBe(2);
    const before = w.lists.length;
    for (let i = 1; i <= 20; i++) expect(await a.update(s, ann.id, 'layer-1', { x: i / 20, y: 0.5 })).toBe(true);
    await expect.poll(() => w.latest()[0]?.pointer).toEqual({ x: 1, y: 0.5 });
    expect(w.latest()[0]?.selectedLayerId).toBe('layer-1');
    // 20 moves in quick succession: far fewer lists than moves.
    expect(w.lists.length - before).toBeLessThan(15);
    expect(await a.update(s, bob.id, null, null)).toBe(false);
  });

  it('evicting on B removes a person whose streams are on A, and A does not bring them back', async () => {
    const [a, b] = [await board({ ttlMs: 300 }), await board({ ttlMs: 300 })];
    const s = scene();
    const w = await watch(b, s);
    const leave = await a.join(s, ann, Role.EDITOR);
    await a.join(s, bob, Role.EDITOR);
    await expect.poll(() => names(w.latest())).toEqual(['Ann:1', 'Bob:1']);
    await b.evict(s, ann.id);
    await expect.poll(() => names(w.latest())).toEqual(['Bob:1']);
    await new Promise((r) => setTimeout(r, 400)); // a few heartbeats of A
    expect(names(await b.list(s))).toEqual(['Bob:1']);
    expect(await a.update(s, ann.id, null, null)).toBe(false);
    leave(); // the evicted stream closing later changes nothing
    await new Promise((r) => setTimeout(r, 50));
    expect(names(await b.list(s))).toEqual(['Bob:1']);
  });

  it("a killed replica's participants expire and the other replica's subscribers are told; live ones stay", async () => {
    const ttlMs = 300;
    const [a, b] = [await board({ ttlMs }), await board({ ttlMs })];
    const s = scene();
    const w = await watch(b, s);
    await a.join(s, ann, Role.EDITOR);
    await b.join(s, bob, Role.VIEWER);
    await expect.poll(() => names(w.latest())).toEqual(['Ann:1', 'Bob:1']);
    await new Promise((r) => setTimeout(r, ttlMs * 2)); // renewed meanwhile
    expect(names(await b.list(s))).toEqual(['Ann:1', 'Bob:1']);

    await a.close({ leave: false }); // as if killed: nothing removed, nothing renewed
    await expect.poll(() => names(w.latest()), { timeout: ttlMs * 5 }).toEqual(['Bob:1']);
    expect(names(await b.list(s))).toEqual(['Bob:1']);
  });

  it('after a Redis restart the replicas put their streams back and subscribers see them again', async () => {
    const [a, b] = [await board({ ttlMs: 600 }), await board({ ttlMs: 600 })];
    const s = scene();
    const w = await watch(b, s);
    await a.join(s, ann, Role.EDITOR);
    await expect.poll(() => names(w.latest())).toEqual(['Ann:1']);
    await redis.stop({ kill: true });
    await redis.start();
    await expect.poll(async () => names(await b.list(s).catch(() => [])), { timeout: 5000 }).toEqual(['Ann:1']);
    await expect.poll(() => names(w.latest()), { timeout: 5000 }).toEqual(['Ann:1']);
    const before = w.lists.length;
    await a.join(s, bob, Role.VIEWER);
    await expect.poll(() => names(w.latest())).toEqual(['Ann:1', 'Bob:1']);
    expect(w.lists.length).toBeGreaterThan(before);
  });

  it('while Redis is down, joins, lists and evictions do not fail; a join made then shows once it is back', async () => {
    const [a, b] = [await board({ ttlMs: 600 }), await board({ ttlMs: 600 })];
    const s = scene();
    await redis.stop({ kill: true });
    try {
      const leave = await a.join(s, ann, Role.EDITOR);
      expect(typeof leave).toBe('function');
      expect(await a.list(s)).toEqual([]);
      await expect(a.evict(s, bob.id)).resolves.toBeUndefined();
    } finally {
      await redis.start();
    }
    await expect.poll(async () => names(await b.list(s)), { timeout: 5000 }).toEqual(['Ann:1']);
  });
});
