import { describe, expect, it } from 'vitest';
import { decodePng, encodePng, pngSize } from './png.js';
import { normalNoise } from './noise.js';

describe('encodePng', () => {
  it('round-trips grey, RGB and RGBA pixels through a standard decoder', () => {
    for (const channels of [1, 3, 4] as const) {
      const pixels = Uint8Array.from({ length: 7 * 5 * channels }, (_, i) => (i * 37) % 256);
      const decoded = decodePng(encodePng(pixels, 7, 5, channels));
      expect([decoded.width, decoded.height]).toEqual([7, 5]);
      for (let i = 0; i < 35; i++) {
        const expected =
          channels === 1 ? [pixels[i], pixels[i], pixels[i]] : [pixels[i * channels], pixels[i * channels + 1], pixels[i * channels + 2]];
        expect(Array.from(decoded.rgba.subarray(i * 4, i * 4 + 3))).toEqual(expected);
      }
    }
  });

  it('compresses flat images well (adaptive filtering is on)', () => {
    const flat = new Uint8Array(128 * 128 * 3);
    for (let y = 0; y < 128; y++) flat.fill(y * 2, y * 128 * 3, (y + 1) * 128 * 3);
    expect(encodePng(flat, 128, 128, 3).length).toBeLessThan(2000);
  });

  it('reads the size from the header', () => {
    expect(pngSize(encodePng(new Uint8Array(12), 2, 2, 3))).toEqual({ width: 2, height: 2 });
    expect(pngSize(Uint8Array.of(1, 2, 3))).toBeNull();
  });
});

describe('normalNoise', () => {
  it('is the same for a seed, different across seeds and streams, and roughly standard normal', () => {
    expect(normalNoise(42, 64)).toEqual(normalNoise(42, 64));
    expect(normalNoise(42, 64)).not.toEqual(normalNoise(43, 64));
    expect(normalNoise(42, 64, 1)).not.toEqual(normalNoise(42, 64, 0));
    const big = normalNoise(7, 20_000);
    const mean = big.reduce((a, b) => a + b, 0) / big.length;
    const variance = big.reduce((a, b) => a + (b - mean) ** 2, 0) / big.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('is pinned: these numbers are part of every saved scene', () => {
    expect(Array.from(normalNoise(1, 4), (v) => v.toFixed(4))).toMatchInlineSnapshot(`
      [
        "-1.0273",
        "1.3512",
        "-0.0403",
        "-1.5113",
      ]
    `);
  });
});
