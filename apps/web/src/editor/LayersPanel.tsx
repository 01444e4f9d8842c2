'use client';

import { useState, type DragEvent } from 'react';
import { shallowArrayEqual } from '@/lib/store';
import type { SceneView } from '@/lib/sceneView';
import { useEditor, useSceneView } from './EditorContext';
import { LayerRow } from './LayerRow';

const selectLayerIds = (view: SceneView) => view.scene.layers.map((l) => l.id);

/** The object layers, top first: select, reorder (drag, or the arrow buttons), hide, reroll, delete. */
export function LayersPanel() {
  const { actions } = useEditor();
  const ids = useSceneView(selectLayerIds, shallowArrayEqual);
  const [dragging, setDragging] = useState<string | null>(null);
  const [overIndex, setOverIndex] = useState<number | null>(null);
  const topFirst = [...ids].reverse();

  function dropOn(index: number) {
    return (event: DragEvent) => {
      event.preventDefault();
      const id = dragging ?? event.dataTransfer.getData('text/plain');
      setDragging(null);
      setOverIndex(null);
      if (id && ids.indexOf(id) !== index) void actions.move(id, index);
    };
  }

  return (
    <section className="panel layers" aria-labelledby="layers-heading">
      <h2 id="layers-heading">Layers</h2>
      {ids.length === 0 ? (
        <p className="muted empty">No objects yet: drag a box on the canvas.</p>
      ) : (
        <ol className="layer-list" aria-label="Layers, top first">
          {topFirst.map((id) => {
            const index = ids.indexOf(id);
            return (
              <LayerRow
                key={id}
                layerId={id}
                index={index}
                count={ids.length}
                dropTarget={overIndex === index && dragging !== id}
                onDragStart={(event) => {
                  event.dataTransfer.setData('text/plain', id);
                  event.dataTransfer.effectAllowed = 'move';
                  setDragging(id);
                }}
                onDragOver={(event) => {
                  event.preventDefault();
                  setOverIndex(index);
                }}
                onDragEnd={() => {
                  setDragging(null);
                  setOverIndex(null);
                }}
                onDrop={dropOn(index)}
              />
            );
          })}
        </ol>
      )}
    </section>
  );
}
