'use client';

import { useCallback } from 'react';
import type { FrameFieldsFragment } from '@strata/schema/client';
import { frameAtStep, type SceneView } from '@/lib/sceneView';
import type { EditorUi } from './editorStore';
import { useSceneView, useUi } from './EditorContext';

const selectViewStep = (ui: EditorUi) => ui.viewStep;

/** The canvas to show: the live one, or the one of the step picked on the timeline. */
export function useDisplayedFrame(): { frame: FrameFieldsFragment | null; step: number | null } {
  const step = useUi(selectViewStep);
  const select = useCallback((view: SceneView) => (step === null ? view.liveFrame : frameAtStep(view.scene, step)), [step]);
  return { frame: useSceneView(select), step };
}
