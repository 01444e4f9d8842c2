import type { BlobStore } from '../../domain/ports.js';
import { sha256 } from '../../lib/hash.js';

/** Blobs in memory only (tests, benches). */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();

  async put(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    this.blobs.set(hash, bytes);
    return hash;
  }

  async putWithHash(hash: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(hash, bytes);
  }

  async get(hash: string): Promise<Uint8Array | null> {
    return this.blobs.get(hash) ?? null;
  }

  async has(hash: string): Promise<boolean> {
    return this.blobs.has(hash);
  }

  async close(): Promise<void> {}
}
