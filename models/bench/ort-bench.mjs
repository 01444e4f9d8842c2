// Inference speed of the committed models in onnxruntime-node on this machine, and the training
// throughput recorded by the pipeline.   npm run bench -w @strata/models
//   env: BENCH_N (timed runs, default 40), BENCH_THREADS (intra-op threads, default 2)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

const MODELS = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(MODELS, 'manifest.json'), 'utf8'));
const N = Number(process.env.BENCH_N ?? 40);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const WARMUP = 5;

function feeds(name, b) {
  const m = manifest.models[name];
  const out = {};
  for (const t of m.inputs) {
    const dims = t.shape.map((d) => (d === 'batch' ? b : d));
    const n = dims.reduce((a, x) => a * x, 1);
    const data = new Float32Array(n);
    if (t.distribution === 'one-hot') for (let i = 0; i < b; i++) data[i * dims[1] + (i % dims[1])] = 1;
    else if (t.distribution === 'binary') {
      const R = dims[2];
      for (let i = 0; i < b; i++)
        for (let y = R / 4; y < (3 * R) / 4; y++) for (let x = R / 4; x < (3 * R) / 4; x++) data[i * R * R + y * R + x] = 1;
    } else for (let i = 0; i < n; i++) data[i] = Math.sin(i * 12.9898) * 0.9;
    out[t.name] = new ort.Tensor('float32', data, dims);
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const rows = [];
for (const name of ['background', 'foreground', 'shape']) {
  const session = await ort.InferenceSession.create(join(MODELS, manifest.models[name].file), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  for (const b of [1, 8]) {
    const f = feeds(name, b);
    for (let i = 0; i < WARMUP; i++) await session.run(f);
    const times = [];
    for (let i = 0; i < N; i++) {
      const t = process.hrtime.bigint();
      await session.run(f);
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const med = median(times);
    rows.push({ model: name, batch: b, msPerStep: med.toFixed(2), msPerImage: (med / b).toFixed(2), imagesPerSecond: ((1000 * b) / med).toFixed(0) });
  }
  await session.release?.();
}
console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''} CPU, ${THREADS} intra-op threads, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), median of ${N} after ${WARMUP} warm-up runs, models ${manifest.version} at ${manifest.resolution}x${manifest.resolution}`);
console.table(rows);

// training throughput: the manifest's record, plus any local runs (models/training/runs/*/train.json)
const train = [];
const add = (source, info) => {
  const machine = info.machine ? `${info.device} ${info.machine.cores} cores, ${info.machine.threads} threads, torch ${info.machine.torch}` : info.device;
  for (const [stage, s] of Object.entries(info.stages ?? {}))
    train.push({ source, machine, resolution: info.resolution ?? info.config?.resolution, stage, images: s.images, minutes: (s.seconds / 60).toFixed(1), imagesPerSecond: s.imagesPerSecond });
};
add(`manifest ${manifest.version}`, manifest.training);
const runs = join(MODELS, 'training', 'runs');
if (existsSync(runs))
  for (const r of readdirSync(runs)) {
    const p = join(runs, r, 'train.json');
    if (existsSync(p)) add(`run ${r}`, JSON.parse(readFileSync(p, 'utf8')));
  }
console.log('training throughput (PyTorch, from the training records)');
console.table(train);
