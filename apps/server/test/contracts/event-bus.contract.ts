import { describe, expect, it } from 'vitest';
import type { EventBus } from '../../src/domain/ports.js';
import type { StoredEvent } from '../../src/domain/scenes/types.js';

const event = (sceneId: string, seq: number): StoredEvent => ({ type: 'SceneDeleted', actorId: null, sceneId, seq, revision: 1, at: '' });

/** Wait until `check` passes (buses across processes deliver asynchronously). */
async function eventually(check: () => void, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** The rules every EventBus keeps, run against each implementation. `make` may return buses that share one channel. */
export function eventBusContract(name: string, make: () => Promise<EventBus> | EventBus): void {
  describe(`EventBus contract: ${name}`, () => {
    it("[bus-1] delivers a scene's events, in order, to every subscriber of that scene only", async () => {
      const bus = await make();
      const a1: number[] = [];
      const a2: number[] = [];
      const b: number[] = [];
      await bus.subscribe('a', (e) => a1.push(e.seq));
      await bus.subscribe('a', (e) => a2.push(e.seq));
      await bus.subscribe('b', (e) => b.push(e.seq));
      await bus.publish([event('a', 1), event('b', 1), event('a', 2)]);
      await eventually(() => {
        expect(a1).toEqual([1, 2]);
        expect(a2).toEqual([1, 2]);
        expect(b).toEqual([1]);
      });
      await bus.close();
    });

    it('[bus-2] stops delivering after unsubscribe', async () => {
      const bus = await make();
      const got: number[] = [];
      const other: number[] = [];
      const off = await bus.subscribe('a', (e) => got.push(e.seq));
      await bus.subscribe('a', (e) => other.push(e.seq));
      await bus.publish([event('a', 1)]);
      await eventually(() => expect(got).toEqual([1]));
      off();
      await bus.publish([event('a', 2)]);
      await eventually(() => expect(other).toEqual([1, 2]));
      expect(got).toEqual([1]);
      await bus.close();
    });

    it('[bus-3] isolates a listener that throws from the others', async () => {
      const bus = await make();
      const got: number[] = [];
      await bus.subscribe('a', () => {
        throw new Error('boom');
      });
      await bus.subscribe('a', (e) => got.push(e.seq));
      await bus.publish([event('a', 1)]);
      await eventually(() => expect(got).toEqual([1]));
      await bus.close();
    });

    it('[bus-4] keeps a burst of one scene in order', async () => {
      const bus = await make();
      const got: number[] = [];
      await bus.subscribe('a', (e) => got.push(e.seq));
      for (let i = 1; i <= 200; i++) void bus.publish([event('a', i)]);
      await eventually(() => expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i + 1)));
      await bus.close();
    });
  });
}
