import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Role, Visibility } from '@strata/schema';
import type { AccessStore, SceneStore } from '../../src/domain/ports.js';
import type { SceneData } from '../../src/domain/scenes/types.js';

/** A scene fixture; `n` orders creation times. */
export function sceneFixture(id: string, n = 0): SceneData {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  return {
    id,
    title: `Scene ${id}`,
    ownerId: null,
    visibility: Visibility.PRIVATE,
    revision: 1,
    background: { style: 'day', seed: 1, revision: 1 },
    layers: [],
    createdAt: at,
    updatedAt: at,
  };
}

const changed = (scene: SceneData) => ({
  type: 'SceneChanged' as const,
  change: 'CREATED',
  layerId: null,
  actorId: null,
  scene,
  frames: [null],
});

/** A store under test and how to dispose of it. */
export type StoreFactory = () => Promise<SceneStore & AccessStore> | (SceneStore & AccessStore);

const entry = (a: SceneData, actorId: string, revision: number) => ({
  actorId,
  revision,
  before: a,
  after: { ...a, revision },
  change: 'RENAMED',
  layerId: null,
});

/** Commit a rename as `actorId` with its undo entry, at the scene's next revision. */
async function renameAs(store: SceneStore, id: string, actorId: string): Promise<number> {
  const current = (await store.getScene(id))!;
  const next = { ...current, revision: current.revision + 1, title: `${actorId} ${current.revision + 1}` };
  const stored = await store.commit({
    scene: next,
    expectedRevision: current.revision,
    events: [changed(next)],
    history: entry(current, actorId, next.revision),
  });
  if (!stored) throw new Error('lost a race in a sequential test');
  return next.revision;
}

/**
 * The rules every SceneStore keeps (SPEC ids in brackets), run against each implementation.
 */
