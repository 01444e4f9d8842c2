'use client';

import { useState } from 'react';
import type { Visibility } from '@strata/schema/client';
import type { SceneView } from '@/lib/sceneView';
import { useEditor, useSceneView } from './EditorContext';

const selectSharing = (view: SceneView) => (view.scene.myRole === 'OWNER' ? view.scene.visibility : null);

const LABELS: Record<Visibility, string> = { PRIVATE: 'Private', LINK: 'Anyone with the link', PUBLIC: 'Public' };

/** Who may watch the scene (owner only), and its link. */
export function ShareControl() {
  const { actions } = useEditor();
  const visibility = useSceneView(selectSharing);
  const [copied, setCopied] = useState(false);
  if (!visibility) return null;
  return (
    <span className="toolbar-group share">
      <label className="inline-label">
        Visibility
        <select value={visibility} onChange={(e) => void actions.setVisibility(e.target.value as Visibility)}>
          {(Object.keys(LABELS) as Visibility[]).map((v) => (
            <option key={v} value={v}>
              {LABELS[v]}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard?.writeText(window.location.href).then(
            () => setCopied(true),
            () => undefined,
          )
        }
        onBlur={() => setCopied(false)}
      >
        {copied ? 'Link copied' : 'Copy link'}
      </button>
    </span>
  );
}
