import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../../domain/ports.js';
import { Lru } from '../../domain/lru.js';
import { sha256 } from '../../lib/hash.js';

const HASH = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blobs in a directory (`ab/abcdef....png`), with a memory cache in front.
 * Writes happen off the event loop; until one lands, the blob is served from memory.
 */
export class DiskBlobStore implements BlobStore {
  private readonly cache = new Lru<string, Uint8Array>(4096);
  private readonly writing = new Map<string, Uint8Array>();
  private readonly pending = new Set<Promise<void>>();
  private readonly dirs = new Set<string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  put(bytes: Uint8Array): string {
    const hash = sha256(bytes);
    this.putWithHash(hash, bytes);
    return hash;
  }

  putWithHash(hash: string, bytes: Uint8Array): void {
    this.cache.set(hash, bytes);
    if (this.writing.has(hash)) return;
    this.writing.set(hash, bytes);
    const write = this.write(hash, bytes).finally(() => {
      this.writing.delete(hash);
      this.pending.delete(write);
    });
    this.pending.add(write);
  }

  /** Write then rename, so a crash never leaves a truncated blob under a valid name. */
  private async write(hash: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(hash);
    const dir = hash.slice(0, 2);
    if (!this.dirs.has(dir)) {
      await mkdir(join(this.dir, dir), { recursive: true });
      this.dirs.add(dir);
    }
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  }

  /** Resolves when every write started so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  get(hash: string): Uint8Array | null {
    if (!HASH.test(hash)) return null;
    const cached = this.cache.get(hash) ?? this.writing.get(hash);
    if (cached) return cached;
    try {
      const bytes = new Uint8Array(readFileSync(this.path(hash)));
      this.cache.set(hash, bytes);
      return bytes;
    } catch {
      return null;
    }
  }

  has(hash: string): boolean {
    return HASH.test(hash) && (this.cache.get(hash) !== undefined || this.writing.has(hash) || existsSync(this.path(hash)));
  }

  private path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.png`);
  }
}

/** Blobs in memory only (tests, benches). */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();

  put(bytes: Uint8Array): string {
    const hash = sha256(bytes);
    this.blobs.set(hash, bytes);
    return hash;
  }

  putWithHash(hash: string, bytes: Uint8Array): void {
    this.blobs.set(hash, bytes);
  }

  get(hash: string): Uint8Array | null {
    return this.blobs.get(hash) ?? null;
  }

  has(hash: string): boolean {
    return this.blobs.has(hash);
  }

  async flush(): Promise<void> {}
}
