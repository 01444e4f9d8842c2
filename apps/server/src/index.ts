/** @strata/server: the API server. One public entry. */
export { createApp, type App, type AppOverrides } from './app.js';
export { loadConfig, type Config } from './config.js';
export type { HttpFallback } from './transport/http.js';
export type { BlobStore, EventBus, InferenceEngine, SceneStore } from './domain/ports.js';
export { MemorySceneStore } from './infrastructure/memory/memory-store.js';
export { SqliteSceneStore } from './infrastructure/sqlite/sqlite-store.js';
export { DiskBlobStore } from './infrastructure/fs/disk-blob-store.js';
export { MemoryBlobStore } from './infrastructure/memory/memory-blob-store.js';
export { MemoryEventBus } from './infrastructure/memory/memory-bus.js';
