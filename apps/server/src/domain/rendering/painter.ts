import { decodePng } from '../../lib/png.js';
import { normalNoise } from '../../lib/noise.js';
import { DomainError } from '../errors.js';
import { ErrorCode } from '@strata/schema';
import { fitMask, maskFromPng, presetMask, type Mask } from './mask.js';
import { categoryIndex, oneHot, styleIndex, type ModelSpec } from './model.js';
import type { BlobStore, EncodedImage } from '../ports.js';
import { Lru } from '../lru.js';
import type { RenderScheduler } from './scheduler.js';
import type { BackgroundData, ObjectData } from '../scenes/types.js';

/** Noise streams: one seed feeds several generators without correlating them. */
const STREAM = { background: 0, foreground: 1, shape: 2 } as const;

/** The canvas after a step: 8-bit RGB (row-major, HWC) and its PNG frame id. */
export interface Canvas {
  rgb: Uint8Array;
  frameId: string;
}

/**
 * Turns specs into model inputs and runs them through the scheduler: the background, a shape
 * mask for a generated shape, and a foreground step. Canvases are 8-bit between steps, so a
 * stored PNG frame is the exact input of the next step, also after a restart.
 */
export class Painter {
  private readonly shapes = new Lru<string, Mask>(512);
  private readonly shaping = new Map<string, Promise<Mask>>();
  private readonly drawn = new Lru<string, Mask>(128);

  constructor(
    private readonly model: ModelSpec,
    private readonly scheduler: RenderScheduler,
    private readonly blobs: BlobStore,
  ) {}

  async background(sceneId: string, background: BackgroundData, isStale: () => boolean): Promise<EncodedImage> {
    const style = styleIndex(this.model, background.style);
    const result = await this.scheduler.submit({
      sceneId,
      model: 'background',
      encode: true,
      isStale,
      feeds: {
        z: { data: normalNoise(background.seed, this.model.noise.background, STREAM.background), dims: [1, this.model.noise.background] },
        style: { data: oneHot(style, this.model.styles.length), dims: [1, this.model.styles.length] },
      },
    });
    return result.image!;
  }

  async foreground(sceneId: string, canvas: Uint8Array, object: ObjectData, isStale: () => boolean): Promise<EncodedImage> {
    const R = this.model.resolution;
    const shape = await this.shapeMask(sceneId, object, isStale);
    const category = categoryIndex(this.model, object.category);
    const result = await this.scheduler.submit({
      sceneId,
      model: 'foreground',
      encode: true,
      isStale,
      feeds: {
        canvas: { data: rgbToTensor(canvas, R), dims: [1, 3, R, R] },
        mask: { data: fitMask(shape, object.box, R), dims: [1, 1, R, R] },
        category: { data: oneHot(category, this.model.categories.length), dims: [1, this.model.categories.length] },
        z: {
          data: normalNoise(object.appearanceSeed, this.model.noise.foreground, STREAM.foreground),
          dims: [1, this.model.noise.foreground],
        },
      },
    });
    return result.image!;
  }

  /**
   * Start the shape masks of these objects ahead of need, at low priority: they do not depend on
   * the canvas, so they run on an otherwise idle worker while earlier steps paint.
   */
  prefetchShapes(sceneId: string, objects: ObjectData[], isStale: () => boolean): void {
    for (const object of objects) {
      if (object.shape.kind === 'GENERATED') this.shapeMask(sceneId, object, isStale, true).catch(() => undefined);
    }
  }

  /** The object-centred mask of an object's shape (before fitting into its box). */
  async shapeMask(sceneId: string, object: ObjectData, isStale: () => boolean = () => false, prefetch = false): Promise<Mask> {
    const { shape } = object;
    if (shape.kind === 'PRESET') {
      const mask = presetMask(shape.preset, this.model.shapeResolution * 2);
      if (!mask) throw new DomainError(ErrorCode.RENDER_FAILED, `preset ${shape.preset} is gone`);
      return mask;
    }
    if (shape.kind === 'DRAWN') return await this.drawnMask(shape.maskId);
    const key = `${object.category}|${shape.seed}`;
    const cached = this.shapes.get(key);
    if (cached) return cached;
    const running = this.shaping.get(key);
    if (running) {
      try {
        return await running;
      } catch {
        // The prefetch was dropped as stale: ask again for this step.
      }
    }
    const request = this.generateShape(sceneId, object.category, shape.seed, key, isStale, prefetch).finally(() =>
      this.shaping.delete(key),
    );
    this.shaping.set(key, request);
    return request;
  }

  private async generateShape(
    sceneId: string,
    category: string,
    seed: number,
    key: string,
    isStale: () => boolean,
    prefetch: boolean,
  ): Promise<Mask> {
    const M = this.model.shapeResolution;
    const result = await this.scheduler.submit({
      sceneId,
      model: 'shape',
      encode: false,
      isStale,
      prefetch,
      feeds: {
        category: {
          data: oneHot(categoryIndex(this.model, category), this.model.categories.length),
          dims: [1, this.model.categories.length],
        },
        z: { data: normalNoise(seed, this.model.noise.shape, STREAM.shape), dims: [1, this.model.noise.shape] },
      },
    });
    const mask: Mask = { width: M, height: M, data: Float32Array.from(result.outputs['mask']!.data) };
    this.shapes.set(key, mask);
    return mask;
  }

  private async drawnMask(maskId: string): Promise<Mask> {
    const cached = this.drawn.get(maskId);
    if (cached) return cached;
    const bytes = await this.blobs.get(maskId);
    if (!bytes) throw new DomainError(ErrorCode.RENDER_FAILED, `drawn mask ${maskId} is missing`);
    const mask = maskFromPng(bytes);
    this.drawn.set(maskId, mask);
    return mask;
  }
}

/** 8-bit RGB (HWC) to a [-1, 1] CHW float tensor. */
export function rgbToTensor(rgb: Uint8Array, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = rgb[i * 3]! / 127.5 - 1;
    out[plane + i] = rgb[i * 3 + 1]! / 127.5 - 1;
    out[2 * plane + i] = rgb[i * 3 + 2]! / 127.5 - 1;
  }
  return out;
}

/** A stored RGB PNG frame back to RGB bytes. */
export function pngToRgb(png: Uint8Array): Uint8Array {
  const { width, height, rgba } = decodePng(png);
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[i * 3] = rgba[i * 4]!;
    rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  return rgb;
}
