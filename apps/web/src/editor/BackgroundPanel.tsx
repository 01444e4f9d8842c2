'use client';

import { randomSeed } from '@/lib/seed';
import type { SceneView } from '@/lib/sceneView';
import { useEditor, useSceneView } from './EditorContext';

const selectStyle = (view: SceneView) => view.scene.background.style;

/** The background (step 0): its style and a reroll; either repaints every step. */
export function BackgroundPanel() {
  const { actions, model } = useEditor();
  const style = useSceneView(selectStyle);
  return (
    <section className="panel background" aria-labelledby="background-heading">
      <h2 id="background-heading">Background</h2>
      <label>
        Style
        <select value={style} onChange={(e) => void actions.setBackground({ style: e.target.value })}>
          {model.styles.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => void actions.setBackground({ seed: randomSeed() })}>
        Reroll background
      </button>
    </section>
  );
}
