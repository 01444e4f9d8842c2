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

const changed = (scene: SceneData) => ({ type: 'SceneChanged' as const, change: 'CREATED', layerId: null, actorId: null, scene, frames: [null] });

/**
 * The rules every SceneStore keeps (SPEC ids in brackets), run against each implementation.
 */
export function sceneStoreContract(name: string, make: () => SceneStore): void {
  describe(`SceneStore contract: ${name}`, () => {
    let store: SceneStore;
    beforeEach(() => {
      store = make();
    });
    afterEach(() => store.close());

    it('[store-1] returns what was created, and null for unknown ids', () => {
      const scene = sceneFixture('a');
      store.createScene(scene, [changed(scene)]);
      expect(store.getScene('a')).toEqual(scene);
      expect(store.getScene('zzz')).toBeNull();
    });

    it('[store-2] numbers events 1, 2, 3... per scene, across create, commit and append', () => {
      const a = sceneFixture('a');
      const b = sceneFixture('b', 1);
      expect(store.createScene(a, [changed(a)]).map((e) => e.seq)).toEqual([1]);
      expect(store.createScene(b, [changed(b)]).map((e) => e.seq)).toEqual([1]);
      const next = { ...a, revision: 2 };
      expect(store.commit({ scene: next, expectedRevision: 1, events: [changed(next)] })!.map((e) => e.seq)).toEqual([2]);
      const frames = store.appendEvents('a', 2, [
        { type: 'RenderStarted', fromStep: 0, toStep: 0 },
        { type: 'FrameRendered', step: 0, layerId: null, lastStep: 0, frameId: 'f', cached: false },
      ]);
      expect(frames.map((e) => [e.seq, e.revision])).toEqual([[3, 2], [4, 2]]);
      expect(store.lastSeq('a')).toBe(4);
      expect(store.lastSeq('b')).toBe(1);
    });

    it('[store-3] refuses a commit whose expected revision is stale, writing nothing', () => {
      const a = sceneFixture('a');
      store.createScene(a, [changed(a)]);
      expect(store.commit({ scene: { ...a, revision: 2, title: 'x' }, expectedRevision: 7, events: [changed(a)] })).toBeNull();
      expect(store.getScene('a')!.title).toBe(a.title);
      expect(store.lastSeq('a')).toBe(1);
    });

    it('[store-4] reads events after a sequence number, in order, limited', () => {
      const a = sceneFixture('a');
      store.createScene(a, [changed(a)]);
      store.appendEvents('a', 1, Array.from({ length: 10 }, (_, step) => ({ type: 'FrameRendered' as const, step, layerId: null, lastStep: 9, frameId: `f${step}`, cached: false })));
      expect(store.readEvents('a', 3, 4).map((e) => e.seq)).toEqual([4, 5, 6, 7]);
      expect(store.readEvents('a', 11, 4)).toEqual([]);
      expect(store.readEvents('a', 0, 100)[1]).toMatchObject({ type: 'FrameRendered', step: 0, frameId: 'f0', sceneId: 'a', seq: 2 });
    });

    it('[store-5] lists newest first with stable cursors', () => {
      for (let i = 0; i < 5; i++) {
        const s = { ...sceneFixture(`s${i}`, i), visibility: Visibility.PUBLIC };
        store.createScene(s, [changed(s)]);
      }
      const first = store.listScenes({ viewerId: null }, 2, null);
      expect(first.scenes.map((s) => s.id)).toEqual(['s4', 's3']);
      expect(first.total).toBe(5);
      const second = store.listScenes({ viewerId: null }, 2, first.nextCursor);
      expect(second.scenes.map((s) => s.id)).toEqual(['s2', 's1']);
      const last = store.listScenes({ viewerId: null }, 2, second.nextCursor);
      expect(last.scenes.map((s) => s.id)).toEqual(['s0']);
      expect(last.nextCursor).toBeNull();
    });

    it('[store-6] deletes a scene with its log, returning the final events', () => {
      const a = sceneFixture('a');
      store.createScene(a, [changed(a)]);
      const events = store.deleteScene('a', [{ type: 'SceneDeleted', actorId: null }]);
      expect(events.map((e) => [e.type, e.seq])).toEqual([['SceneDeleted', 2]]);
      expect(store.getScene('a')).toBeNull();
      expect(store.readEvents('a', 0, 10)).toEqual([]);
    });

    it("[store-7] keeps each actor's undo and redo stacks apart, and a new edit clears the redo stack", () => {
      const a = sceneFixture('a');
      store.createScene(a, [changed(a)]);
      const entry = (actorId: string, revision: number) => ({ actorId, revision, before: a, after: a, change: 'RENAMED', layerId: null });
      store.pushHistory('a', entry('ann', 2));
      store.pushHistory('a', entry('bob', 3));
      store.pushHistory('a', entry('ann', 4));
      expect(store.takeHistory('a', 'ann', 'undo')!.revision).toBe(4);
      expect(store.takeHistory('a', 'ann', 'undo')!.revision).toBe(2);
      expect(store.takeHistory('a', 'ann', 'undo')).toBeNull();
      expect(store.takeHistory('a', 'ann', 'redo')!.revision).toBe(2);
      const taken = store.takeHistory('a', 'bob', 'undo')!;
      expect(taken.revision).toBe(3);
      store.restoreHistory('a', taken, 'undo');
      expect(store.takeHistory('a', 'bob', 'undo')!.revision).toBe(3);
      store.pushHistory('a', entry('ann', 5));
      expect(store.takeHistory('a', 'ann', 'redo')).toBeNull();
    });

    it('[store-9] lists to each viewer only what they own, what is shared with them, and public scenes', () => {
      const own = { ...sceneFixture('own', 1), ownerId: 'ann' };
      const shared = { ...sceneFixture('shared', 2), ownerId: 'bob' };
      const open = { ...sceneFixture('open', 3), ownerId: 'bob', visibility: Visibility.PUBLIC };
      const link = { ...sceneFixture('link', 4), ownerId: 'bob', visibility: Visibility.LINK };
      for (const s of [own, shared, open, link]) store.createScene(s, [changed(s)]);
      (store as unknown as AccessStore).setMember('shared', 'ann', Role.VIEWER);
      expect(store.listScenes({ viewerId: 'ann' }, 10, null).scenes.map((s) => s.id)).toEqual(['open', 'shared', 'own']);
      expect(store.listScenes({ viewerId: 'ann' }, 10, null).total).toBe(3);
      expect(store.listScenes({ viewerId: 'eve' }, 10, null).scenes.map((s) => s.id)).toEqual(['open']);
      expect(store.listScenes({ viewerId: null }, 10, null).scenes.map((s) => s.id)).toEqual(['open']);
    });

    it('[store-10] keeps members, invitations and API tokens', () => {
      const access = store as unknown as AccessStore;
      access.saveUser({ id: 'ann', displayName: 'Ann', color: '#112233' });
      access.saveUser({ id: 'ann', displayName: 'Ann B', color: '#112233' });
      expect(access.getUser('ann')).toEqual({ id: 'ann', displayName: 'Ann B', color: '#112233' });
      access.setMember('s', 'ann', Role.VIEWER);
      access.setMember('s', 'ann', Role.EDITOR);
      access.setMember('s', 'bob', Role.VIEWER);
      expect(access.members('s')).toEqual([{ userId: 'ann', role: Role.EDITOR }, { userId: 'bob', role: Role.VIEWER }]);
      expect(access.removeMember('s', 'bob')).toBe(true);
      expect(access.removeMember('s', 'bob')).toBe(false);
      expect(access.memberRole('s', 'bob')).toBeNull();
      access.createInvite({ id: 'i1', sceneId: 's', role: Role.EDITOR, token: 'secret', createdAt: 'now' });
      expect(access.findInvite('secret')).toMatchObject({ id: 'i1', sceneId: 's', role: Role.EDITOR });
      expect(access.revokeInvite('s', 'i1')).toBe(true);
      expect(access.findInvite('secret')).toBeNull();
      access.createApiToken({ id: 't1', userId: 'ann', name: 'ci', hash: 'h', createdAt: 'now', lastUsedAt: null });
      access.touchApiToken('t1', 'later');
      expect(access.findApiToken('h')).toMatchObject({ id: 't1', userId: 'ann', lastUsedAt: 'later' });
      expect(access.revokeApiToken('bob', 't1')).toBe(false);
      expect(access.revokeApiToken('ann', 't1')).toBe(true);
      expect(access.apiTokens('ann')).toEqual([]);
    });

    it('[store-8] remembers the frame of a render key', () => {
      expect(store.frameForKey('k')).toBeNull();
      store.setFrameForKey('k', 'frame');
      expect(store.frameForKey('k')).toBe('frame');
    });
  });
}
