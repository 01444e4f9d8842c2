// A tiny onnxruntime-node server for Python (strata_models/v2/ortbridge.py): there is no Python onnxruntime
// on these machines, so the v2 evaluation runs the exported ONNX files through onnxruntime-node, the runtime
// the server uses.  Protocol on stdin/stdout, one request at a time:
//   request:  a JSON line {"model": path, "inputs": [{"name", "shape"}], "threads": n} then the inputs' float32 bytes
//   response: a JSON line {"outputs": [{"name", "dims"}]} (or {"error": message}) then the outputs' float32 bytes
import * as ort from 'onnxruntime-node';

const sessions = new Map();
let buf = Buffer.alloc(0);
let pending = null; // parsed header waiting for its payload
let busy = false;

async function session(path, threads) {
  if (!sessions.has(path)) {
    sessions.set(path, await ort.InferenceSession.create(path, {
      graphOptimizationLevel: 'all', intraOpNumThreads: threads ?? 1, interOpNumThreads: 1,
    }));
  }
  return sessions.get(path);
}

async function pump() {
  if (busy) return;
  busy = true;
  try {
    for (;;) {
      if (!pending) {
        const nl = buf.indexOf(10);
        if (nl < 0) break;
        pending = JSON.parse(buf.subarray(0, nl).toString('utf8'));
        buf = buf.subarray(nl + 1);
        pending.bytes = pending.inputs.reduce((s, t) => s + 4 * t.shape.reduce((a, b) => a * b, 1), 0);
      }
      if (buf.length < pending.bytes) break;
      const req = pending;
      pending = null;
      const payload = Buffer.from(buf.subarray(0, req.bytes));
      buf = buf.subarray(req.bytes);
      try {
        const s = await session(req.model, req.threads);
        const feeds = {};
        let off = 0;
        for (const t of req.inputs) {
          const n = t.shape.reduce((a, b) => a * b, 1);
          feeds[t.name] = new ort.Tensor('float32', new Float32Array(payload.buffer, payload.byteOffset + off, n), t.shape);
          off += 4 * n;
        }
        const out = await s.run(feeds);
        const names = s.outputNames;
        const header = { outputs: names.map((n) => ({ name: n, dims: out[n].dims })) };
        process.stdout.write(JSON.stringify(header) + '\n');
        for (const n of names) {
          const d = out[n].data;
          process.stdout.write(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
        }
      } catch (e) {
        process.stdout.write(JSON.stringify({ error: String(e?.message ?? e) }) + '\n');
      }
    }
  } finally {
    busy = false;
  }
}

process.stdin.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  pump();
});
process.stdin.on('end', () => process.exit(0));
