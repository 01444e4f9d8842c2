import type { InferenceEngine, InferenceRequest, InferenceResult } from '../../domain/ports.js';
import { encodeImages, loadSessions, runSession, type LoadedSessions, type ProviderSelection, type SessionOptions } from './sessions.js';

/**
 * Inference on the main thread. `session.run` blocks the event loop (see TRAPS), so this is for
 * benchmarks that measure raw inference, never for serving.
 */
export class InProcessEngine implements InferenceEngine {
  readonly workers = 1;

  private constructor(
    private readonly loaded: LoadedSessions,
    private readonly requested: SessionOptions['provider'],
  ) {}

  get provider(): string {
    return this.loaded.provider;
  }

  /** The provider asked for, the one that loaded, and why better ones did not. */
  get selection(): ProviderSelection {
    return { requested: this.requested, provider: this.loaded.provider, skipped: this.loaded.skipped };
  }

  static async start(options: SessionOptions): Promise<InProcessEngine> {
    return new InProcessEngine(await loadSessions(options), options.provider);
  }

  async run(request: InferenceRequest): Promise<InferenceResult> {
    const { outputs, runMs } = await runSession(this.loaded.sessions[request.model], request.feeds);
    return { outputs, images: request.encode && outputs['image'] ? encodeImages(outputs['image']) : [], runMs };
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.loaded.sessions).map((s) => s.release()));
  }
}
