'use client';

import { useEffect, useState } from 'react';
import { useClient } from 'urql';
import { MeDocument, ModelDocument, SceneDocument, type SceneQuery, type UserFieldsFragment } from '@strata/schema/client';
import { toUserError, type UserError } from '@/lib/errors';
import type { ModelInfo } from './editorStore';

/** Loading, failed (with the error to show), or ready to edit. */
export type EditorLoad =
  | { state: 'loading' }
  | { state: 'failed'; error: UserError }
  | { state: 'ready'; scene: SceneQuery['scene']; model: ModelInfo; me: UserFieldsFragment | null };

/**
 * Fetch the model, the scene and who you are once. The scene is read with `network-only` and not watched:
 * from here on the event stream, not the document cache, keeps it current.
 */
export function useEditorLoad(sceneId: string): EditorLoad {
  const client = useClient();
  const [load, setLoad] = useState<EditorLoad>({ state: 'loading' });
  useEffect(() => {
    let cancelled = false;
    setLoad({ state: 'loading' });
    void Promise.all([
      client.query(ModelDocument, {}).toPromise(),
      client.query(SceneDocument, { id: sceneId }, { requestPolicy: 'network-only' }).toPromise(),
      client.query(MeDocument, {}).toPromise(),
    ]).then(([model, scene, me]) => {
      if (cancelled) return;
      const error = model.error ?? scene.error;
      if (error) setLoad({ state: 'failed', error: toUserError(error) });
      else if (model.data && scene.data)
        setLoad({ state: 'ready', scene: scene.data.scene, model: model.data.model, me: me.data?.me ?? null });
    });
    return () => {
      cancelled = true;
    };
  }, [client, sceneId]);
  return load;
}
