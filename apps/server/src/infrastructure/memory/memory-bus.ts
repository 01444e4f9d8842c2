import type { EventBus } from '../../domain/ports.js';
import type { StoredEvent } from '../../domain/scenes/types.js';

/** In-process fan-out of events per scene. Listeners must not throw; one that does is isolated. */
export class MemoryEventBus implements EventBus {
  private readonly listeners = new Map<string, Set<(event: StoredEvent) => void>>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  async publish(events: readonly StoredEvent[]): Promise<void> {
    for (const event of events) {
      for (const listener of this.listeners.get(event.sceneId) ?? []) {
        try {
          listener(event);
        } catch (error) {
          this.onListenerError(error);
        }
      }
    }
  }

  async subscribe(sceneId: string, listener: (event: StoredEvent) => void): Promise<() => void> {
    const set = this.listeners.get(sceneId) ?? new Set();
    set.add(listener);
    this.listeners.set(sceneId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(sceneId);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
