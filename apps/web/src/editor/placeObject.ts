import type { Box } from '@/lib/box';
import { patchUi } from './editorStore';
import type { Editor } from './EditorContext';
import { toShapeInput } from './sceneActions';

/** Add an object in `box` with the chosen category and shape; select it once accepted. */
export async function placeObject(editor: Editor, box: Box): Promise<void> {
  const { stores, actions } = editor;
  const { category, shape } = stores.ui.getState().next;
  const before = new Set(stores.scene.getState().scene.layers.map((l) => l.id));
  patchUi(stores.ui, { draft: { layerId: null, box } });
  const error = await actions.addObject({ category, box, shape: toShapeInput(shape) });
  const added = stores.scene.getState().scene.layers.find((l) => !before.has(l.id));
  patchUi(stores.ui, { draft: null, ...(error || !added ? {} : { selectedId: added.id }) });
}
