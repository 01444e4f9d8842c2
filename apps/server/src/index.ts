/** @strata/server: the API server. One public entry. */
export { createApp, type App, type AppOverrides } from './app.js';
export { ConfigError, loadConfig, type Config } from './config.js';
export type { HttpFallback } from './transport/http.js';
export type { BlobStore, EventBus, InferenceEngine, SceneStore } from './domain/ports.js';
export { MemorySceneStore } from './infrastructure/memory/memory-store.js';
export { SqliteSceneStore } from './infrastructure/sqlite/sqlite-store.js';
export { DiskBlobStore } from './infrastructure/fs/disk-blob-store.js';
export { MemoryBlobStore } from './infrastructure/memory/memory-blob-store.js';
export { MemoryEventBus } from './infrastructure/memory/memory-bus.js';
// Inference: manifest validation, execution providers, the worker-thread pool, and the Redis job
// queue between API replicas (QueueInferenceEngine) and inference workers (QueueWorker, apps/worker).
export type { InferenceRequest, InferenceResult, Tensor, EncodedImage } from './domain/ports.js';
export type { Logger } from './domain/rendering/render-coordinator.js';
export { createLogger } from './logger.js';
export { loadManifest, type LoadedManifest } from './infrastructure/onnx/manifest.js';
export { WorkerPoolEngine } from './infrastructure/onnx/worker-pool.js';
export {
  AUTO_ORDER,
  PROVIDER_CHOICES,
  describeSelection,
  type ProviderChoice,
  type ProviderName,
  type ProviderSelection,
  type SkippedProvider,
} from './infrastructure/onnx/sessions.js';
export {
  QueueInferenceEngine,
  type QueueEngineOptions,
  type QueueEngineStats,
  type QueueInferenceResult,
} from './infrastructure/redis/queue-engine.js';
export { QueueWorker, type QueueWorkerOptions, type QueueWorkerStats } from './infrastructure/redis/queue-worker.js';
export type { WorkerInfo } from './infrastructure/redis/queue-protocol.js';
// Operations: every process (API replica, inference worker) serves its own registry on GET /metrics.
export { PrometheusMetrics, type GaugeSources } from './infrastructure/metrics/prometheus.js';
