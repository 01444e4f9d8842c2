'use client';

import { useEffect, useState, type FormEvent } from 'react';
import type { SceneView } from '@/lib/sceneView';
import { useEditor, useSceneView } from './EditorContext';

const selectTitle = (view: SceneView) => view.scene.title;

/** The scene's title; click "Rename" to edit it in place. */
export function TitleEditor({ canEdit }: { canEdit: boolean }) {
  const { actions } = useEditor();
  const title = useSceneView(selectTitle);
  const [draft, setDraft] = useState<string | null>(null);
  useEffect(() => {
    document.title = `${title} · Strata`;
  }, [title]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (draft !== null && draft.trim() && draft.trim() !== title) await actions.rename(draft.trim());
    setDraft(null);
  }

  if (draft === null) {
    return (
      <span className="title">
        <h1>{title}</h1>
        {canEdit && (
          <button type="button" className="link-button" onClick={() => setDraft(title)}>
            Rename
          </button>
        )}
      </span>
    );
  }
  return (
    <form className="title rename-form" onSubmit={submit} onKeyDown={(e) => e.key === 'Escape' && setDraft(null)}>
      <label className="visually-hidden" htmlFor="scene-title">
        Scene title
      </label>
      <input id="scene-title" value={draft} maxLength={120} onChange={(e) => setDraft(e.target.value)} autoFocus />
      <button type="submit">Save</button>
    </form>
  );
}
