/** @strata/server: the API server. One public entry. */
export { createApp, type App, type AppOverrides } from './app.js';
export { loadConfig, type Config } from './config.js';
export type { HttpFallback } from './transport/http.js';
export type { BlobStore, EventBus, InferenceEngine, SceneStore } from './domain/ports.js';
export { MemorySceneStore } from './infrastructure/memory-store.js';
export { SqliteSceneStore } from './infrastructure/sqlite-store.js';
export { MemoryBlobStore, DiskBlobStore } from './infrastructure/blob-store.js';
export { MemoryEventBus } from './infrastructure/memory-bus.js';
