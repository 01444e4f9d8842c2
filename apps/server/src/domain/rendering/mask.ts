import { inflateSync } from 'node:zlib';
import { decodePng, encodePng, pngSize } from '../../lib/png.js';
import type { BoxData } from '../scenes/types.js';
import { badInput, DomainError } from '../errors.js';
import { ErrorCode } from '@strata/schema';
import type { Limits } from '../scenes/limits.js';

/** A single-channel mask with values in [0, 1]. */
export interface Mask {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * Fit an object-centred mask into a box of a square canvas of `size` pixels: bilinear sampling,
 * then a 0.5 threshold, so the result is binary and covers exactly the box's pixels at most.
 */
export function fitMask(mask: Mask, box: BoxData, size: number): Float32Array {
  const out = new Float32Array(size * size);
  const bx = box.x * size;
  const by = box.y * size;
  const bw = box.w * size;
  const bh = box.h * size;
  const x0 = Math.max(0, Math.floor(bx));
  const y0 = Math.max(0, Math.floor(by));
  const x1 = Math.min(size, Math.ceil(bx + bw));
  const y1 = Math.min(size, Math.ceil(by + bh));
  for (let py = y0; py < y1; py++) {
    const v = ((py + 0.5 - by) / bh) * mask.height - 0.5;
    if (v < -0.5 || v > mask.height - 0.5) continue;
    for (let px = x0; px < x1; px++) {
      const u = ((px + 0.5 - bx) / bw) * mask.width - 0.5;
      if (u < -0.5 || u > mask.width - 0.5) continue;
      if (sampleBilinear(mask, u, v) >= 0.5) out[py * size + px] = 1;
    }
  }
  return out;
}

function sampleBilinear(mask: Mask, u: number, v: number): number {
  const cu = Math.min(Math.max(u, 0), mask.width - 1);
  const cv = Math.min(Math.max(v, 0), mask.height - 1);
  const ix = Math.min(Math.floor(cu), mask.width - 2 < 0 ? 0 : mask.width - 2);
  const iy = Math.min(Math.floor(cv), mask.height - 2 < 0 ? 0 : mask.height - 2);
  const fx = mask.width > 1 ? cu - ix : 0;
  const fy = mask.height > 1 ? cv - iy : 0;
  const at = (x: number, y: number) => mask.data[Math.min(y, mask.height - 1) * mask.width + Math.min(x, mask.width - 1)]!;
  const top = at(ix, iy) * (1 - fx) + at(ix + 1, iy) * fx;
  const bottom = at(ix, iy + 1) * (1 - fx) + at(ix + 1, iy + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

/** A preset silhouette: a predicate on normalised coordinates (0..1, y down). */
interface PresetDef {
  label: string;
  inside: (x: number, y: number) => boolean;
}

const PRESETS: Record<string, PresetDef> = {
  ellipse: { label: 'Ellipse', inside: (x, y) => (x - 0.5) ** 2 / 0.25 + (y - 0.5) ** 2 / 0.25 <= 1 },
  rectangle: { label: 'Rectangle', inside: () => true },
  triangle: { label: 'Triangle', inside: (x, y) => Math.abs(x - 0.5) <= y / 2 },
  diamond: { label: 'Diamond', inside: (x, y) => Math.abs(x - 0.5) + Math.abs(y - 0.5) <= 0.5 },
  dome: { label: 'Dome', inside: (x, y) => (y >= 0.5 ? true : (x - 0.5) ** 2 + ((y - 0.5) * 1) ** 2 <= 0.25) },
  house: { label: 'House', inside: (x, y) => (y >= 0.4 ? x >= 0.1 && x <= 0.9 : Math.abs(x - 0.5) <= (y / 0.4) * 0.5) },
  lollipop: {
    label: 'Round tree',
    inside: (x, y) => (x - 0.5) ** 2 + (y - 0.38) ** 2 <= 0.38 ** 2 || (y > 0.6 && Math.abs(x - 0.5) <= 0.08),
  },
};

/** Ids and labels of the preset silhouettes. */
export const PRESET_IDS = Object.keys(PRESETS);

export function presetLabel(id: string): string | null {
  return PRESETS[id]?.label ?? null;
}

const presetCache = new Map<string, Mask>();

/**
 * A preset silhouette as a mask of `size` x `size`, supersampled 4x for smooth edges. Rendered once
 * per id and size (every foreground step with a preset shape asks for it); callers must not mutate it.
 */
export function presetMask(id: string, size: number): Mask | null {
  const def = PRESETS[id];
  if (!def) return null;
  const key = `${id}|${size}`;
  const cached = presetCache.get(key);
  if (cached) return cached;
  const mask = renderPreset(def, size);
  presetCache.set(key, mask);
  return mask;
}

function renderPreset(def: PresetDef, size: number): Mask {
  const data = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < 4; sy++)
        for (let sx = 0; sx < 4; sx++) if (def.inside((x + (sx + 0.5) / 4) / size, (y + (sy + 0.5) / 4) / size)) hits++;
      data[y * size + x] = hits / 16;
    }
  }
  return { width: size, height: size, data };
}

