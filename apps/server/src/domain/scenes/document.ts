import { badInput } from '../errors.js';
import type { Limits } from './limits.js';
import type { ModelSpec } from '../rendering/model.js';
import type { ShapeSpecInput } from './scene-service.js';
import type { BackgroundData, ObjectData, SceneData, ShapeData } from './types.js';
import { checkBox, checkCategory, checkLayerCount, checkSeed, checkStyle, checkTitle } from './validate.js';

/** The format tag of exported scene documents. */
export const DOCUMENT_FORMAT = 'strata-scene/1';

/** A parsed, validated document. */
export interface ParsedDocument {
  title: string;
  background: Omit<BackgroundData, 'revision'>;
  layers: { object: ObjectData; visible: boolean }[];
}

/** The scene as a portable JSON document; drawn masks are inlined as base64 PNG. */
export function toDocument(scene: SceneData, model: ModelSpec, blob: (id: string) => Uint8Array | null): Record<string, unknown> {
  return {
    format: DOCUMENT_FORMAT,
    title: scene.title,
    resolution: model.resolution,
    modelVersion: model.version,
    background: { style: scene.background.style, seed: scene.background.seed },
    layers: scene.layers.map((layer) => ({
      category: layer.object.category,
      box: layer.object.box,
      appearanceSeed: layer.object.appearanceSeed,
      visible: layer.visible,
      shape: shapeToDocument(layer.object.shape, blob),
    })),
  };
}

function shapeToDocument(shape: ShapeData, blob: (id: string) => Uint8Array | null): Record<string, unknown> {
  if (shape.kind !== 'DRAWN') return { ...shape };
  const bytes = blob(shape.maskId);
  return { kind: 'DRAWN', mask: { format: 'PNG', data: bytes ? Buffer.from(bytes).toString('base64') : '' } };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validate a document from `unknown`, naming the field at fault (`document.layers.2.box.w`). */
export function parseDocument(
  document: Record<string, unknown>,
  model: ModelSpec,
  limits: Limits,
  shape: (input: ShapeSpecInput, field: string) => ShapeData,
): ParsedDocument {
  if (document['format'] !== DOCUMENT_FORMAT) throw badInput('document.format', `must be ${JSON.stringify(DOCUMENT_FORMAT)}`);
  const title = typeof document['title'] === 'string' ? checkTitle(document['title'], 'document.title', limits) : 'Imported scene';
  const bg = document['background'];
  if (!isRecord(bg)) throw badInput('document.background', 'must be an object');
  const background = {
    style: checkStyle(model, String(bg['style']), 'document.background.style'),
    seed: checkSeed(Number(bg['seed']), 'document.background.seed'),
  };
  const layers = document['layers'] ?? [];
  if (!Array.isArray(layers)) throw badInput('document.layers', 'must be a list');
  checkLayerCount(layers.length, limits);
  return {
    title,
    background,
    layers: layers.map((raw: unknown, i) => {
      const field = `document.layers.${i}`;
      if (!isRecord(raw)) throw badInput(field, 'must be an object');
      const box = raw['box'];
      if (!isRecord(box)) throw badInput(`${field}.box`, 'must be an object');
      const rawShape = raw['shape'];
      if (!isRecord(rawShape)) throw badInput(`${field}.shape`, 'must be an object');
      return {
        visible: raw['visible'] !== false,
        object: {
          category: checkCategory(model, String(raw['category']), `${field}.category`),
          box: checkBox(
            { x: Number(box['x']), y: Number(box['y']), w: Number(box['w']), h: Number(box['h']) },
            `${field}.box`,
            model.resolution,
          ),
          appearanceSeed: checkSeed(Number(raw['appearanceSeed']), `${field}.appearanceSeed`),
          shape: shape(rawShape as unknown as ShapeSpecInput, `${field}.shape`),
        },
      };
    }),
  };
}

/** "Title (copy)", within the title limit. */
export function copyTitle(title: string, max: number): string {
  const suffix = ' (copy)';
  return title.length + suffix.length <= max ? title + suffix : title.slice(0, max - suffix.length) + suffix;
}
