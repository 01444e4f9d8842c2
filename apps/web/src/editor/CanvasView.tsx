'use client';

import { useEffect, useRef } from 'react';
import { loadImage } from '@/lib/images';
import type { SceneView } from '@/lib/sceneView';
import { useSceneView } from './EditorContext';
import { useDisplayedFrame } from './useDisplayedFrame';

const selectResolution = (view: SceneView) => view.scene.resolution;

/**
 * The canvas at its native size, scaled up by CSS without smoothing. Each frame is drawn the moment
 * its image loads; a slower, older image never overwrites a newer one.
 */
export function CanvasView() {
  const resolution = useSceneView(selectResolution);
  const { frame, step } = useDisplayedFrame();
  const canvas = useRef<HTMLCanvasElement>(null);
  const url = frame?.url ?? null;

  useEffect(() => {
    const context = canvas.current?.getContext('2d');
    if (!context) return;
    if (!url) {
      context.clearRect(0, 0, resolution, resolution);
      return;
    }
    let current = true;
    loadImage(url).then(
      (image) => {
        if (!current) return;
        context.imageSmoothingEnabled = false;
        context.clearRect(0, 0, resolution, resolution);
        context.drawImage(image, 0, 0, resolution, resolution);
        canvas.current?.setAttribute('data-frame', url);
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [url, resolution]);

  return (
    <canvas
      ref={canvas}
      className="stage-canvas"
      width={resolution}
      height={resolution}
      role="img"
      aria-label={step === null ? 'The scene, live' : `The scene at step ${step}`}
      data-testid="scene-canvas"
      data-want={url ?? undefined}
    />
  );
}