export function sceneStoreContract(name: string, make: StoreFactory): void {
  describe(`SceneStore contract: ${name}`, () => {
    let store: SceneStore & AccessStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('[store-1] returns what was created, and null for unknown ids', async () => {
      const scene = sceneFixture('a');
      await store.createScene(scene, [changed(scene)]);
      expect(await store.getScene('a')).toEqual(scene);
      expect(await store.getScene('zzz')).toBeNull();
    });

    it('[store-2] numbers events 1, 2, 3... per scene, across create, commit and append', async () => {
      const a = sceneFixture('a');
      const b = sceneFixture('b', 1);
      expect((await store.createScene(a, [changed(a)])).map((e) => e.seq)).toEqual([1]);
      expect((await store.createScene(b, [changed(b)])).map((e) => e.seq)).toEqual([1]);
      const next = { ...a, revision: 2 };
      expect((await store.commit({ scene: next, expectedRevision: 1, events: [changed(next)] }))!.map((e) => e.seq)).toEqual([2]);
      const frames = await store.appendEvents('a', 2, [
        { type: 'RenderStarted', fromStep: 0, toStep: 0 },
        { type: 'FrameRendered', step: 0, layerId: null, lastStep: 0, frameId: 'f', cached: false },
      ]);
      expect(frames.map((e) => [e.seq, e.revision])).toEqual([
        [3, 2],
        [4, 2],
      ]);
      expect(await store.lastSeq('a')).toBe(4);
      expect(await store.lastSeq('b')).toBe(1);
      expect(await store.lastSeq('nope')).toBe(0);
    });

    it('[store-3] refuses a commit whose expected revision is stale, writing nothing', async () => {
      const a = sceneFixture('a');
      await store.createScene(a, [changed(a)]);
      expect(
        await store.commit({
          scene: { ...a, revision: 2, title: 'x' },
          expectedRevision: 7,
          events: [changed(a)],
          history: entry(a, 'ann', 2),
        }),
      ).toBeNull();
      expect((await store.getScene('a'))!.title).toBe(a.title);
      expect(await store.lastSeq('a')).toBe(1);
      expect(await store.historyState('a', 'ann')).toEqual({ undo: false, redo: false });
    });

    it('[store-4] reads events after a sequence number, in order, limited', async () => {
      const a = sceneFixture('a');
      await store.createScene(a, [changed(a)]);
      await store.appendEvents(
        'a',
        1,
        Array.from({ length: 10 }, (_, step) => ({
          type: 'FrameRendered' as const,
          step,
          layerId: null,
          lastStep: 9,
          frameId: `f${step}`,
          cached: false,
        })),
      );
      expect((await store.readEvents('a', 3, 4)).map((e) => e.seq)).toEqual([4, 5, 6, 7]);
      expect(await store.readEvents('a', 11, 4)).toEqual([]);
      expect((await store.readEvents('a', 0, 100))[1]).toMatchObject({
        type: 'FrameRendered',
        step: 0,
        frameId: 'f0',
        sceneId: 'a',
        seq: 2,
        revision: 1,
      });
      expect((await store.readEvents('a', 0, 100))[0]).toMatchObject({ type: 'SceneChanged', scene: a, frames: [null] });
    });

    it('[store-5] lists newest first with stable cursors', async () => {
      for (let i = 0; i < 5; i++) {
        const s = { ...sceneFixture(`s${i}`, i), visibility: Visibility.PUBLIC };
        await store.createScene(s, [changed(s)]);
      }
      const first = await store.listScenes({ viewerId: null }, 2, null);
      expect(first.scenes.map((s) => s.id)).toEqual(['s4', 's3']);
      expect(first.total).toBe(5);
      const second = await store.listScenes({ viewerId: null }, 2, first.nextCursor);
      expect(second.scenes.map((s) => s.id)).toEqual(['s2', 's1']);
      const last = await store.listScenes({ viewerId: null }, 2, second.nextCursor);
      expect(last.scenes.map((s) => s.id)).toEqual(['s0']);
      expect(last.nextCursor).toBeNull();
    });

    it('[store-6] deletes a scene with its log, returning the final events; appends to it are refused', async () => {
      const a = sceneFixture('a');
      await store.createScene(a, [changed(a)]);
      const events = await store.deleteScene('a', [{ type: 'SceneDeleted', actorId: null }]);
      expect(events.map((e) => [e.type, e.seq])).toEqual([['SceneDeleted', 2]]);
      expect(await store.getScene('a')).toBeNull();
      expect(await store.readEvents('a', 0, 10)).toEqual([]);
      expect(await store.appendEvents('a', 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }])).toEqual([]);
      expect(await store.appendEvents('never', 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }])).toEqual([]);
      expect(await store.readEvents('never', 0, 10)).toEqual([]);
    });

    it("[store-7] keeps each actor's undo and redo stacks apart, and a new edit clears the redo stack", async () => {
      const a = sceneFixture('a');
      await store.createScene(a, [changed(a)]);
      await renameAs(store, 'a', 'ann'); // 2
      await renameAs(store, 'a', 'bob'); // 3
      await renameAs(store, 'a', 'ann'); // 4
      expect(await store.historyState('a', 'ann')).toEqual({ undo: true, redo: false });
      expect((await store.takeHistory('a', 'ann', 'undo'))!.revision).toBe(4);
      expect((await store.takeHistory('a', 'ann', 'undo'))!.revision).toBe(2);
      expect(await store.takeHistory('a', 'ann', 'undo')).toBeNull();
      expect(await store.historyState('a', 'ann')).toEqual({ undo: false, redo: true });
      expect((await store.takeHistory('a', 'ann', 'redo'))!.revision).toBe(2);
      const taken = (await store.takeHistory('a', 'bob', 'undo'))!;
      expect(taken.revision).toBe(3);
      await store.restoreHistory('a', taken, 'undo');
      expect((await store.takeHistory('a', 'bob', 'undo'))!.revision).toBe(3);
      await renameAs(store, 'a', 'ann');
      expect(await store.takeHistory('a', 'ann', 'redo')).toBeNull();
    });

    it('[store-16] keeps the 200 newest undo entries per actor', async () => {
      const a = sceneFixture('a');
      await store.createScene(a, [changed(a)]);
      for (let i = 0; i < 205; i++) await renameAs(store, 'a', 'ann');
      await renameAs(store, 'a', 'bob');
      let undone = 0;
      while (await store.takeHistory('a', 'ann', 'undo')) undone++;
      expect(undone).toBe(200);
      expect((await store.takeHistory('a', 'bob', 'undo'))!.revision).toBe(207);
    });

    it('[store-11] under concurrent commits from one base, exactly one wins and the log stays gap-free', async () => {
      const a = sceneFixture('a');
      await store.createScene(a, [changed(a)]);
      const attempts = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const next = { ...a, revision: 2, title: `t${i}` };
          return store.commit({
            scene: next,
            expectedRevision: 1,
            events: [changed(next), changed(next)],
            history: entry(a, `actor${i}`, 2),
          });
        }),
      );
      const winners = attempts.filter((r) => r !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.map((e) => e.seq)).toEqual([2, 3]);
      const appended = await Promise.all(
        Array.from({ length: 8 }, () => store.appendEvents('a', 2, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }])),
      );
      expect(
        appended
          .flat()
          .map((e) => e.seq)
          .sort((x, y) => x - y),
      ).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      expect((await store.readEvents('a', 0, 100)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect(await store.lastSeq('a')).toBe(11);
    });

    it('[store-9] lists to each viewer only what they own, what is shared with them, and public scenes', async () => {
      const own = { ...sceneFixture('own', 1), ownerId: 'ann' };
      const shared = { ...sceneFixture('shared', 2), ownerId: 'bob' };
      const open = { ...sceneFixture('open', 3), ownerId: 'bob', visibility: Visibility.PUBLIC };
      const link = { ...sceneFixture('link', 4), ownerId: 'bob', visibility: Visibility.LINK };
      for (const s of [own, shared, open, link]) await store.createScene(s, [changed(s)]);
      await store.setMember('shared', 'ann', Role.VIEWER);
      expect((await store.listScenes({ viewerId: 'ann' }, 10, null)).scenes.map((s) => s.id)).toEqual(['open', 'shared', 'own']);
      expect((await store.listScenes({ viewerId: 'ann' }, 10, null)).total).toBe(3);
      expect((await store.listScenes({ viewerId: 'eve' }, 10, null)).scenes.map((s) => s.id)).toEqual(['open']);
      expect((await store.listScenes({ viewerId: null }, 10, null)).scenes.map((s) => s.id)).toEqual(['open']);
    });

    it('[store-10] keeps members, invitations and API tokens', async () => {
      const access = store;
      await access.saveUser({ id: 'ann', displayName: 'Ann', color: '#112233' });
      await access.saveUser({ id: 'ann', displayName: 'Ann B', color: '#112233' });
      expect(await access.getUser('ann')).toEqual({ id: 'ann', displayName: 'Ann B', color: '#112233' });
      expect(await access.getUser('nobody')).toBeNull();
      await access.setMember('s', 'ann', Role.VIEWER);
      await access.setMember('s', 'ann', Role.EDITOR);
      await access.setMember('s', 'bob', Role.VIEWER);
      expect(await access.members('s')).toEqual([
        { userId: 'ann', role: Role.EDITOR },
        { userId: 'bob', role: Role.VIEWER },
      ]);
      expect(await access.removeMember('s', 'bob')).toBe(true);
      expect(await access.removeMember('s', 'bob')).toBe(false);
      expect(await access.memberRole('s', 'bob')).toBeNull();
      expect(await access.memberRole('s', 'ann')).toBe(Role.EDITOR);
      await access.createInvite({ id: 'i1', sceneId: 's', role: Role.EDITOR, token: 'secret', createdAt: '2026-01-01T00:00:00.000Z' });
      expect(await access.findInvite('secret')).toMatchObject({ id: 'i1', sceneId: 's', role: Role.EDITOR });
      expect(await access.invites('s')).toHaveLength(1);
      expect(await access.revokeInvite('s', 'i1')).toBe(true);
      expect(await access.findInvite('secret')).toBeNull();
      await access.createApiToken({
        id: 't1',
        userId: 'ann',
        name: 'ci',
        hash: 'h',
        createdAt: '2026-01-01T00:00:00.000Z',
        lastUsedAt: null,
      });
      await access.touchApiToken('t1', '2026-01-02T00:00:00.000Z');
      expect(await access.findApiToken('h')).toMatchObject({ id: 't1', userId: 'ann', lastUsedAt: '2026-01-02T00:00:00.000Z' });
      expect(await access.apiTokens('ann')).toHaveLength(1);
      expect(await access.revokeApiToken('bob', 't1')).toBe(false);
      expect(await access.revokeApiToken('ann', 't1')).toBe(true);
      expect(await access.apiTokens('ann')).toEqual([]);
    });

    it('[store-15] remembers revoked sessions until they would have expired, and forgets them after', async () => {
      const later = new Date(Date.now() + 3_600_000).toISOString();
      const past = new Date(Date.now() - 1000).toISOString();
      expect(await store.sessionRevoked('s1')).toBe(false);
      await store.revokeSession('s1', later);
      await store.revokeSession('s1', later);
      expect(await store.sessionRevoked('s1')).toBe(true);
      expect(await store.sessionRevoked('s2')).toBe(false);
      await store.revokeSession('old', past);
      expect(await store.sessionRevoked('old')).toBe(false);
      await store.revokeSession('s2', later);
      expect(await store.sessionRevoked('s1')).toBe(true);
      expect(await store.sessionRevoked('s2')).toBe(true);
    });

    it('[store-14] marks scenes whose render is under way, oldest first, until unmarked or deleted', async () => {
      for (const id of ['r1', 'r2', 'r3']) await store.createScene(sceneFixture(id), [changed(sceneFixture(id))]);
      await store.setRendering('r2', true);
      await new Promise((r) => setTimeout(r, 5));
      await store.setRendering('r1', true);
      await store.setRendering('r1', true);
      await new Promise((r) => setTimeout(r, 5));
      await store.setRendering('r3', true);
      await store.setRendering('ghost', true);
      expect(await store.renderingScenes(10)).toEqual(['r2', 'r1', 'r3']);
      expect(await store.renderingScenes(1)).toEqual(['r2']);
      await store.setRendering('r2', false);
      await store.setRendering('r2', false);
      await store.deleteScene('r3', [{ type: 'SceneDeleted', actorId: null }]);
      expect(await store.renderingScenes(10)).toEqual(['r1']);
    });

    it('[store-8] remembers the frame of each render key, and forgets keys on request', async () => {
      expect(await store.framesForKeys(['k', 'j'])).toEqual([null, null]);
      await store.setFrameForKey('k', 'frame');
      await store.setFrameForKey('k', 'frame');
      await store.setFrameForKey('j', 'other');
      expect(await store.framesForKeys(['k', 'x', 'j'])).toEqual(['frame', null, 'other']);
      expect(await store.framesForKeys([])).toEqual([]);
      await store.forgetFrames(['k']);
      expect(await store.framesForKeys(['k', 'j'])).toEqual([null, 'other']);
    });
  });
}
