import type { EventBus, SceneStore } from '../domain/ports.js';
import type { StoredEvent } from '../domain/types.js';

/** Events read from the log per page while catching up. */
const PAGE = 256;
/** Live events held for a subscriber that is not pulling; past this it catches up from the log. */
const LIVE_BUFFER = 1024;

/**
 * A scene's events for one subscriber: every event after `after` from the log, then live ones.
 * The log is the source of truth and the bus only a fast path: when live events were missed
 * (a gap, or a slow subscriber whose buffer filled), the stream reads them back from the log, so
 * no event is ever lost and memory stays bounded. Ends after SceneDeleted.
 */
export async function* streamSceneEvents(store: SceneStore, bus: EventBus, sceneId: string, after: number | null): AsyncGenerator<StoredEvent> {
  let cursor = after ?? store.lastSeq(sceneId);
  let replaying = after !== null;
  const live: StoredEvent[] = [];
  let overflow = false;
  let wake: (() => void) | null = null;
  const unsubscribe = bus.subscribe(sceneId, (event) => {
    if (live.length >= LIVE_BUFFER) overflow = true;
    else live.push(event);
    wake?.();
  });
  try {
    for (;;) {
      let batch: StoredEvent[] = [];
      if (!overflow && !replaying && live.length > 0 && live[0]!.seq <= cursor + 1) {
        batch = live.splice(0, live.length);
      } else if (overflow || replaying || live.length > 0) {
        overflow = false;
        live.length = 0;
        batch = store.readEvents(sceneId, cursor, PAGE);
        replaying = batch.length === PAGE;
      }
      for (const event of batch) {
        if (event.seq <= cursor) continue;
        cursor = event.seq;
        yield event;
        if (event.type === 'SceneDeleted') return;
      }
      if (batch.length === 0) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
  } finally {
    unsubscribe();
  }
}