/** A mask as a grey PNG (255 inside), for serving and storing. */
export function maskToPng(mask: Mask): Uint8Array {
  const grey = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < grey.length; i++) grey[i] = mask.data[i]! >= 0.5 ? 255 : 0;
  return encodePng(grey, mask.width, mask.height, 1);
}

/** Read a stored grey mask PNG back. */
export function maskFromPng(bytes: Uint8Array): Mask {
  const { width, height, rgba } = decodePng(bytes);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = rgba[i * 4]! >= 128 ? 1 : 0;
  return { width, height, data };
}

/** A user-drawn mask as uploaded. */
export interface MaskUpload {
  format: 'PNG' | 'A8';
  width?: number | null;
  height?: number | null;
  data: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Validate and decode an uploaded mask: size limits, format, at least one pixel inside.
 * `field` is the path of the upload in the input, for errors.
 */
export function decodeMaskUpload(upload: MaskUpload, field: string, limits: Limits): Mask {
  const compact = upload.data.replace(/\s+/g, '');
  if (compact.length === 0 || !BASE64.test(compact) || compact.length % 4 === 1) {
    throw badInput(`${field}.data`, 'must be base64');
  }
  if ((compact.length * 3) / 4 > limits.maxMaskBytes) {
    throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `${field}.data: mask is larger than ${limits.maxMaskBytes} bytes`, {
      field: `${field}.data`,
      limit: limits.maxMaskBytes,
    });
  }
  const bytes = new Uint8Array(Buffer.from(compact, 'base64'));
  // Check the declared size before decoding anything, so a small file cannot inflate into a huge image.
  const size = upload.format === 'A8' ? { width: upload.width ?? 0, height: upload.height ?? 0 } : pngSize(bytes);
  if (!size) throw badInput(`${field}.data`, 'is not a valid PNG');
  for (const [side, value] of [
    ['width', size.width],
    ['height', size.height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > limits.maxMaskSize) {
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, `${field}.${side}: must be an integer from 1 to ${limits.maxMaskSize} pixels`, {
        field: `${field}.${side}`,
        limit: limits.maxMaskSize,
      });
    }
  }
  const mask = upload.format === 'A8' ? decodeA8(bytes, size.width, size.height, field) : decodePngMask(bytes, field);
  if (!mask.data.some((v) => v >= 0.5)) throw badInput(`${field}.data`, 'the mask is empty: no pixel is inside');
  return mask;
}

function decodeA8(bytes: Uint8Array, width: number, height: number, field: string): Mask {
  if (bytes.length !== width * height)
    throw badInput(`${field}.data`, `expected ${width * height} bytes (width x height), got ${bytes.length}`);
  const data = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) data[i] = bytes[i]! >= 128 ? 1 : 0;
  return { width, height, data };
}

/** Channels per PNG colour type (grey, RGB, palette, grey+alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Whether the image data of a PNG inflates to no more than its header allows ('unreadable' when it
 * does not inflate at all). pngjs bounds the
 * inflation of a plain PNG by its size, but inflates an interlaced one without a bound: 250 KB of
 * deflate inflated to 250 MB and blocked the event loop for most of a second. So the data is
 * inflated here first with a ceiling (twice the largest possible size, all Adam7 passes' filter
 * bytes included), which stops a bomb after a megabyte at most.
 */
function inflatesWithinSize(bytes: Uint8Array): boolean | 'unreadable' {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let header: { width: number; height: number; bitsPerPixel: number } | null = null;
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const data = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + length));
    if (type === 'IHDR' && data.length >= 13) {
      const channels = PNG_CHANNELS[data[9]!] ?? 4;
      header = { width: view.getUint32(at + 8), height: view.getUint32(at + 12), bitsPerPixel: channels * Math.min(16, data[8]!) };
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (!header || idat.length === 0) return true; // nothing to inflate: pngjs refuses it
  const rowBytes = Math.ceil((header.width * header.bitsPerPixel) / 8) + 1;
  const ceiling = 2 * rowBytes * header.height + 64;
  try {
    inflateSync(Buffer.concat(idat), { maxOutputLength: ceiling });
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? false : 'unreadable';
  }
}

function decodePngMask(bytes: Uint8Array, field: string): Mask {
  const inflates = inflatesWithinSize(bytes);
  if (inflates === false) throw badInput(`${field}.data`, 'is not a valid PNG: its image data inflates to more than its size');
  if (inflates === 'unreadable') throw badInput(`${field}.data`, 'is not a valid PNG');
  let decoded;
  try {
    decoded = decodePng(bytes);
  } catch {
    throw badInput(`${field}.data`, 'is not a valid PNG');
  }
  const { width, height, rgba } = decoded;
  const data = new Float32Array(width * height);
  let opaque = true;
  for (let i = 0; i < data.length; i++) if (rgba[i * 4 + 3]! < 255) opaque = false;
  for (let i = 0; i < data.length; i++) {
    const value = opaque ? (rgba[i * 4]! + rgba[i * 4 + 1]! + rgba[i * 4 + 2]!) / 3 : rgba[i * 4 + 3]!;
    data[i] = value >= 128 ? 1 : 0;
  }
  return { width, height, data };
}
