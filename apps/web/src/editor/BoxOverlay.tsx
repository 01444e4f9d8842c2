'use client';

import type { CSSProperties } from 'react';
import type { LayerFieldsFragment } from '@strata/schema/client';
import type { Box } from '@/lib/box';
import type { SceneView } from '@/lib/sceneView';
import type { EditorUi } from './editorStore';
import { useCategoryLabel, useSceneView, useUi } from './EditorContext';

const HANDLES = ['nw', 'ne', 'sw', 'se'] as const;

const selectLayers = (view: SceneView) => view.scene.layers;
// Frames stream into layers many times a second; the overlay only cares about boxes and visibility.
const sameBoxes = (a: readonly LayerFieldsFragment[], b: readonly LayerFieldsFragment[]) =>
  a.length === b.length && a.every((l, i) => l.id === b[i]?.id && l.object === b[i]?.object && l.visible === b[i]?.visible);
const selectSelectedId = (ui: EditorUi) => ui.selectedId;
const selectDraft = (ui: EditorUi) => ui.draft;

function boxStyle(box: Box): CSSProperties {
  return { left: `${box.x * 100}%`, top: `${box.y * 100}%`, width: `${box.w * 100}%`, height: `${box.h * 100}%` };
}

function SelectedBox({ layer, box }: { layer: LayerFieldsFragment; box: Box }) {
  const label = useCategoryLabel(layer.object.category);
  return (
    <div className="box box-selected" style={boxStyle(box)} data-testid="selected-box">
      <span className={box.y < 0.08 ? 'box-label box-label-inside' : 'box-label'}>{label}</span>
      {HANDLES.map((handle) => (
        <span key={handle} className={`box-handle box-handle-${handle}`} data-handle={handle} aria-hidden />
      ))}
    </div>
  );
}

/** Outlines of the objects' boxes, the selected one with resize handles, and the box being dragged. */
export function BoxOverlay() {
  const layers = useSceneView(selectLayers, sameBoxes);
  const selectedId = useUi(selectSelectedId);
  const draft = useUi(selectDraft);
  return (
    <>
      {layers.map((layer) => {
        const box = draft?.layerId === layer.id ? draft.box : layer.object.box;
        if (layer.id === selectedId) return <SelectedBox key={layer.id} layer={layer} box={box} />;
        return layer.visible ? <div key={layer.id} className="box" style={boxStyle(box)} aria-hidden /> : null;
      })}
      {draft && draft.layerId === null && <div className="box box-draft" style={boxStyle(draft.box)} aria-hidden />}
    </>
  );
}
