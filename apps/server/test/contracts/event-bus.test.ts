import { describe, expect, it } from 'vitest';
import type { EventBus } from '../../src/domain/ports.js';
import type { StoredEvent } from '../../src/domain/scenes/types.js';
import { MemoryEventBus } from '../../src/infrastructure/memory/memory-bus.js';

const event = (sceneId: string, seq: number): StoredEvent => ({ type: 'SceneDeleted', actorId: null, sceneId, seq, revision: 1, at: '' });

/** The rules every EventBus keeps, run against each implementation. */
function eventBusContract(name: string, make: () => EventBus): void {
  describe(`EventBus contract: ${name}`, () => {
    it('[bus-1] delivers a scene\'s events, in order, to every subscriber of that scene only', () => {
      const bus = make();
      const a1: number[] = [];
      const a2: number[] = [];
      const b: number[] = [];
      bus.subscribe('a', (e) => a1.push(e.seq));
      bus.subscribe('a', (e) => a2.push(e.seq));
      bus.subscribe('b', (e) => b.push(e.seq));
      bus.publish([event('a', 1), event('b', 1), event('a', 2)]);
      expect(a1).toEqual([1, 2]);
      expect(a2).toEqual([1, 2]);
      expect(b).toEqual([1]);
      bus.close();
    });

    it('[bus-2] stops delivering after unsubscribe', () => {
      const bus = make();
      const got: number[] = [];
      const off = bus.subscribe('a', (e) => got.push(e.seq));
      bus.publish([event('a', 1)]);
      off();
      bus.publish([event('a', 2)]);
      expect(got).toEqual([1]);
      bus.close();
    });

    it('[bus-3] isolates a listener that throws from the others', () => {
      const errors: unknown[] = [];
      const bus = name === 'memory' ? new MemoryEventBus((e) => errors.push(e)) : make();
      const got: number[] = [];
      bus.subscribe('a', () => {
        throw new Error('boom');
      });
      bus.subscribe('a', (e) => got.push(e.seq));
      bus.publish([event('a', 1)]);
      expect(got).toEqual([1]);
      bus.close();
    });
  });
}

eventBusContract('memory', () => new MemoryEventBus());
