import { ErrorCode } from '@strata/schema';
import { badInput, DomainError } from '../errors.js';
import type { Limits } from './limits.js';
import type { ModelSpec } from '../rendering/model.js';
import type { BoxData } from './types.js';

/** Largest seed: seeds are non-negative 31-bit integers so every client language can hold them. */
export const MAX_SEED = 0x7fffffff;

export function checkSeed(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SEED) throw badInput(field, `must be an integer from 0 to ${MAX_SEED}`);
  return value;
}

export function checkTitle(value: string, field: string, limits: Limits): string {
  const title = value.trim();
  if (title.length === 0) throw badInput(field, 'must not be empty');
  if (title.length > limits.maxTitleLength) throw badInput(field, `must be at most ${limits.maxTitleLength} characters`);
  return title;
}

export function checkStyle(model: ModelSpec, value: string, field: string): string {
  if (!model.styles.some((s) => s.id === value)) {
    throw badInput(field, `unknown style ${JSON.stringify(value)}; one of ${model.styles.map((s) => s.id).join(', ')}`);
  }
  return value;
}

export function checkCategory(model: ModelSpec, value: string, field: string): string {
  if (!model.categories.some((c) => c.id === value)) {
    throw badInput(field, `unknown category ${JSON.stringify(value)}; one of ${model.categories.map((c) => c.id).join(', ')}`);
  }
  return value;
}

/** Tolerance for boxes computed in floating point by clients (x + w may exceed 1 by rounding). */
const EPSILON = 1e-6;

/** A box must be finite, inside the canvas, and at least two pixels on each side. */
export function checkBox(box: BoxData, field: string, resolution: number): BoxData {
  for (const key of ['x', 'y', 'w', 'h'] as const) {
    if (typeof box[key] !== 'number' || !Number.isFinite(box[key])) throw badInput(`${field}.${key}`, 'must be a finite number');
  }
  if (box.x < 0 || box.x > 1) throw badInput(`${field}.x`, 'must be between 0 and 1');
  if (box.y < 0 || box.y > 1) throw badInput(`${field}.y`, 'must be between 0 and 1');
  const min = 2 / resolution;
  if (box.w < min - EPSILON) throw badInput(`${field}.w`, `must be at least ${min} (two pixels)`);
  if (box.h < min - EPSILON) throw badInput(`${field}.h`, `must be at least ${min} (two pixels)`);
  if (box.x + box.w > 1 + EPSILON) throw badInput(`${field}.w`, 'x + w must be at most 1');
  if (box.y + box.h > 1 + EPSILON) throw badInput(`${field}.h`, 'y + h must be at most 1');
  return { x: box.x, y: box.y, w: Math.min(box.w, 1 - box.x), h: Math.min(box.h, 1 - box.y) };
}

export function checkIndex(value: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) throw badInput(field, `must be an integer from 0 to ${max}`);
  return value;
}

export function checkLayerCount(count: number, limits: Limits): void {
  if (count > limits.maxLayers) {
    throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `a scene may have at most ${limits.maxLayers} layers`, {
      field: 'input',
      limit: limits.maxLayers,
    });
  }
}
