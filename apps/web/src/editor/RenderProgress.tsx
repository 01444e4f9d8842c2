'use client';

import { isErrorCode } from '@strata/schema/client';
import { sentenceFor } from '@/lib/errors';
import { stateAtStep, type SceneView } from '@/lib/sceneView';
import { useEditor, useSceneView } from './EditorContext';

type Progress =
  | { kind: 'done'; steps: number }
  | { kind: 'rendering'; painted: number; total: number; current: number }
  | { kind: 'failed'; code: string; step: number };

function selectProgress({ scene, range, failure }: SceneView): Progress {
  const top = scene.layers.length;
  if (failure) return { kind: 'failed', ...failure };
  const steps = Array.from({ length: top + 1 }, (_, step) => step);
  const current = steps.find((step) => stateAtStep(scene, step) !== 'DONE');
  // Every step painted counts as done even before RenderCompleted arrives.
  if (scene.renderState === 'DONE' || current === undefined) return { kind: 'done', steps: top + 1 };
  const from = Math.min(range?.from ?? current, current);
  const to = range?.to ?? top;
  const inRange = steps.filter((step) => step >= from && step <= to);
  const painted = inRange.filter((step) => stateAtStep(scene, step) === 'DONE').length;
  return { kind: 'rendering', painted, total: inRange.length, current };
}

const sameProgress = (a: Progress, b: Progress) => JSON.stringify(a) === JSON.stringify(b);

/** What the painter is doing: done, painting step k (with a bar), or failed with a way to retry. */
export function RenderProgress() {
  const progress = useSceneView(selectProgress, sameProgress);
  const { actions } = useEditor();
  switch (progress.kind) {
    case 'done':
      return (
        <p className="render-progress render-done" role="status" data-state="done">
          All {progress.steps} steps painted.
        </p>
      );
    case 'rendering':
      return (
        <div className="render-progress" role="status" data-state="rendering">
          <span>
            Painting {progress.current === 0 ? 'the background' : `step ${progress.current}`} ({progress.painted} of {progress.total} done)
          </span>
          <progress max={progress.total} value={progress.painted} aria-label="Render progress" />
        </div>
      );
    case 'failed':
      return (
        <div className="render-progress render-failed" role="alert" data-state="failed" data-code={progress.code}>
          <span>
            Step {progress.step}: {sentenceFor(isErrorCode(progress.code) ? progress.code : 'RENDER_FAILED')}
          </span>
          <button type="button" onClick={() => void actions.rerender()}>
            Render again
          </button>
        </div>
      );
  }
}
