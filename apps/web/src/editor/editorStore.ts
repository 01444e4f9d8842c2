import type { ModelQuery, SceneFieldsFragment } from '@strata/schema/client';
import type { Box } from '@/lib/box';
import type { UserError } from '@/lib/errors';
import { createStore, type Store } from '@/lib/store';
import type { PresenceState } from '@/lib/presence';
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
  /** Whether your own edits can be undone or redone (from the load and each edit's answer). */
  history: { canUndo: boolean; canRedo: boolean };
  /** `lost`: the stream ended with NOT_FOUND (removed from the scene, or it was made private). */
  access: 'ok' | 'lost';
  /** Bumped when the scene's members change (a SceneChanged of kind MEMBERS): the share dialog refetches. */
  membersVersion: number;
}

/** The stores of one open scene. */
export interface EditorStores {
  scene: Store<SceneView>;
  ui: Store<EditorUi>;
  /** Who is here: updated by PresenceChanged events, many times a second while pointers move. */
  presence: Store<PresenceState>;
}

/** Fresh stores for a loaded scene. */
export function createEditorStores(
  scene: SceneFieldsFragment,
  model: ModelInfo,
  extra: { history?: EditorUi['history']; meId?: string | null } = {},
): EditorStores {
  return {
    presence: createStore<PresenceState>({ participants: [], meId: extra.meId ?? null }),
    scene: createStore(createSceneView(scene)),
    ui: createStore<EditorUi>({
      selectedId: null,
      viewStep: null,
      draft: null,
      notice: null,
      next: { category: model.categories[0]?.id ?? '', shape: { kind: 'GENERATED' } },
      history: extra.history ?? { canUndo: false, canRedo: false },
      access: 'ok',
      membersVersion: 0,
    }),
  };
}

/** Change a few fields of the UI state. */
export function patchUi(ui: Store<EditorUi>, patch: Partial<EditorUi>): void {
  ui.setState({ ...ui.getState(), ...patch });
}
