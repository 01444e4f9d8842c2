// The committed models load in onnxruntime-node, match the manifest, and behave as the contract says.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

const MODELS = process.env.STRATA_MODELS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(MODELS, 'manifest.json'), 'utf8'));
const R = manifest.resolution;
const M = manifest.shapeResolution;
const C = manifest.categories.length;
const S = manifest.styles.length;
const sessions = {};

// mulberry32 + Box-Muller: seeded standard normal noise, like the server's.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normal(n, seed) {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}
function onehot(b, n, idx) {
  const out = new Float32Array(b * n);
  for (let i = 0; i < b; i++) out[i * n + (Array.isArray(idx) ? idx[i] : idx)] = 1;
  return out;
}
const T = (data, dims) => new ort.Tensor('float32', data, dims);
const resolveShape = (shape, b) => shape.map((d) => (d === 'batch' ? b : d));

async function background(b, seed, style = 0) {
  const out = await sessions.background.run({
    z: T(normal(b * manifest.noise.background, seed), [b, manifest.noise.background]),
    style: T(onehot(b, S, style), [b, S]),
  });
  return out.image;
}
function boxMask(b, x0, y0, w, h) {
  const m = new Float32Array(b * R * R);
  for (let i = 0; i < b; i++)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) m[i * R * R + y * R + x] = 1;
  return m;
}
async function foreground(canvas, mask, b, cat, seed) {
  const out = await sessions.foreground.run({
    canvas,
    mask: T(mask, [b, 1, R, R]),
    category: T(onehot(b, C, cat), [b, C]),
    z: T(normal(b * manifest.noise.foreground, seed), [b, manifest.noise.foreground]),
  });
  return out.image;
}
const maxAbsDiff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

