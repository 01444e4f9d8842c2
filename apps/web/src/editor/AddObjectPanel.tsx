'use client';

import { snapBox } from '@/lib/box';
import { patchUi, type EditorUi } from './editorStore';
import { useEditor, useUi } from './EditorContext';
import { ShapePicker } from './ShapePicker';
import { placeObject } from './placeObject';

const selectNext = (ui: EditorUi) => ui.next;

/** Category and shape of the next object; drag a box on the canvas (or press "Place") to add it. */
export function AddObjectPanel() {
  const editor = useEditor();
  const { model, stores } = editor;
  const next = useUi(selectNext);
  const placeInMiddle = () => {
    const resolution = stores.scene.getState().scene.resolution;
    void placeObject(editor, snapBox({ x: 0.3, y: 0.35, w: 0.4, h: 0.4 }, resolution));
  };
  return (
    <section className="panel add-object" aria-labelledby="add-heading">
      <h2 id="add-heading">Add an object</h2>
      <label>
        Category
        <select name="category" value={next.category} onChange={(e) => patchUi(stores.ui, { next: { ...next, category: e.target.value } })}>
          {model.categories.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      <ShapePicker
        kind={next.shape.kind}
        preset={next.shape.kind === 'PRESET' ? next.shape.preset : null}
        onChange={(shape) => patchUi(stores.ui, { next: { ...next, shape } })}
      />
      <p className="hint">Drag a box on an empty part of the canvas to place it, or</p>
      <button type="button" onClick={placeInMiddle}>
        Place in the middle
      </button>
    </section>
  );
}
