import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceEngine } from '../../src/domain/ports.js';
import { normalNoise } from '../../src/lib/noise.js';
import { loadManifest, type LoadedManifest } from '../../src/infrastructure/onnx/manifest.js';
import { InProcessEngine } from '../../src/infrastructure/onnx/in-process.js';
import { WorkerPoolEngine } from '../../src/infrastructure/onnx/worker-pool.js';
import { decodePng } from '../../src/lib/png.js';

const MODELS = fileURLToPath(new URL('../../../../models', import.meta.url));

/** The rules every InferenceEngine keeps, run against each implementation with the real models. */
function inferenceContract(name: string, make: (m: LoadedManifest) => Promise<InferenceEngine>): void {
  describe(`InferenceEngine contract: ${name}`, () => {
    let manifest: LoadedManifest;
    let engine: InferenceEngine;
    beforeAll(async () => {
      manifest = await loadManifest(MODELS);
      engine = await make(manifest);
    });
    afterAll(() => engine?.close());

    const bgFeeds = (seeds: number[]) => {
      const { noise, styles } = manifest.spec;
      const z = new Float32Array(seeds.length * noise.background);
      seeds.forEach((s, i) => z.set(normalNoise(s, noise.background), i * noise.background));
      const style = new Float32Array(seeds.length * styles.length);
      seeds.forEach((_, i) => (style[i * styles.length] = 1));
      return { z: { data: z, dims: [seeds.length, noise.background] }, style: { data: style, dims: [seeds.length, styles.length] } };
    };

    it('[infer-1] reports a provider and a worker count', () => {
      expect(['cpu', 'cuda']).toContain(engine.provider);
      expect(engine.workers).toBeGreaterThan(0);
    });

    it('[infer-2] returns the declared output shape, in range, batched', async () => {
      const R = manifest.spec.resolution;
      const result = await engine.run({ model: 'background', feeds: bgFeeds([1, 2, 3]), encode: false });
      expect(result.outputs['image']!.dims).toEqual([3, 3, R, R]);
      expect(Math.max(...result.outputs['image']!.data)).toBeLessThanOrEqual(1);
      expect(Math.min(...result.outputs['image']!.data)).toBeGreaterThanOrEqual(-1);
      expect(result.runMs).toBeGreaterThan(0);
    });

    it('[infer-3] is deterministic for the same feeds and differs across seeds', async () => {
      const [a, b, c] = await Promise.all([
        engine.run({ model: 'background', feeds: bgFeeds([5]), encode: true }),
        engine.run({ model: 'background', feeds: bgFeeds([5]), encode: true }),
        engine.run({ model: 'background', feeds: bgFeeds([6]), encode: true }),
      ]);
      expect(a.images[0]!.hash).toBe(b.images[0]!.hash);
      expect(a.images[0]!.hash).not.toBe(c.images[0]!.hash);
    });

    it('[infer-4] encodes each batch item as a PNG of the canvas bytes', async () => {
      const R = manifest.spec.resolution;
      const result = await engine.run({ model: 'background', feeds: bgFeeds([8, 9]), encode: true });
      expect(result.images).toHaveLength(2);
      const decoded = decodePng(result.images[1]!.png);
      expect([decoded.width, decoded.height]).toEqual([R, R]);
      expect(decoded.rgba[0]).toBe(result.images[1]!.rgb[0]);
      expect(decoded.rgba[4 * 17 + 2]).toBe(result.images[1]!.rgb[3 * 17 + 2]);
    });

    it('[infer-5] runs the shape model to a mask in [0, 1]', async () => {
      const { categories, noise, shapeResolution: M } = manifest.spec;
      const category = new Float32Array(categories.length);
      category[0] = 1;
      const result = await engine.run({
        model: 'shape',
        encode: false,
        feeds: {
          category: { data: category, dims: [1, categories.length] },
          z: { data: normalNoise(3, noise.shape), dims: [1, noise.shape] },
        },
      });
      const mask = result.outputs['mask']!;
      expect(mask.dims).toEqual([1, 1, M, M]);
      expect(mask.data.some((v) => v > 0.5)).toBe(true);
      expect(mask.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    });
  });
}

inferenceContract('worker pool', (m) => WorkerPoolEngine.start({ files: m.files, tensors: m.tensors, provider: 'cpu', threads: 1 }, 2));
inferenceContract('in process', (m) => InProcessEngine.start({ files: m.files, tensors: m.tensors, provider: 'cpu', threads: 1 }));