before(async () => {
  for (const name of ['background', 'foreground', 'shape']) {
    sessions[name] = await ort.InferenceSession.create(join(MODELS, manifest.models[name].file), {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  }
});

test('manifest follows strata-models/1', () => {
  assert.equal(manifest.format, 'strata-models/1');
  assert.equal(typeof manifest.version, 'string');
  assert.deepEqual(
    manifest.styles.map((s) => s.id),
    ['day', 'dusk', 'night'],
  );
  assert.deepEqual(
    manifest.categories.slice(0, 6).map((c) => c.id),
    ['tree', 'pine', 'house', 'horse', 'rock', 'bush'],
  );
  assert.deepEqual(manifest.noise, { background: 32, foreground: 32, shape: 16 });
  assert.equal(manifest.foreground.dilation, 2);
  assert.ok(['cpu', 'cuda'].includes(manifest.training.device));
  assert.equal(manifest.training.resolution, R);
  for (const m of Object.values(manifest.models)) {
    for (const t of [...m.inputs, ...m.outputs]) {
      assert.equal(t.dtype, 'float32');
      assert.equal(t.shape[0], 'batch');
      assert.ok(t.range || t.distribution, `${t.name} has a range or distribution`);
    }
  }
});

test('files match the manifest sha256, size and are under 20 MB', () => {
  for (const [name, m] of Object.entries(manifest.models)) {
    const buf = readFileSync(join(MODELS, m.file));
    assert.equal(createHash('sha256').update(buf).digest('hex'), m.sha256, `${name} sha256`);
    assert.equal(buf.length, m.bytes, `${name} bytes`);
    assert.ok(buf.length < 20 * 1024 * 1024, `${name} < 20 MB`);
  }
});

test('graph tensor names are the manifest names', () => {
  for (const [name, m] of Object.entries(manifest.models)) {
    assert.deepEqual([...sessions[name].inputNames].sort(), m.inputs.map((t) => t.name).sort(), name);
    assert.deepEqual([...sessions[name].outputNames], m.outputs.map((t) => t.name), name);
  }
});

test('background: shapes, range, determinism, z matters, style matters (batch 1 and 8)', async () => {
  for (const b of [1, 8]) {
    const img = await background(b, 7);
    assert.deepEqual(img.dims, resolveShape(manifest.models.background.outputs[0].shape, b));
    for (const v of img.data) assert.ok(v >= -1 && v <= 1 && Number.isFinite(v));
  }
  const a = await background(1, 11);
  const a2 = await background(1, 11);
  assert.equal(maxAbsDiff(a.data, a2.data), 0, 'deterministic');
  const b = await background(1, 12);
  assert.ok(maxAbsDiff(a.data, b.data) > 0.1, 'different z gives a different canvas');
  const night = await background(1, 11, 2);
  const mean = (d) => d.reduce((s, v) => s + v, 0) / d.length;
  assert.ok(mean(night.data) < mean(a.data) - 0.2, 'night is darker than day');
});

test('foreground: compositing is bit-exact outside the dilated mask, changes inside', async () => {
  const b = 4;
  const canvas = await background(b, 3, [0, 1, 2, 0]);
  const [x0, y0, w, h] = [Math.floor(R * 0.3), Math.floor(R * 0.4), Math.floor(R * 0.3), Math.floor(R * 0.4)];
  const mask = boxMask(b, x0, y0, w, h);
  for (let cat = 0; cat < C; cat++) {
    const img = await foreground(canvas, mask, b, cat, 100 + cat);
    assert.deepEqual(img.dims, [b, 3, R, R]);
    const d = manifest.foreground.dilation;
    let changedInside = 0;
    for (let i = 0; i < b; i++)
      for (let c = 0; c < 3; c++)
        for (let y = 0; y < R; y++)
          for (let x = 0; x < R; x++) {
            const k = ((i * 3 + c) * R + y) * R + x;
            const v = img.data[k];
            assert.ok(v >= -1 && v <= 1);
            const inDil = x >= x0 - d && x < x0 + w + d && y >= y0 - d && y < y0 + h + d;
            if (!inDil) assert.equal(Object.is(v, canvas.data[k]) || v === canvas.data[k], true, `pixel ${k} outside`);
            else if (x >= x0 && x < x0 + w && y >= y0 && y < y0 + h && Math.abs(v - canvas.data[k]) > 0.02)
              changedInside++;
          }
    assert.ok(changedInside > 0.3 * b * 3 * w * h, `category ${cat}: the object is painted (${changedInside})`);
  }
});

test('foreground: deterministic for a fixed input and different across z', async () => {
  const canvas = await background(1, 5);
  const mask = boxMask(1, 20, 20, 24, 30);
  const a = await foreground(canvas, mask, 1, 2, 1);
  const a2 = await foreground(canvas, mask, 1, 2, 1);
  assert.equal(maxAbsDiff(a.data, a2.data), 0);
  const b = await foreground(canvas, mask, 1, 2, 2);
  assert.ok(maxAbsDiff(a.data, b.data) > 0.1, 'different z paints a different object');
});

test('shape: shape, range [0,1], determinism, z and category matter', async () => {
  const run = async (b, cat, seed) =>
    (
      await sessions.shape.run({
        category: T(onehot(b, C, cat), [b, C]),
        z: T(normal(b * manifest.noise.shape, seed), [b, manifest.noise.shape]),
      })
    ).mask;
  for (const b of [1, 8]) {
    const m = await run(b, 0, 1);
    assert.deepEqual(m.dims, resolveShape(manifest.models.shape.outputs[0].shape, b));
    for (const v of m.data) assert.ok(v >= 0 && v <= 1);
  }
  const a = await run(1, 0, 1);
  assert.equal(maxAbsDiff(a.data, (await run(1, 0, 1)).data), 0);
  const cover = (d) => d.reduce((s, v) => s + (v > 0.5 ? 1 : 0), 0) / d.length;
  for (let c = 0; c < C; c++) {
    const m = await run(1, c, 3);
    assert.ok(cover(m.data) > 0.05 && cover(m.data) < 0.95, `category ${c} gives a real silhouette`);
  }
  const diff = (x, y) => x.reduce((s, v, i) => s + ((v > 0.5) !== (y[i] > 0.5) ? 1 : 0), 0);
  assert.ok(diff(a.data, (await run(1, 0, 2)).data) > 0, 'z changes the shape');
  assert.ok(diff(a.data, (await run(1, 2, 1)).data) > 20, 'category changes the shape');
});
