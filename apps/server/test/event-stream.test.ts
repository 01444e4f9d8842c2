import { describe, expect, it } from 'vitest';
import type { EventBus } from '../src/domain/ports.js';
import type { StoredEvent } from '../src/domain/scenes/types.js';
import { streamSceneEvents } from '../src/graphql/event-stream.js';
import { MemorySceneStore } from '../src/infrastructure/memory/memory-store.js';
import { sceneFixture } from './contracts/scene-store.contract.js';

/** A bus that hands events to the listener exactly when and in the order the test says (replicas publish on their own). */
function manualBus() {
  let listener: ((e: StoredEvent) => void) | null = null;
  const bus: EventBus = {
    publish: async () => {},
    subscribe: async (_id, l) => {
      listener = l;
      return () => (listener = null);
    },
    close: async () => {},
  };
  return { bus, deliver: (events: StoredEvent[]) => events.forEach((e) => listener?.(e)) };
}

describe('a scene stream', () => {
  it('delivers every event once, in order, when the bus hands them out of order', async () => {
    const store = new MemorySceneStore();
    const scene = sceneFixture('s');
    await store.createScene(scene, [{ type: 'SceneChanged', change: 'CREATED', layerId: null, actorId: null, scene, frames: [null] }]);
    const { bus, deliver } = manualBus();
    const stream = streamSceneEvents(store, bus, 's', 1);
    const first = stream.next();
    await new Promise((r) => setTimeout(r, 10));
    const appended = await store.appendEvents(
      's',
      1,
      Array.from({ length: 4 }, () => ({ type: 'RenderStarted' as const, fromStep: 0, toStep: 0 })),
    );
    // seq 2, then 4 and 3 swapped, then 5, then 3 again (a duplicate).
    const [e2, e3, e4, e5] = appended;
    deliver([e2!, e4!, e3!, e5!, e3!]);
    const seqs = [(await first).value!.seq];
    while (seqs.length < 4) seqs.push((await stream.next()).value!.seq);
    expect(seqs).toEqual([2, 3, 4, 5]);
    await stream.return(undefined);
  });

  it('ends with SceneDeleted even when events before it were missed and the log went with the scene', async () => {
    const store = new MemorySceneStore();
    const scene = sceneFixture('d');
    await store.createScene(scene, [{ type: 'SceneChanged', change: 'CREATED', layerId: null, actorId: null, scene, frames: [null] }]);
    const { bus, deliver } = manualBus();
    const stream = streamSceneEvents(store, bus, 'd', 1);
    const next = stream.next();
    await new Promise((r) => setTimeout(r, 10));
    await store.appendEvents('d', 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }]);
    const [gone] = await store.deleteScene('d', [{ type: 'SceneDeleted', actorId: null }]);
    // Seq 2 never reaches this process; the deletion (seq 3) does, and the log is gone.
    deliver([gone!]);
    const result = await Promise.race([next, new Promise((r) => setTimeout(() => r('hung'), 2000))]);
    expect(result).toMatchObject({ value: { type: 'SceneDeleted', seq: 3 } });
    expect((await stream.next()).done).toBe(true);
  });
});
