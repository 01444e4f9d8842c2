'use client';

import { useEffect } from 'react';
import { dragBox, snapBox, type Box } from '@/lib/box';
import { patchUi } from './editorStore';
import { selectCanEdit, useEditor, type Editor } from './EditorContext';

const ARROWS: Record<string, { x: number; y: number }> = {
  ArrowLeft: { x: -1, y: 0 },
  ArrowRight: { x: 1, y: 0 },
  ArrowUp: { x: 0, y: -1 },
  ArrowDown: { x: 0, y: 1 },
};

/** Arrow presses within this many milliseconds become one edit. */
const NUDGE_SETTLE_MS = 300;

/** Keys typed into a field belong to the field. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  // A dialog's keys belong to the dialog (Backspace on its buttons must not delete a layer).
  return target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName) || target.closest('dialog') !== null;
}

/** Nudges move the draft box at once and send one edit once the keys settle. */
function createNudger(editor: Editor) {
  const { stores, actions } = editor;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The layer's revision when this run of nudges began (a conflict check for the one edit it sends). */
  let seen: { layerId: string; revision: number } | null = null;
  return (layerId: string, pixels: { x: number; y: number }) => {
    const { scene } = stores.scene.getState();
    const layer = scene.layers.find((l) => l.id === layerId);
    if (!layer) return;
    const { draft } = stores.ui.getState();
    if (seen?.layerId !== layerId || draft?.layerId !== layerId) seen = { layerId, revision: layer.revision };
    const base = seen;
    const from: Box = draft?.layerId === layerId ? draft.box : layer.object.box;
    const delta = { x: pixels.x / scene.resolution, y: pixels.y / scene.resolution };
    const box = snapBox(dragBox(from, 'move', delta), scene.resolution);
    patchUi(stores.ui, { draft: { layerId, box } });
    clearTimeout(timer);
    timer = setTimeout(() => {
      seen = null;
      void actions.updateObject(layerId, { box }, { seen: base }).then(() => patchUi(stores.ui, { draft: null }));
    }, NUDGE_SETTLE_MS);
  };
}

/**
 * The editor's keyboard shortcuts: Ctrl/Cmd+Z undo, Shift+Ctrl/Cmd+Z or Ctrl+Y redo,
 * Delete or Backspace removes the selected layer, arrows nudge it (Shift: 4 pixels), Escape deselects.
 */
export function useShortcuts(): void {
  const editor = useEditor();
  useEffect(() => {
    const { stores, actions } = editor;
    const nudge = createNudger(editor);
    function onKeyDown(event: KeyboardEvent) {
      // While a modal dialog is open its keys are its own (Escape closes it, wherever the focus is).
      if (isTyping(event.target) || event.altKey || document.querySelector('dialog[open]') || !selectCanEdit(stores.scene.getState()))
        return;
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key;
      const selectedId = stores.ui.getState().selectedId;
      const arrow = ARROWS[key];
      if (mod && key.toLowerCase() === 'z') void (event.shiftKey ? actions.redo() : actions.undo());
      else if (mod && key.toLowerCase() === 'y') void actions.redo();
      else if (mod) return;
      else if ((key === 'Delete' || key === 'Backspace') && selectedId) {
        patchUi(stores.ui, { selectedId: null });
        void actions.remove(selectedId);
      } else if (key === 'Escape') patchUi(stores.ui, { selectedId: null, draft: null });
      else if (arrow && selectedId) {
        const step = event.shiftKey ? 4 : 1;
        nudge(selectedId, { x: arrow.x * step, y: arrow.y * step });
      } else return;
      event.preventDefault();
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [editor]);
}
