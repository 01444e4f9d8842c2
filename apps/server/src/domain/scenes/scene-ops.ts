import { ErrorCode } from '@strata/schema';
import { badInput, DomainError, notFound } from '../errors.js';
import type { LayerData, ObjectData, SceneData } from './types.js';

/** Next revision of a scene: every accepted edit goes through here. */
export function bump(scene: SceneData, at: string): SceneData {
  return { ...scene, revision: scene.revision + 1, updatedAt: at };
}

export function findLayer(scene: SceneData, layerId: string): { layer: LayerData; index: number } {
  const index = scene.layers.findIndex((l) => l.id === layerId);
  if (index < 0) throw notFound('layer', layerId, 'layerId');
  return { layer: scene.layers[index]!, index };
}

/**
 * Refuse an edit based on a revision older than the last change of what it touches: two edits of
 * one layer from the same base give the second a CONFLICT carrying the current state.
 */
export function checkBase(baseRevision: number | null | undefined, changedAt: number, current: unknown): void {
  if (baseRevision === null || baseRevision === undefined) return;
  if (!Number.isInteger(baseRevision) || baseRevision < 0) throw badInput('baseRevision', 'must be a non-negative integer');
  if (changedAt > baseRevision) {
    throw new DomainError(ErrorCode.CONFLICT, `changed at revision ${changedAt}, after your base revision ${baseRevision}`, {
      field: 'baseRevision',
      current,
    });
  }
}

export function insertLayer(scene: SceneData, layer: LayerData, index: number): SceneData {
  const layers = [...scene.layers];
  layers.splice(index, 0, layer);
  return { ...scene, layers };
}

export function replaceLayer(scene: SceneData, layer: LayerData): SceneData {
  return { ...scene, layers: scene.layers.map((l) => (l.id === layer.id ? layer : l)) };
}

export function removeLayer(scene: SceneData, layerId: string): SceneData {
  return { ...scene, layers: scene.layers.filter((l) => l.id !== layerId) };
}

export function moveLayer(scene: SceneData, layerId: string, toIndex: number): SceneData {
  const { layer } = findLayer(scene, layerId);
  const layers = scene.layers.filter((l) => l.id !== layerId);
  layers.splice(Math.min(toIndex, layers.length), 0, layer);
  return { ...scene, layers };
}

export function withObject(layer: LayerData, object: Partial<ObjectData>, revision: number): LayerData {
  return { ...layer, object: { ...layer.object, ...object }, revision };
}

/**
 * Make what an edit touched in `current` look as it does in `source`, leaving everything else:
 * undo replays an actor's `before` state this way, redo their `after` state, so others' later
 * edits of other layers are kept.
 */
export function restoreTouched(current: SceneData, source: SceneData, change: string, layerId: string | null, revision: number): SceneData {
  if (change === 'BACKGROUND_SET') return { ...current, background: { ...source.background, revision } };
  if (change === 'RENAMED') return { ...current, title: source.title };
  if (change === 'VISIBILITY') return { ...current, visibility: source.visibility };
  if (!layerId) return current;
  const sourceIndex = source.layers.findIndex((l) => l.id === layerId);
  const without = removeLayer(current, layerId);
  if (sourceIndex < 0) return without;
  const layer = { ...source.layers[sourceIndex]!, revision };
  return insertLayer(without, layer, Math.min(sourceIndex, without.layers.length));
}
