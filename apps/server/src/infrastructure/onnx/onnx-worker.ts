/**
 * Worker thread entry: owns one ONNX session per model and runs requests off the main thread,
 * so a blocking `session.run` never stalls HTTP, WebSockets or subscriptions.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceRequest, InferenceResult } from '../../domain/ports.js';
import { encodeImages, loadSessions, runSession, type ProviderName, type SessionOptions, type SkippedProvider } from './sessions.js';

/** Messages from the pool to a worker. */
export type WorkerRequest = { type: 'run'; id: number; request: InferenceRequest } | { type: 'close' };
/** Messages from a worker to the pool. */
export type WorkerReply =
  | { type: 'ready'; provider: ProviderName; skipped: SkippedProvider[] }
  | { type: 'failed-to-start'; message: string; code?: string }
  | { type: 'result'; id: number; result: InferenceResult }
  | { type: 'error'; id: number; message: string };

const port = parentPort!;
const post = (reply: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

// On Linux a thread's nice value is its own: inference yields the CPU to the event loop, so HTTP,
// WebSockets and subscriptions stay responsive when the cores are saturated. Harmless elsewhere.
try {
  setPriority(10);
} catch {
  // Not permitted on this platform: run at normal priority.
}

try {
  const options = workerData as SessionOptions;
  // Opens, checks and warms the sessions (trying providers in turn for `auto`).
  const { sessions, provider, skipped } = await loadSessions(options);
  port.on('message', (message: WorkerRequest) => {
    if (message.type === 'close') {
      // Release the native sessions before the thread ends: terminating a worker inside
      // onnxruntime aborts the whole process.
      void Promise.all(Object.values(sessions).map((s) => s.release())).finally(() => port.close());
      return;
    }
    const { id, request } = message;
    runSession(sessions[request.model], request.feeds)
      .then(({ outputs, runMs }) => {
        // Encoded requests need only the images; raw outputs are copied so their buffers can be transferred.
        const images = request.encode && outputs['image'] ? encodeImages(outputs['image']) : [];
        const raw = request.encode
          ? {}
          : Object.fromEntries(Object.entries(outputs).map(([k, t]) => [k, { data: t.data.slice(), dims: t.dims }]));
        const transfer = [...Object.values(raw), ...images.flatMap((i) => [{ data: i.rgb }, { data: i.png }])].map(
          (t) => t.data.buffer as ArrayBuffer,
        );
        post({ type: 'result', id, result: { outputs: raw, images, runMs } }, transfer);
      })
      .catch((error: unknown) => post({ type: 'error', id, message: error instanceof Error ? error.message : String(error) }));
  });
  post({ type: 'ready', provider, skipped });
} catch (error) {
  post({
    type: 'failed-to-start',
    message: error instanceof Error ? error.message : String(error),
    code: (error as { code?: string }).code,
  });
}
