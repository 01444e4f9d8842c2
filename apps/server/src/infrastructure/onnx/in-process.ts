import type { InferenceEngine, InferenceRequest, InferenceResult } from '../../domain/ports.js';
import { encodeImages, loadSessions, runSession, warmUp, type LoadedSessions, type SessionOptions } from './sessions.js';

/**
 * Inference on the main thread. `session.run` blocks the event loop (see TRAPS), so this is for
 * benchmarks that measure raw inference, never for serving.
 */
export class InProcessEngine implements InferenceEngine {
  readonly workers = 1;

  private constructor(private readonly loaded: LoadedSessions) {}

  get provider(): string {
    return this.loaded.provider;
  }

  static async start(options: SessionOptions): Promise<InProcessEngine> {
    const loaded = await loadSessions(options);
    await warmUp(loaded.sessions, options.tensors);
    return new InProcessEngine(loaded);
  }

  async run(request: InferenceRequest): Promise<InferenceResult> {
    const { outputs, runMs } = await runSession(this.loaded.sessions[request.model], request.feeds);
    return { outputs, images: request.encode && outputs['image'] ? encodeImages(outputs['image']) : [], runMs };
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.loaded.sessions).map((s) => s.release()));
  }
}
