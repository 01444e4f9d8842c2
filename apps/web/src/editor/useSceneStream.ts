'use client';

import { useEffect } from 'react';
import { useClient } from 'urql';
import { SceneEventsDocument } from '@strata/schema/client';
import { toUserError } from '@/lib/errors';
import { applyEvent, type SceneEvent } from '@/lib/sceneView';
import { patchUi } from './editorStore';
import { useEditor } from './EditorContext';

/** The last events seen, for the browser tests (they check that no frame is missed across a reconnect). */
function recordForTests(event: SceneEvent): void {
  const hook = (window as unknown as { __strata?: { events?: Array<{ seq: number; type: string; step?: number; revision: number }> } }).__strata;
  if (!hook) return;
  const events = (hook.events ??= []);
  events.push({ seq: event.seq, type: event.__typename, revision: event.revision, ...('step' in event ? { step: event.step } : {}) });
  if (events.length > 1000) events.splice(0, events.length - 1000);
}

/**
 * Follow the scene's event stream from the view's `seq` and fold every event into the scene store.
 * The transport resumes from the newest `seq` after a dropped connection (see lib/resumable.ts).
 */
export function useSceneStream(): void {
  const client = useClient();
  const { stores } = useEditor();
  useEffect(() => {
    const { scene, seq } = stores.scene.getState();
    const subscription = client.subscription(SceneEventsDocument, { sceneId: scene.id, after: seq }).subscribe((result) => {
      const event = result.data?.sceneEvents;
      if (event) {
        recordForTests(event);
        stores.scene.setState(applyEvent(stores.scene.getState(), event));
      } else if (result.error) {
        patchUi(stores.ui, { notice: toUserError(result.error) });
      }
    });
    return () => subscription.unsubscribe();
  }, [client, stores]);
}
