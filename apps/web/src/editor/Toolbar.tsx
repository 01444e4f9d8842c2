'use client';

import Link from 'next/link';
import { ImportButton } from '@/components/ImportButton';
import type { SceneView } from '@/lib/sceneView';
import { ConnectionBanner } from './ConnectionBanner';
import type { EditorUi } from './editorStore';
import { useCanEdit, useEditor, useSceneView, useUi } from './EditorContext';
import { Participants } from './Participants';
import { ShareControl } from './ShareDialog';
import { TitleEditor } from './TitleEditor';
import { EXPORT_SCALE, useExports } from './useExports';

const selectHasFrame = (view: SceneView) => view.liveFrame !== null;
const selectCanUndo = (ui: EditorUi) => ui.history.canUndo;
const selectCanRedo = (ui: EditorUi) => ui.history.canRedo;

/** Title, undo and redo (your own edits), exports and import, who is here, sharing, and the stream's state. */
export function Toolbar() {
  const { actions } = useEditor();
  const { exportPng, exportJson } = useExports();
  const hasFrame = useSceneView(selectHasFrame);
  const canEdit = useCanEdit();
  const canUndo = useUi(selectCanUndo);
  const canRedo = useUi(selectCanRedo);
  return (
    <div className="toolbar" role="toolbar" aria-label="Scene">
      <Link href="/" className="back-link">
        ← Scenes
      </Link>
      <TitleEditor canEdit={canEdit} />
      <span className="toolbar-group" hidden={!canEdit}>
        <button
          type="button"
          onClick={() => void actions.undo()}
          disabled={!canUndo}
          aria-keyshortcuts="Control+Z Meta+Z"
          title="Undo (Ctrl+Z)"
        >
          Undo
        </button>
        <button
          type="button"
          onClick={() => void actions.redo()}
          disabled={!canRedo}
          aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z Control+Y"
          title="Redo (Ctrl+Shift+Z)"
        >
          Redo
        </button>
      </span>
      <span className="toolbar-group">
        <button type="button" onClick={() => void exportPng(1)} disabled={!hasFrame}>
          Export PNG
        </button>
        <button type="button" onClick={() => void exportPng(EXPORT_SCALE)} disabled={!hasFrame}>
          PNG ×{EXPORT_SCALE}
        </button>
        <button type="button" onClick={() => void exportJson()}>
          Export JSON
        </button>
        <ImportButton />
      </span>
      <span className="toolbar-group toolbar-people">
        <Participants />
        <ShareControl />
        <ConnectionBanner />
      </span>
    </div>
  );
}
