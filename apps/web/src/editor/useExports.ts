'use client';

import { useClient } from 'urql';
import { SceneDocumentDocument, type FrameFieldsFragment } from '@strata/schema/client';
import { downloadBlob, fileName } from '@/lib/download';
import { toUserError, userError } from '@/lib/errors';
import { loadImage, scaledPng } from '@/lib/images';
import { frameAtStep } from '@/lib/sceneView';
import { patchUi } from './editorStore';
import { useEditor } from './EditorContext';

/** Scale of the "scaled up" PNG export. */
export const EXPORT_SCALE = 8;

/** Export the canvas on screen as PNG (native or scaled up) and the scene as a JSON document. */
export function useExports() {
  const client = useClient();
  const { stores } = useEditor();

  function shownFrame(): { frame: FrameFieldsFragment | null; title: string } {
    const view = stores.scene.getState();
    const step = stores.ui.getState().viewStep;
    return { frame: step === null ? view.liveFrame : frameAtStep(view.scene, step), title: view.scene.title };
  }

  async function guarded(work: () => Promise<void>) {
    try {
      await work();
    } catch {
      patchUi(stores.ui, { notice: userError('NETWORK') });
    }
  }

  return {
    exportPng: (scale: number) =>
      guarded(async () => {
        const { frame, title } = shownFrame();
        if (!frame) return;
        const suffix = scale === 1 ? '.png' : `@${scale}x.png`;
        // Native size: the server's own bytes. Scaled: nearest-neighbour, so pixels stay crisp.
        const blob = scale === 1 ? await (await fetch(frame.url)).blob() : await scaledPng(await loadImage(frame.url), scale);
        downloadBlob(blob, fileName(title, suffix));
      }),
    exportJson: () =>
      guarded(async () => {
        const { scene } = stores.scene.getState();
        const result = await client.query(SceneDocumentDocument, { id: scene.id }, { requestPolicy: 'network-only' }).toPromise();
        if (result.error) return patchUi(stores.ui, { notice: toUserError(result.error) });
        if (!result.data) return;
        const json = JSON.stringify(result.data.scene.document, null, 2);
        downloadBlob(new Blob([json], { type: 'application/json' }), fileName(scene.title, '.strata.json'));
      }),
  };
}
