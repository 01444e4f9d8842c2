import type { AnyVariables, Client, CombinedError, TypedDocumentNode } from 'urql';
import {
  AddObjectDocument,
  MoveLayerDocument,
  RedoDocument,
  RemoveObjectDocument,
  RenameSceneDocument,
  RerenderDocument,
  RerollObjectDocument,
  SetBackgroundDocument,
  SetLayerVisibilityDocument,
  SetVisibilityDocument,
  UndoDocument,
  UpdateObjectDocument,
  UpdatePresenceDocument,
  type AddObjectInput,
  type BackgroundInput,
  type RerollTarget,
  type SceneEditStateFragment,
  type SceneFieldsFragment,
  type ShapeInput,
  type UpdateObjectInput,
  type Visibility,
} from '@strata/schema/client';
import { ClientErrorCode, toUserError, userError, type UserError } from '@/lib/errors';
import { applySnapshot } from '@/lib/sceneView';
import { patchUi, type EditorStores, type ShapeChoice } from './editorStore';

/** How an edit went: null when accepted, else the error to show. */
export type EditResult = UserError | null;

/** Options of one edit. */
export interface EditOptions {
  /** Do not show a refused edit in the editor's notice (the caller shows it next to its field). */
  quiet?: boolean;
  /** Replace the error before it is shown (undo and redo say "nothing to undo" in their own words). */
  explain?: (error: UserError) => UserError;
  /**
   * The layer's revision when the gesture behind this edit began (a drag, a nudge). If someone else
   * changed the layer since, the edit is sent on that older base and the server answers CONFLICT
   * instead of letting it silently overwrite their change.
   */
  seen?: { layerId: string; revision: number };
}

/** The API refuses undo and redo with an empty history as BAD_USER_INPUT; say what that means here. */
const explainHistory =
  (code: typeof ClientErrorCode.NOTHING_TO_UNDO | typeof ClientErrorCode.NOTHING_TO_REDO) =>
  (error: UserError): UserError =>
    error.code === 'BAD_USER_INPUT' ? userError(code) : error;

/** The edits of one scene. Each one runs after the previous one has answered. */
export type SceneActions = ReturnType<typeof createSceneActions>;

/** The API's shape input for a shape choice. */
export function toShapeInput(choice: ShapeChoice): ShapeInput {
  switch (choice.kind) {
    case 'GENERATED':
      return { kind: 'GENERATED' };
    case 'PRESET':
      return { kind: 'PRESET', preset: choice.preset };
    case 'DRAWN':
      return { kind: 'DRAWN', mask: { data: choice.data, format: 'PNG' } };
  }
}

