import type { ModelQuery, SceneFieldsFragment } from '@strata/schema/client';
import type { Box } from '@/lib/box';
import type { UserError } from '@/lib/errors';
import { createStore, type Store } from '@/lib/store';
import { createSceneView, type SceneView } from '@/lib/sceneView';

/** The generators' description: categories, styles, presets, resolution and limits. */
export type ModelInfo = ModelQuery['model'];

/** The shape a new or edited object gets. */
export type ShapeChoice = { kind: 'GENERATED' } | { kind: 'PRESET'; preset: string } | { kind: 'DRAWN'; data: string };

/** Editor state that is not the scene: selection, the step being viewed, a box being dragged. */
export interface EditorUi {
  selectedId: string | null;
  /** The step shown on the canvas; null follows the live render. */
  viewStep: number | null;
  /** A box being dragged or nudged, shown before the edit is sent (layerId null: a new object). */
  draft: { layerId: string | null; box: Box } | null;
  /** The latest edit the server refused. */
  notice: UserError | null;
  /** Category and shape of the next object placed on the canvas. */
  next: { category: string; shape: ShapeChoice };
}

/** The stores of one open scene. */
export interface EditorStores {
  scene: Store<SceneView>;
  ui: Store<EditorUi>;
}

/** Fresh stores for a loaded scene. */
export function createEditorStores(scene: SceneFieldsFragment, model: ModelInfo): EditorStores {
  return {
    scene: createStore(createSceneView(scene)),
    ui: createStore<EditorUi>({
      selectedId: null,
      viewStep: null,
      draft: null,
      notice: null,
      next: { category: model.categories[0]?.id ?? '', shape: { kind: 'GENERATED' } },
    }),
  };
}

/** Change a few fields of the UI state. */
export function patchUi(ui: Store<EditorUi>, patch: Partial<EditorUi>): void {
  ui.setState({ ...ui.getState(), ...patch });
}
