'use client';

import { useRef, type PointerEvent, type RefObject } from 'react';
import { boxFromCorners, containsPoint, dragBox, isDrawable, sameBox, snapBox, type Box, type BoxHandle, type Point } from '@/lib/box';
import { patchUi } from './editorStore';
import { useEditor, type Editor } from './EditorContext';
import { placeObject } from './placeObject';

type Drag =
  | { kind: 'create'; start: Point; screen: Point }
  | { kind: 'edit'; layerId: string; handle: BoxHandle; start: Point; screen: Point; origin: Box; revision: number };

/** Screen pixels a pointer may travel and still count as a click. */
const CLICK_SLOP = 4;

function pointIn(element: HTMLElement, event: PointerEvent): Point {
  const rect = element.getBoundingClientRect();
  return { x: (event.clientX - rect.left) / rect.width, y: (event.clientY - rect.top) / rect.height };
}

/** Select the topmost visible layer under the point, or nothing. */
function selectAt({ stores }: Editor, point: Point): void {
  const layers = stores.scene.getState().scene.layers;
  const hit = [...layers].reverse().find((l) => l.visible && containsPoint(l.object.box, point));
  patchUi(stores.ui, { selectedId: hit?.id ?? null });
}

async function commitBox(editor: Editor, layerId: string, box: Box, revision: number): Promise<void> {
  await editor.actions.updateObject(layerId, { box }, { seen: { layerId, revision } });
  patchUi(editor.stores.ui, { draft: null });
}

/**
 * Pointer handling of the canvas overlay: drag on empty canvas to place an object, drag the selected
 * box to move it or a corner to resize it, click to select. The box follows the pointer as a draft;
 * the edit is sent on release.
 */
export function useStageDrag(overlay: RefObject<HTMLDivElement | null>) {
  const editor = useEditor();
  const drag = useRef<Drag | null>(null);
  const { stores } = editor;

  function draftFor(current: Drag, point: Point): { layerId: string | null; box: Box } {
    if (current.kind === 'create') return { layerId: null, box: boxFromCorners(current.start, point) };
    const delta = { x: point.x - current.start.x, y: point.y - current.start.y };
    return { layerId: current.layerId, box: dragBox(current.origin, current.handle, delta) };
  }

  function onPointerDown(event: PointerEvent<HTMLDivElement>) {
    if (event.button !== 0 || !overlay.current) return;
    event.preventDefault();
    overlay.current.focus();
    overlay.current.setPointerCapture(event.pointerId);
    const start = pointIn(overlay.current, event);
    const screen = { x: event.clientX, y: event.clientY };
    const { selectedId } = stores.ui.getState();
    const selected = stores.scene.getState().scene.layers.find((l) => l.id === selectedId);
    const handle = (event.target as HTMLElement).dataset.handle as BoxHandle | undefined;
    if (selected && (handle || containsPoint(selected.object.box, start))) {
      drag.current = {
        kind: 'edit',
        layerId: selected.id,
        handle: handle ?? 'move',
        start,
        screen,
        origin: selected.object.box,
        revision: selected.revision,
      };
    } else {
      drag.current = { kind: 'create', start, screen };
    }
  }

  function onPointerMove(event: PointerEvent<HTMLDivElement>) {
    if (!drag.current || !overlay.current) return;
    patchUi(stores.ui, { draft: draftFor(drag.current, pointIn(overlay.current, event)) });
  }

  function onPointerUp(event: PointerEvent<HTMLDivElement>) {
    const current = drag.current;
    drag.current = null;
    if (!current || !overlay.current) return;
    const point = pointIn(overlay.current, event);
    const isClick = Math.hypot(event.clientX - current.screen.x, event.clientY - current.screen.y) < CLICK_SLOP;
    const resolution = stores.scene.getState().scene.resolution;
    const { box } = draftFor(current, point);
    if (isClick || (current.kind === 'create' && !isDrawable(box, resolution))) {
      patchUi(stores.ui, { draft: null });
      if (isClick) selectAt(editor, point);
      return;
    }
    const snapped = snapBox(box, resolution);
    if (current.kind === 'create') void placeObject(editor, snapped);
    else if (sameBox(snapped, current.origin)) patchUi(stores.ui, { draft: null });
    else void commitBox(editor, current.layerId, snapped, current.revision);
  }

  function onPointerCancel() {
    drag.current = null;
    patchUi(stores.ui, { draft: null });
  }

  return { onPointerDown, onPointerMove, onPointerUp, onPointerCancel };
}
