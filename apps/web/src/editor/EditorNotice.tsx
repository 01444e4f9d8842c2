'use client';

import { ErrorNotice } from '@/components/ErrorNotice';
import type { SceneView } from '@/lib/sceneView';
import { patchUi, type EditorUi } from './editorStore';
import { useEditor, useSceneView, useUi } from './EditorContext';

const selectNotice = (ui: EditorUi) => ui.notice;
const selectDeleted = (view: SceneView) => view.deleted;

/** The latest refused edit, and the news that the scene was deleted. */
export function EditorNotice() {
  const { stores } = useEditor();
  const notice = useUi(selectNotice);
  const deleted = useSceneView(selectDeleted);
  return (
    <>
      {deleted && (
        <p className="notice notice-error" role="alert">
          This scene was deleted. <a href="/">Back to your scenes</a>
        </p>
      )}
      <ErrorNotice error={notice} onDismiss={() => patchUi(stores.ui, { notice: null })} />
    </>
  );
}
