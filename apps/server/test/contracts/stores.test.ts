import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySceneStore } from '../../src/infrastructure/memory/memory-store.js';
import { SqliteSceneStore } from '../../src/infrastructure/sqlite/sqlite-store.js';
import { sceneStoreContract } from './scene-store.contract.js';

sceneStoreContract('memory', () => new MemorySceneStore());
sceneStoreContract('sqlite file', () => new SqliteSceneStore(join(mkdtempSync(join(tmpdir(), 'strata-store-')), 'test.db')));
