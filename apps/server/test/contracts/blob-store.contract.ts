import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/domain/ports.js';

/**
 * Where a blob store under test keeps its bytes: `open` may be called several times (a reopen after
 * close, or two processes sharing the storage); `persistent` stores keep bytes across a reopen.
 */
export interface BlobPlace {
  open(): Promise<BlobStore>;
  persistent: boolean;
}

const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const png = (n: number) => new Uint8Array(randomBytes(n));
/** The bytes, compared in one call (toEqual walks a large array element by element, for seconds). */
const sameBytes = (actual: Uint8Array | null, expected: Uint8Array) => {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(actual!.byteLength).toBe(expected.byteLength);
  expect(Buffer.from(actual!.buffer, actual!.byteOffset, actual!.byteLength).equals(expected)).toBe(true);
};

/** The rules every BlobStore keeps, run against each implementation. */
export function blobStoreContract(name: string, make: () => Promise<BlobPlace> | BlobPlace): void {
  describe(`BlobStore contract: ${name}`, () => {
    let place: BlobPlace;
    const opened: BlobStore[] = [];
    const open = async () => {
      const store = await place.open();
      opened.push(store);
      return store;
    };
    beforeEach(async () => {
      place = await make();
    });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('[blob-1] put resolves with the sha256; get returns the same bytes; has knows them', async () => {
      const store = await open();
      const bytes = png(1000);
      const hash = await store.put(bytes);
      expect(hash).toBe(hex(bytes));
      expect(await store.has(hash)).toBe(true);
      expect(await store.get(hash)).toEqual(bytes);
      const big = png(1 << 20);
      sameBytes(await store.get(await store.put(big)), big);
      const empty = new Uint8Array(0);
      expect(await store.get(await store.put(empty))).toEqual(empty);
    });

    it('[blob-2] putWithHash stores under the hash the caller computed', async () => {
      const store = await open();
      const bytes = png(300);
      await store.putWithHash(hex(bytes), bytes);
      expect(await store.get(hex(bytes))).toEqual(bytes);
      expect(await store.has(hex(bytes))).toBe(true);
    });

    it('[blob-3] get and has of an unknown or malformed hash give null and false', async () => {
      const store = await open();
      await store.put(png(10));
      for (const hash of [hex(png(10)), '', 'abc', '../../etc/passwd', hex(png(10)).toUpperCase(), `${hex(png(10))}0`, 'z'.repeat(64)]) {
        expect(await store.get(hash)).toBeNull();
        expect(await store.has(hash)).toBe(false);
      }
    });

    it('[blob-4] concurrent puts of the same bytes all succeed with one blob', async () => {
      const store = await open();
      const bytes = png(5000);
      const others = Array.from({ length: 8 }, () => png(200));
      const hashes = await Promise.all([...Array.from({ length: 8 }, () => store.put(bytes)), ...others.map((b) => store.put(b))]);
      expect(new Set(hashes.slice(0, 8))).toEqual(new Set([hex(bytes)]));
      expect(await store.get(hex(bytes))).toEqual(bytes);
      for (const [i, b] of others.entries()) expect(await store.get(hashes[8 + i]!)).toEqual(b);
    });

    it('[blob-5] bytes put by one process are seen by another sharing the storage, and survive a reopen', async ({ skip }) => {
      if (!place.persistent) skip();
      const a = await open();
      const b = await open();
      const bytes = png(2000);
      // Both processes put the same bytes at once (neither sees the other's write in flight).
      expect(await Promise.all([a.put(bytes), b.put(bytes), a.put(bytes), b.put(bytes)])).toEqual(Array(4).fill(hex(bytes)));
      const onlyA = await a.put(png(700));
      expect(await b.has(onlyA)).toBe(true);
      await Promise.all(opened.splice(0).map((s) => s.close()));
      const again = await open();
      expect(await again.get(hex(bytes))).toEqual(bytes);
      expect(await again.has(onlyA)).toBe(true);
    });
  });
}
