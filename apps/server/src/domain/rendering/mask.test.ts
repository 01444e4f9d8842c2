import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../scenes/limits.js';
import { decodeMaskUpload, fitMask, maskFromPng, maskToPng, presetMask, PRESET_IDS } from './mask.js';
import { encodePng } from '../../lib/png.js';

describe('fitMask', () => {
  it('fills exactly the box for a full mask, and nothing outside it', () => {
    const full = { width: 4, height: 4, data: new Float32Array(16).fill(1) };
    const out = fitMask(full, { x: 0.25, y: 0.5, w: 0.5, h: 0.25 }, 8);
    const inside = (i: number) => {
      const x = i % 8;
      const y = Math.floor(i / 8);
      return x >= 2 && x < 6 && y >= 4 && y < 6;
    };
    expect(Array.from(out).every((v, i) => v === (inside(i) ? 1 : 0))).toBe(true);
  });

  it('keeps the shape of an object-centred mask when scaling it into a box', () => {
    const ellipse = presetMask('ellipse', 32)!;
    const out = fitMask(ellipse, { x: 0, y: 0, w: 1, h: 1 }, 64);
    expect(out[32 * 64 + 32]).toBe(1);
    expect(out[0]).toBe(0);
    const area = out.reduce((a, b) => a + b, 0) / (64 * 64);
    expect(area).toBeGreaterThan(Math.PI / 4 - 0.03);
    expect(area).toBeLessThan(Math.PI / 4 + 0.03);
  });
});

describe('presets', () => {
  it('renders every preset to a non-empty mask that survives a PNG round trip', () => {
    for (const id of PRESET_IDS) {
      const mask = presetMask(id, 16)!;
      expect(mask.data.some((v) => v >= 0.5)).toBe(true);
      const back = maskFromPng(maskToPng(mask));
      expect(Array.from(back.data)).toEqual(Array.from(mask.data, (v) => (v >= 0.5 ? 1 : 0)));
    }
    expect(presetMask('nope', 16)).toBeNull();
  });
});

describe('decodeMaskUpload', () => {
  it('reads a PNG by alpha, or by brightness when it is opaque', () => {
    const rgba = new Uint8Array(2 * 1 * 4);
    rgba.set([0, 0, 0, 255, 0, 0, 0, 0]);
    const byAlpha = decodeMaskUpload(
      { format: 'PNG', data: Buffer.from(encodePng(rgba, 2, 1, 4)).toString('base64') },
      'm',
      DEFAULT_LIMITS,
    );
    expect(Array.from(byAlpha.data)).toEqual([1, 0]);
    const grey = Uint8Array.of(255, 0, 200);
    const byGrey = decodeMaskUpload({ format: 'PNG', data: Buffer.from(encodePng(grey, 3, 1, 1)).toString('base64') }, 'm', DEFAULT_LIMITS);
    expect(Array.from(byGrey.data)).toEqual([1, 0, 1]);
  });

  it('refuses a PNG whose header declares a huge image before decoding it', () => {
    const png = encodePng(new Uint8Array(1), 1, 1, 1);
    const view = new DataView(png.buffer);
    view.setUint32(16, 100_000);
    expect(() => decodeMaskUpload({ format: 'PNG', data: Buffer.from(png).toString('base64') }, 'm', DEFAULT_LIMITS)).toThrow(/m\.width/);
  });
});
