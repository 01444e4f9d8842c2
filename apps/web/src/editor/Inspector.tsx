'use client';

import type { SceneView } from '@/lib/sceneView';
import { BoxForm } from './BoxForm';
import { patchUi } from './editorStore';
import { useCategoryLabel, useEditor, useSceneView, useSelectedLayer } from './EditorContext';
import { toShapeInput } from './sceneActions';
import { ShapePicker } from './ShapePicker';

const selectResolution = (view: SceneView) => view.scene.resolution;

/** The selected object: category, box, shape and appearance; every change repaints from its layer up. */
export function Inspector() {
  const { actions, model, stores } = useEditor();
  const layer = useSelectedLayer();
  const resolution = useSceneView(selectResolution);
  const label = useCategoryLabel(layer?.object.category ?? '');
  if (!layer) return null;
  const { object } = layer;
  return (
    <section className="panel inspector" aria-labelledby="inspector-heading">
      <div className="panel-heading">
        <h2 id="inspector-heading">
          {label} <span className="muted">layer {layer.index + 1}</span>
        </h2>
        <button type="button" className="link-button" onClick={() => patchUi(stores.ui, { selectedId: null })}>
          Done
        </button>
      </div>
      <label>
        Category
        <select value={object.category} onChange={(e) => void actions.updateObject(layer.id, { category: e.target.value })}>
          {model.categories.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      <BoxForm key={JSON.stringify(object.box)} layer={layer} resolution={resolution} />
      <ShapePicker
        key={layer.id}
        kind={object.shape.kind}
        preset={object.shape.preset}
        onChange={(choice) => void actions.updateObject(layer.id, { shape: toShapeInput(choice) })}
        onReroll={() => void actions.reroll(layer.id, 'SHAPE')}
      />
      <div className="button-row">
        <button type="button" onClick={() => void actions.reroll(layer.id, 'APPEARANCE')}>
          Reroll appearance
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => {
            patchUi(stores.ui, { selectedId: null });
            void actions.remove(layer.id);
          }}
        >
          Delete object
        </button>
      </div>
    </section>
  );
}
