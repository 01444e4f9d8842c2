import pg from 'pg';
import type { BlobStore } from '../../domain/ports.js';
import { Lru } from '../../domain/lru.js';
import { sha256 } from '../../lib/hash.js';
import { migrate } from './migrations.js';
import { createPool, mapError, query, type PoolOptions } from './pool.js';

const HASH = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blobs in PostgreSQL (`blobs(hash, bytes bytea)`), with a memory cache in front,
 * reachable by every process of a cluster. A put resolves once the row is committed; putting bytes
 * that are already there (by any process) is a no-op (`ON CONFLICT DO NOTHING`). Fine for small PNGs
 * (frames, masks, presets: kilobytes); a deployment with large or many blobs would put an object store
 * behind this port instead.
 */
export class PostgresBlobStore implements BlobStore {
  private readonly cache = new Lru<string, Uint8Array>(4096);
  /** Writes in flight by hash: a second put of the same bytes waits for the first. */
  private readonly writing = new Map<string, Promise<void>>();

  /** Use `pool` (e.g. the PostgresSceneStore's), run migrations first; `ownsPool`: end it on close. */
  private constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool: boolean,
  ) {}

  /** Open on a URL (a pool of its own) or on an existing pool shared with the scene store (left open on close). */
  static async open(target: string | pg.Pool, options: PoolOptions = {}): Promise<PostgresBlobStore> {
    const owns = typeof target === 'string';
    const pool = owns ? createPool(target, options) : target;
    try {
      await migrate(pool);
    } catch (error) {
      if (owns) await pool.end().catch(() => undefined);
      throw mapError(error);
    }
    return new PostgresBlobStore(pool, owns);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    await this.putWithHash(hash, bytes);
    return hash;
  }

  async putWithHash(hash: string, bytes: Uint8Array): Promise<void> {
    if (!HASH.test(hash)) throw new Error(`not a sha256: ${hash}`);
    const running = this.writing.get(hash);
    if (running) return running;
    if (this.cache.get(hash) !== undefined) return;
    const write = query(this.pool, 'blob-put', 'INSERT INTO blobs (hash, bytes) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING', [
      hash,
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ])
      .then(() => this.cache.set(hash, bytes))
      .finally(() => this.writing.delete(hash));
    this.writing.set(hash, write);
    await write;
  }

  async get(hash: string): Promise<Uint8Array | null> {
    if (!HASH.test(hash)) return null;
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const { rows } = await query<{ bytes: Buffer }>(this.pool, 'blob-get', 'SELECT bytes FROM blobs WHERE hash = $1', [hash]);
    if (!rows[0]) return null;
    const bytes = new Uint8Array(rows[0].bytes); // a copy: the driver's buffer may be a slice of a larger one
    this.cache.set(hash, bytes);
    return bytes;
  }

  async has(hash: string): Promise<boolean> {
    if (!HASH.test(hash)) return false;
    if (this.cache.get(hash) !== undefined) return true;
    const { rows } = await query(this.pool, 'blob-has', 'SELECT 1 FROM blobs WHERE hash = $1', [hash]);
    return rows.length > 0;
  }

  /** Wait for writes in flight; end the pool if this store opened it. */
  async close(): Promise<void> {
    await Promise.all([...this.writing.values()].map((w) => w.catch(() => undefined)));
    if (this.ownsPool) await this.pool.end();
  }
}
