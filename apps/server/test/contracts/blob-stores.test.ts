import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskBlobStore } from '../../src/infrastructure/fs/disk-blob-store.js';
import { MemoryBlobStore } from '../../src/infrastructure/memory/memory-blob-store.js';
import { PostgresBlobStore } from '../../src/infrastructure/postgres/postgres-blob-store.js';
import { PostgresSceneStore } from '../../src/infrastructure/postgres/postgres-store.js';
import { createDatabase, hasPostgres, startPostgres, type Engine } from '../engines/engines.js';
import { blobStoreContract } from './blob-store.contract.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'strata-blobs-'));

blobStoreContract('memory', () => {
  const store = new MemoryBlobStore();
  return { open: async () => store, persistent: false };
});

blobStoreContract('disk', () => {
  const dir = tempDir();
  return { open: async () => new DiskBlobStore(dir), persistent: true };
});

describe('DiskBlobStore', () => {
  it('[blob-6] removes temporary files left by interrupted writes when it opens, keeping the blobs', async () => {
    const dir = tempDir();
    const first = new DiskBlobStore(dir);
    const hash = await first.put(new Uint8Array([1, 2, 3]));
    await first.close();
    const sub = join(dir, hash.slice(0, 2));
    writeFileSync(join(sub, `${hash}.png.123.abc.tmp`), 'trunc');
    mkdirSync(join(dir, 'ff'), { recursive: true });
    writeFileSync(join(dir, 'ff', `${'f'.repeat(64)}.png.9.x.tmp`), '');
    const again = new DiskBlobStore(dir);
    expect(readdirSync(sub)).toEqual([`${hash}.png`]);
    expect(existsSync(join(dir, 'ff', `${'f'.repeat(64)}.png.9.x.tmp`))).toBe(false);
    expect(await again.get(hash)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await again.has('f'.repeat(64))).toBe(false);
    await again.close();
  });
});

let engine: Engine | undefined;
let databases = 0;

if (hasPostgres()) {
  beforeAll(async () => {
    engine = await startPostgres();
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  blobStoreContract('postgresql', () => {
    const url = createDatabase(engine!, `blobs_${++databases}`);
    return { open: () => PostgresBlobStore.open(url, { poolSize: 2 }), persistent: true };
  });

  describe('PostgresBlobStore', () => {
    it('[blob-7] shares the scene store pool and leaves it open when closed', async () => {
      const scenes = await PostgresSceneStore.open(createDatabase(engine!, `blobs_${++databases}`), { poolSize: 2 });
      try {
        const blobs = await PostgresBlobStore.open(scenes.pool);
        const hash = await blobs.put(new Uint8Array([9, 8, 7]));
        await blobs.close();
        expect(await scenes.lastSeq('none')).toBe(0); // the pool still works
        const again = await PostgresBlobStore.open(scenes.pool);
        expect(await again.get(hash)).toEqual(new Uint8Array([9, 8, 7]));
        await again.close();
      } finally {
        await scenes.close();
      }
    });
  });
} else {
  describe('BlobStore contract: postgresql', () => {
    it.skipIf(!process.env.CI)('needs PostgreSQL 15 (/usr/lib/postgresql/15/bin)', () => {});
    it.runIf(!!process.env.CI)('PostgreSQL 15 is required in CI', () => {
      expect(hasPostgres()).toBe(true);
    });
  });
}
