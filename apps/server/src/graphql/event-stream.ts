import type { EventBus, SceneStore } from '../domain/ports.js';
import type { StoredEvent } from '../domain/scenes/types.js';

/** Events read from the log per page while catching up. */
const PAGE = 256;
/** Live events held for a subscriber that is not pulling; past this it catches up from the log. */
const LIVE_BUFFER = 1024;

/** Transient state (presence) merged into a stream: only its latest value matters. */
export interface TransientSource<T> {
  subscribe(listener: () => void): () => void;
  /** The current value, stamped with the last sequence number and revision the subscriber has seen (null before any event). */
  snapshot(lastSeq: number, revision: number | null): T;
}

export interface StreamOptions<T> {
  /** Replay events after this sequence number first; null = live only. */
  after: number | null;
  /**
   * Throws when the subscriber lost access, which ends the stream. Access only changes with an edit
   * (visibility, members), which always logs a SceneChanged: it is checked on batches that carry one,
   * and `revalidate` (credentials) on every batch.
   */
  authorize?: (edit: StoredEvent) => Promise<void>;
  revalidate?: () => Promise<void>;
  /** Coalesced transient updates, sent first and then whenever they change. */
  transient?: TransientSource<T>;
}

/**
 * A scene's events for one subscriber: every event after `after` from the log, then live ones.
 * The log is the source of truth and the bus only a fast path: when live events were missed
 * (a gap, or a slow subscriber whose buffer filled), the stream reads them back from the log, so
 * no event is ever lost and memory stays bounded. Ends after SceneDeleted.
 */
export async function* streamSceneEvents<T = never>(
  store: SceneStore,
  bus: EventBus,
  sceneId: string,
  options: StreamOptions<T> | number | null,
): AsyncGenerator<StoredEvent | T> {
  const { after, authorize, revalidate, transient } =
    typeof options === 'object' && options !== null
      ? options
      : { after: options, authorize: undefined, revalidate: undefined, transient: undefined };
  let replaying = after !== null;
  let revision: number | null = null;
  const live: StoredEvent[] = [];
  let overflow = false;
  let transientDirty = transient !== undefined;
  let wake: (() => void) | null = null;
  // Subscribe before reading where the log ends, so nothing falls between the two.
  // A deletion removes the scene's log with it: its SceneDeleted exists only on the bus, so it is kept apart
  // and never dropped with the buffer (the stream ends with it even if events before it were missed).
  let deleted: StoredEvent | null = null;
  const unsubscribe = await bus.subscribe(sceneId, (event) => {
    if (event.type === 'SceneDeleted') deleted = event;
    if (live.length >= LIVE_BUFFER) overflow = true;
    else live.push(event);
    wake?.();
  });
  let cursor: number;
  try {
    cursor = after ?? (await store.lastSeq(sceneId));
  } catch (error) {
    unsubscribe();
    throw error;
  }
  const unsubscribeTransient = transient?.subscribe(() => {
    transientDirty = true;
    wake?.();
  });
  try {
    for (;;) {
      let batch: StoredEvent[] = [];
      // Live events may arrive out of order (replicas publish on their own): take only the run that
      // continues the cursor without a hole; a hole is read from the log.
      const next = overflow || replaying ? [] : takeContiguous(live, cursor);
      if (next.length > 0) {
        batch = next;
      } else if (overflow || replaying || live.length > 0) {
        overflow = false;
        live.length = 0;
        batch = await store.readEvents(sceneId, cursor, PAGE);
        replaying = batch.length === PAGE;
      }
      if (batch.length > 0) {
        try {
          await revalidate?.();
          // The batch's last edit is checked, and every edit that changed who may see the scene (visibility,
          // members), so a change of access inside a batch is never hidden by a later, older-looking copy.
          const edits = batch.filter((e) => e.type === 'SceneChanged' || e.type === 'SceneDeleted');
          for (const [i, edit] of edits.entries()) {
            const access = edit.type === 'SceneChanged' && (edit.change === 'VISIBILITY' || edit.change === 'MEMBERS');
            if (access || i === edits.length - 1) await authorize?.(edit);
          }
        } catch (error) {
          // A deleted scene is gone for everyone: its subscribers still get the SceneDeleted event.
          if (!batch.some((e) => e.type === 'SceneDeleted')) throw error;
        }
      }
      for (const event of batch) {
        if (event.seq <= cursor) continue;
        cursor = event.seq;
        revision = event.revision;
        yield event;
        if (event.type === 'SceneDeleted') return;
      }
      if (transientDirty && !replaying) {
        transientDirty = false;
        yield transient!.snapshot(cursor, revision);
        continue;
      }
      // Wait only when nothing arrived meanwhile: events that came in while the log was being read
      // (or credentials checked) found no one waiting, so look at the buffer before sleeping.
      if (batch.length === 0 && live.length === 0 && !overflow && !transientDirty) {
        const gone = deleted as StoredEvent | null;
        if (gone && gone.seq > cursor) {
          // The scene was deleted and its log with it: nothing before the deletion can be read any more.
          yield gone;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    }
  } finally {
    unsubscribe();
    unsubscribeTransient?.();
  }
}

/**
 * Remove from `live` and return the events that continue `cursor` without a hole (seq cursor+1,
 * cursor+2, ...), in order; events already seen are dropped. What remains after a hole stays.
 */
function takeContiguous(live: StoredEvent[], cursor: number): StoredEvent[] {
  if (live.length === 0) return [];
  live.sort((a, b) => a.seq - b.seq);
  const taken: StoredEvent[] = [];
  let expected = cursor + 1;
  let i = 0;
  for (; i < live.length; i++) {
    const seq = live[i]!.seq;
    if (seq < expected) continue;
    if (seq !== expected) break;
    taken.push(live[i]!);
    expected++;
  }
  live.splice(0, i);
  return taken;
}