/** Bind the scene's mutations to its stores: answers fold into the view, refusals into the notice. */
export function createSceneActions(client: Client, stores: EditorStores) {
  const sceneId = stores.scene.getState().scene.id;
  let queue: Promise<unknown> = Promise.resolve();
  /** Scene revisions your own edits produced: a layer changed at one of them was changed by you. */
  const own = new Set<number>();

  /** The newest revision you have seen, unless someone else changed the layer since your gesture began. */
  function baseFor(options: EditOptions): number {
    const { scene } = stores.scene.getState();
    const seen = options.seen;
    if (!seen) return scene.revision;
    const layer = scene.layers.find((l) => l.id === seen.layerId);
    return layer && layer.revision > seen.revision && !own.has(layer.revision) ? seen.revision : scene.revision;
  }

  function edit<Data, Variables extends AnyVariables>(
    document: TypedDocumentNode<Data, Variables>,
    variables: (baseRevision: number) => Variables,
    pick: (data: Data) => SceneFieldsFragment & SceneEditStateFragment,
    options: EditOptions = {},
  ): Promise<EditResult> {
    const run = async (): Promise<EditResult> => {
      const result = await client.mutation(document, variables(baseFor(options))).toPromise();
      if (result.data) {
        const { canUndo, canRedo, ...scene } = pick(result.data);
        own.add(scene.revision);
        stores.scene.setState(applySnapshot(stores.scene.getState(), scene));
        patchUi(stores.ui, { notice: null, history: { canUndo, canRedo } });
        return null;
      }
      const refused = toUserError(result.error as CombinedError);
      const error = options.explain ? options.explain(refused) : refused;
      // Someone else changed it first: drop the draft; the stream brings their version.
      if (refused.code === 'CONFLICT') patchUi(stores.ui, { draft: null });
      if (error.code === ClientErrorCode.NOTHING_TO_UNDO)
        patchUi(stores.ui, { history: { ...stores.ui.getState().history, canUndo: false } });
      if (error.code === ClientErrorCode.NOTHING_TO_REDO)
        patchUi(stores.ui, { history: { ...stores.ui.getState().history, canRedo: false } });
      if (!options.quiet) patchUi(stores.ui, { notice: error });
      return error;
    };
    const next = queue.then(run, run);
    queue = next;
    return next;
  }

  /** Share your selection and pointer; refusals (rate limits, a dropped stream) are dropped. */
  function sharePresence(presence: { selectedLayerId: string | null; pointer: { x: number; y: number } | null }): void {
    void client.mutation(UpdatePresenceDocument, { sceneId, ...presence }).toPromise();
  }

  return {
    sharePresence,
    addObject: (input: AddObjectInput, options?: EditOptions) =>
      edit(
        AddObjectDocument,
        (baseRevision) => ({ sceneId, input, baseRevision }),
        (d) => d.addObject,
        options,
      ),
    updateObject: (layerId: string, input: UpdateObjectInput, options?: EditOptions) =>
      edit(
        UpdateObjectDocument,
        (baseRevision) => ({ sceneId, layerId, input, baseRevision }),
        (d) => d.updateObject,
        options,
      ),
    reroll: (layerId: string, target: RerollTarget) =>
      edit(
        RerollObjectDocument,
        (baseRevision) => ({ sceneId, layerId, target, baseRevision }),
        (d) => d.rerollObject,
      ),
    remove: (layerId: string) =>
      edit(
        RemoveObjectDocument,
        (baseRevision) => ({ sceneId, layerId, baseRevision }),
        (d) => d.removeObject,
      ),
    move: (layerId: string, toIndex: number) =>
      edit(
        MoveLayerDocument,
        (baseRevision) => ({ sceneId, layerId, toIndex, baseRevision }),
        (d) => d.moveLayer,
      ),
    setVisible: (layerId: string, visible: boolean) =>
      edit(
        SetLayerVisibilityDocument,
        (baseRevision) => ({ sceneId, layerId, visible, baseRevision }),
        (d) => d.setLayerVisibility,
      ),
    setBackground: (input: BackgroundInput) =>
      edit(
        SetBackgroundDocument,
        (baseRevision) => ({ sceneId, input, baseRevision }),
        (d) => d.setBackground,
      ),
    rename: (title: string, options?: EditOptions) =>
      edit(
        RenameSceneDocument,
        () => ({ sceneId, title }),
        (d) => d.renameScene,
        options,
      ),
    setVisibility: (visibility: Visibility) =>
      edit(
        SetVisibilityDocument,
        () => ({ sceneId, visibility }),
        (d) => d.setVisibility,
      ),
    rerender: () =>
      edit(
        RerenderDocument,
        () => ({ sceneId }),
        (d) => d.rerender,
      ),
    undo: () =>
      edit(
        UndoDocument,
        () => ({ sceneId }),
        (d) => d.undo,
        { explain: explainHistory(ClientErrorCode.NOTHING_TO_UNDO) },
      ),
    redo: () =>
      edit(
        RedoDocument,
        () => ({ sceneId }),
        (d) => d.redo,
        { explain: explainHistory(ClientErrorCode.NOTHING_TO_REDO) },
      ),
  };
}
