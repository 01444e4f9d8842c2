import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../../src/domain/ports.js';
import { loadManifest, type LoadedManifest } from '../../src/infrastructure/onnx/manifest.js';
import { AUTO_ORDER, cudaInstalled, loadSessions, type SessionOptions } from '../../src/infrastructure/onnx/sessions.js';
import { WorkerPoolEngine } from '../../src/infrastructure/onnx/worker-pool.js';
import { normalNoise } from '../../src/lib/noise.js';
import { captureLogger } from '../harness.js';

const MODELS = fileURLToPath(new URL('../../../../models', import.meta.url));

/** Execution providers (item 6): runs on a CPU-only host, and compares with the CPU wherever a GPU provider loads. */
describe('execution providers', () => {
  let manifest: LoadedManifest;
  let options: (provider: SessionOptions['provider']) => SessionOptions;
  const pools: WorkerPoolEngine[] = [];
  beforeAll(async () => {
    manifest = await loadManifest(MODELS);
    options = (provider) => ({ files: manifest.files, tensors: manifest.tensors, provider, threads: 1 });
  });
  afterAll(() => Promise.all(pools.map((p) => p.close())));

  it('[ep-1] auto tries cuda, then webgpu, then cpu, and says why each better one did not load', async () => {
    const loaded = await loadSessions(options('auto'));
    try {
      const rank = AUTO_ORDER.indexOf(loaded.provider);
      expect(rank).toBeGreaterThanOrEqual(0);
      expect(loaded.skipped.map((s) => s.provider)).toEqual(AUTO_ORDER.slice(0, rank));
      for (const s of loaded.skipped) expect(s.reason.length).toBeGreaterThan(10);
      if (!cudaInstalled()) expect(loaded.skipped[0]?.reason).toMatch(/CUDA provider is not installed/);
    } finally {
      await Promise.all(Object.values(loaded.sessions).map((s) => s.release()));
    }
  });

  it('[ep-2] a named provider that does not load is an error saying why (no silent fallback)', async () => {
    for (const provider of ['webgpu', 'cuda'] as const) {
      const attempt = loadSessions(options(provider)).then(
        async (loaded) => {
          await Promise.all(Object.values(loaded.sessions).map((s) => s.release()));
          return loaded.provider;
        },
        (error: Error) => error,
      );
      const outcome = await attempt;
      if (outcome instanceof Error) expect(outcome.message).toMatch(new RegExp(`^execution provider ${provider} did not load: .+`));
      else expect(outcome).toBe(provider);
    }
    if (!cudaInstalled()) await expect(loadSessions(options('cuda'))).rejects.toThrow(/CUDA provider is not installed/);
  });

  it('[ep-3] a pool on auto logs one line naming its provider, and matches the CPU (exactly when it is the CPU)', async () => {
    const log = captureLogger();
    const auto = await WorkerPoolEngine.start(options('auto'), 2, log);
    pools.push(auto);
    const cpu = await WorkerPoolEngine.start(options('cpu'), 1);
    pools.push(cpu);
    expect(auto.workers).toBe(2);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.message).toMatch(new RegExp(`^inference on ${auto.provider}( \\(auto; .+\\))?$`));
    if (auto.selection.skipped.length) expect(log.lines[0]!.message).toContain(`${auto.selection.skipped[0]!.provider}: `);
    expect(log.lines[0]!.data).toMatchObject({ requested: 'auto', provider: auto.provider });
    expect(auto.selection.requested).toBe('auto');

    const { noise, styles } = manifest.spec;
    const z = new Float32Array(4 * noise.background);
    for (let i = 0; i < 4; i++) z.set(normalNoise(100 + i, noise.background), i * noise.background);
    const style = new Float32Array(4 * styles.length).map((_, i) => (i % styles.length === 0 ? 1 : 0));
    const feeds: Record<string, Tensor> = { z: { data: z, dims: [4, noise.background] }, style: { data: style, dims: [4, styles.length] } };
    // Both threads of the auto pool, in parallel, against the CPU.
    const [a, b, ref] = await Promise.all([
      auto.run({ model: 'background', feeds, encode: false }),
      auto.run({ model: 'background', feeds, encode: false }),
      cpu.run({ model: 'background', feeds, encode: false }),
    ]);
    const expected = ref.outputs['image']!.data;
    for (const got of [a.outputs['image']!.data, b.outputs['image']!.data]) {
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!));
      if (auto.provider === 'cpu') expect(worst).toBe(0);
      else expect(worst).toBeLessThan(1e-3);
    }
  });
});
