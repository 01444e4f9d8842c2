'use client';

import type { SceneView } from '@/lib/sceneView';
import { patchUi, type EditorUi } from './editorStore';
import { useEditor, useSceneView, useUi } from './EditorContext';

const selectTop = (view: SceneView) => view.scene.layers.length;
const selectViewStep = (ui: EditorUi) => ui.viewStep;

/** Step back through the canvases x0 .. xT; "Live" follows the render again. */
export function Timeline() {
  const { stores } = useEditor();
  const top = useSceneView(selectTop);
  const viewStep = useUi(selectViewStep);
  const shown = viewStep === null ? top : Math.min(viewStep, top);
  const label = shown === 0 ? 'background' : `after object ${shown}`;
  return (
    <div className="timeline">
      <label htmlFor="timeline-step">Step</label>
      <input
        id="timeline-step"
        type="range"
        min={0}
        max={top}
        step={1}
        value={shown}
        disabled={top === 0}
        aria-valuetext={`Step ${shown} of ${top}: ${label}`}
        onChange={(e) => patchUi(stores.ui, { viewStep: Number(e.target.value) })}
      />
      <output htmlFor="timeline-step" className="timeline-value">
        x{shown} <span className="muted">{label}</span>
      </output>
      <button type="button" aria-pressed={viewStep === null} onClick={() => patchUi(stores.ui, { viewStep: null })}>
        Live
      </button>
    </div>
  );
}
