'use client';

import { useEffect } from 'react';
import { useClient } from 'urql';
import { SceneEventsDocument } from '@strata/schema/client';
import { toUserError } from '@/lib/errors';
import { applyEvent, type SceneEvent } from '@/lib/sceneView';
import { patchUi } from './editorStore';
import { useEditor } from './EditorContext';

/** What the browser tests read of each logged event (they check that no frame is missed across a reconnect). */
interface RecordedEvent {
  seq: number;
  type: SceneEvent['__typename'];
  revision: number;
  step?: number;
  from?: number;
  to?: number;
}

function recordForTests(event: SceneEvent): void {
  if (event.__typename === 'PresenceChanged') return;
  const scope = window as unknown as { __strata?: { events: RecordedEvent[] } };
  const events = (scope.__strata ??= { events: [] }).events;
  const record: RecordedEvent = { seq: event.seq, type: event.__typename, revision: event.revision };
  if (event.__typename === 'FrameRendered' || event.__typename === 'RenderFailed') record.step = event.step;
  if (event.__typename === 'RenderStarted') Object.assign(record, { from: event.fromStep, to: event.toStep });
  events.push(record);
  if (events.length > 1000) events.splice(0, events.length - 1000);
}

/**
 * Follow the scene's event stream from the view's `seq` and fold every event into the scene store;
 * presence goes to the presence store, and a stream ended by NOT_FOUND marks the access as lost.
 * The transport resumes from the newest `seq` after a dropped connection (see lib/resumable.ts).
 */
export function useSceneStream(): void {
  const client = useClient();
  const { stores } = useEditor();
  useEffect(() => {
    const { scene, seq } = stores.scene.getState();
    let last: SceneEvent | undefined;
    const subscription = client.subscription(SceneEventsDocument, { sceneId: scene.id, after: seq }).subscribe((result) => {
      // urql merges a stream's closing error into its last result: check the error before the data.
      if (result.error) {
        const error = toUserError(result.error);
        // The stream ends with NOT_FOUND when you were removed or the scene was made private.
        if (error.code === 'NOT_FOUND') {
          stores.presence.setState({ ...stores.presence.getState(), participants: [] });
          patchUi(stores.ui, { access: 'lost', selectedId: null, draft: null });
        } else patchUi(stores.ui, { notice: error });
        return;
      }
      const event = result.data?.sceneEvents;
      if (!event || event === last) return;
      last = event;
      if (event.__typename === 'PresenceChanged') {
        // Presence has its own store: pointers move many times a second and touch only their markers.
        stores.presence.setState({ ...stores.presence.getState(), participants: event.participants });
        return;
      }
      recordForTests(event);
      if (event.__typename === 'SceneChanged' && event.change === 'MEMBERS' && event.seq > stores.scene.getState().seq) {
        patchUi(stores.ui, { membersVersion: stores.ui.getState().membersVersion + 1 });
      }
      stores.scene.setState(applyEvent(stores.scene.getState(), event));
    });
    return () => subscription.unsubscribe();
  }, [client, stores]);
}
