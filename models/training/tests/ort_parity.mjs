// Run an exported ONNX model in onnxruntime-node and compare with PyTorch's output.
// usage: node ort_parity.mjs <dir>   (dir holds case.json, the model and the raw float32 inputs/outputs)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
const load = (f) => {
  const b = readFileSync(join(dir, f));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const results = [];
for (const c of spec.cases) {
  const session = await ort.InferenceSession.create(join(dir, c.model), { graphOptimizationLevel: 'all' });
  const feeds = {};
  for (const t of c.inputs) feeds[t.name] = new ort.Tensor('float32', load(t.file), t.shape);
  const out = await session.run(feeds);
  for (const t of c.outputs) {
    const got = out[t.name].data;
    const want = load(t.file);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    let exactOutside = true;
    if (t.unchangedFrom) {
      const canvas = load(t.unchangedFrom);
      const keep = load(t.unchangedWhere);
      for (let i = 0; i < want.length; i++) if (keep[i] > 0.5 && got[i] !== canvas[i]) exactOutside = false;
    }
    results.push({ model: c.model, output: t.name, dims: out[t.name].dims, maxDiff, exactOutside });
  }
}
process.stdout.write(JSON.stringify(results));
