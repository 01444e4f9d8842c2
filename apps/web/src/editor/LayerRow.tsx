'use client';

import { useCallback, type DragEventHandler } from 'react';
import type { RenderState } from '@strata/schema/client';
import { FrameImage } from '@/components/FrameImage';
import { patchUi, type EditorUi } from './editorStore';
import { useCanEdit, useCategoryLabel, useEditor, useLayer, useUi } from './EditorContext';

const STATE_TEXT: Record<RenderState, string> = { DONE: 'painted', PENDING: 'queued', RENDERING: 'painting…', FAILED: 'failed' };

interface LayerRowProps {
  layerId: string;
  index: number;
  count: number;
  dropTarget: boolean;
  onDragStart: DragEventHandler;
  onDragOver: DragEventHandler;
  onDragEnd: DragEventHandler;
  onDrop: DragEventHandler;
}

/** One layer: thumbnail, name, paint state, and its actions. Re-renders only when its layer changes. */
export function LayerRow({ layerId, index, count, dropTarget, ...drag }: LayerRowProps) {
  const { stores } = useEditor();
  const layer = useLayer(layerId);
  const selected = useUi(useCallback((ui: EditorUi) => ui.selectedId === layerId, [layerId]));
  const label = useCategoryLabel(layer?.object.category ?? '');
  const canEdit = useCanEdit();
  if (!layer) return null;
  const name = `${label} ${index + 1}`;
  const state = layer.renderState;
  return (
    <li
      className={`layer-row${selected ? ' is-selected' : ''}${dropTarget ? ' is-drop-target' : ''}${layer.visible ? '' : ' is-hidden'}`}
      draggable={canEdit}
      data-layer-id={layerId}
      data-state={state}
      {...(canEdit ? drag : {})}
    >
      <span className="drag-handle" aria-hidden title={canEdit ? 'Drag to reorder' : undefined}>
        {canEdit ? '⋮⋮' : ''}
      </span>
      <button
        type="button"
        className="layer-select"
        aria-pressed={selected}
        onClick={() => patchUi(stores.ui, { selectedId: selected ? null : layerId })}
      >
        <FrameImage frame={layer.frame} size={40} alt={`Canvas after ${name}`} />
        <span className="layer-text">
          <span className="layer-name">{name}</span>
          {state !== 'DONE' && <span className={`pill pill-${state.toLowerCase()}`}>{STATE_TEXT[state]}</span>}
        </span>
      </button>
      {state === 'RENDERING' && <progress className="layer-progress" aria-label={`Painting ${name}`} />}
      {canEdit && <LayerActions layerId={layerId} name={name} visible={layer.visible} index={index} count={count} />}
    </li>
  );
}

/** Hide or show, reroll, move up or down, delete. */
function LayerActions({
  layerId,
  name,
  visible,
  index,
  count,
}: {
  layerId: string;
  name: string;
  visible: boolean;
  index: number;
  count: number;
}) {
  const { actions } = useEditor();
  return (
    <span className="layer-actions">
      <button
        type="button"
        aria-label={`${visible ? 'Hide' : 'Show'} ${name}`}
        aria-pressed={!visible}
        onClick={() => void actions.setVisible(layerId, !visible)}
      >
        {visible ? '◉' : '○'}
      </button>
      <button type="button" aria-label={`Reroll ${name}`} onClick={() => void actions.reroll(layerId, 'APPEARANCE')}>
        ⟳
      </button>
      <button
        type="button"
        aria-label={`Move ${name} up`}
        disabled={index === count - 1}
        onClick={() => void actions.move(layerId, index + 1)}
      >
        ↑
      </button>
      <button type="button" aria-label={`Move ${name} down`} disabled={index === 0} onClick={() => void actions.move(layerId, index - 1)}>
        ↓
      </button>
      <button type="button" aria-label={`Delete ${name}`} onClick={() => void actions.remove(layerId)}>
        ✕
      </button>
    </span>
  );
}
