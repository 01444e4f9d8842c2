import { sha256 } from '../../lib/hash.js';
import type { SceneData, ShapeData } from '../scenes/types.js';

function shapeKey(shape: ShapeData): string {
  switch (shape.kind) {
    case 'GENERATED':
      return `g:${shape.seed}`;
    case 'PRESET':
      return `p:${shape.preset}`;
    case 'DRAWN':
      return `d:${shape.maskId}`;
  }
}

/**
 * The cache key of every step's canvas: step 0 from the model version and background, step k from
 * step k-1's key and layer k's spec. A hidden layer keeps its predecessor's key. Equal keys mean
 * equal pixels, so an edit at layer k changes keys k..T only and steps 0..k-1 come from the cache.
 */
export function renderKeys(scene: SceneData, modelVersion: string): string[] {
  const keys = [sha256(`bg|${modelVersion}|${scene.background.style}|${scene.background.seed}`)];
  for (const layer of scene.layers) {
    const previous = keys[keys.length - 1]!;
    if (!layer.visible) {
      keys.push(previous);
      continue;
    }
    const { category, box, shape, appearanceSeed } = layer.object;
    keys.push(sha256(`fg|${previous}|${category}|${box.x},${box.y},${box.w},${box.h}|${shapeKey(shape)}|${appearanceSeed}`));
  }
  return keys;
}
