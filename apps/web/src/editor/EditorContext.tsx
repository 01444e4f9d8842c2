'use client';

import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';
import { useClient } from 'urql';
import type { LayerFieldsFragment, SceneQuery, UserFieldsFragment } from '@strata/schema/client';
import { useStoreSelector } from '@/lib/store';
import type { PresenceState } from '@/lib/presence';
import type { SceneView } from '@/lib/sceneView';
import { createEditorStores, type EditorStores, type EditorUi, type ModelInfo } from './editorStore';
import { createSceneActions, type SceneActions } from './sceneActions';

/** Everything the editor's components share; created once per opened scene. */
export interface Editor {
  stores: EditorStores;
  actions: SceneActions;
  model: ModelInfo;
  /** Who you are (null when the API did not say). */
  me: UserFieldsFragment | null;
}

const EditorContext = createContext<Editor | null>(null);

/** Provide the stores and edits of one loaded scene. */
export function EditorProvider({
  scene,
  model,
  me,
  children,
}: {
  scene: SceneQuery['scene'];
  model: ModelInfo;
  me: UserFieldsFragment | null;
  children: ReactNode;
}) {
  const client = useClient();
  const [editor] = useState<Editor>(() => {
    const { canUndo, canRedo, ...fields } = scene;
    const stores = createEditorStores(fields, model, { history: { canUndo, canRedo }, meId: me?.id ?? null });
    return { stores, model, me, actions: createSceneActions(client, stores) };
  });
  return <EditorContext.Provider value={editor}>{children}</EditorContext.Provider>;
}

/** The editor of the scene being edited. */
export function useEditor(): Editor {
  const editor = useContext(EditorContext);
  if (!editor) throw new Error('useEditor must be used inside <EditorProvider>');
  return editor;
}

/** A slice of the scene view; pass a stable selector. */
export function useSceneView<S>(selector: (view: SceneView) => S, isEqual?: (a: S, b: S) => boolean): S {
  return useStoreSelector(useEditor().stores.scene, selector, isEqual);
}

/** A slice of who is here; pass a stable selector. */
export function usePresence<S>(selector: (state: PresenceState) => S, isEqual?: (a: S, b: S) => boolean): S {
  return useStoreSelector(useEditor().stores.presence, selector, isEqual);
}

/** A slice of the editor's UI state; pass a stable selector. */
export function useUi<S>(selector: (ui: EditorUi) => S, isEqual?: (a: S, b: S) => boolean): S {
  return useStoreSelector(useEditor().stores.ui, selector, isEqual);
}

const selectSelectedId = (ui: EditorUi) => ui.selectedId;

/** True when the caller may change the scene (owners and editors; viewers only watch). */
export const selectCanEdit = (view: SceneView): boolean => view.scene.myRole === 'OWNER' || view.scene.myRole === 'EDITOR';

/** Whether the caller may change the scene. */
export function useCanEdit(): boolean {
  return useSceneView(selectCanEdit);
}

/** One layer by id (re-renders only when that layer changes). */
export function useLayer(layerId: string | null): LayerFieldsFragment | null {
  const select = useCallback((view: SceneView) => view.scene.layers.find((l) => l.id === layerId) ?? null, [layerId]);
  return useSceneView(select);
}

/** The selected layer, if it still exists. */
export function useSelectedLayer(): LayerFieldsFragment | null {
  return useLayer(useUi(selectSelectedId));
}

/** The label of a category id. */
export function useCategoryLabel(categoryId: string): string {
  const { model } = useEditor();
  return model.categories.find((c) => c.id === categoryId)?.label ?? categoryId;
}
