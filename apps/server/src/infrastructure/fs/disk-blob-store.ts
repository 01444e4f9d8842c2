import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '@strata/schema';
import type { BlobStore } from '../../domain/ports.js';
import { DomainError } from '../../domain/errors.js';
import { Lru } from '../../domain/lru.js';
import { sha256 } from '../../lib/hash.js';

const HASH = /^[0-9a-f]{64}$/;
/** Errors of a read that mean "there is no such blob" rather than "the disk failed". */
const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

/**
 * The blob directory cannot be written or read (full disk, read-only mount, I/O error): a
 * SERVICE_UNAVAILABLE for callers (nothing was stored; retry once storage works again), carrying
 * the file system's code (`ENOSPC`, `EROFS`, ...) for logs.
 */
export class BlobStoreUnavailableError extends DomainError {
  override readonly name = 'BlobStoreUnavailableError';
  readonly errno: string;

  constructor(operation: 'write' | 'read', cause: unknown) {
    const errno = String((cause as { code?: unknown } | null)?.code ?? 'EIO');
    super(ErrorCode.SERVICE_UNAVAILABLE, `the blob store could not ${operation} (${errno}); nothing was stored, retry shortly`);
    this.errno = errno;
    this.cause = cause;
  }
}

/**
 * Content-addressed blobs in a directory (`ab/abcdef....png`), with a memory cache in front. A put
 * resolves once the file is durable under its name (written to a temporary name, flushed to disk,
 * then renamed, so a crash never leaves a truncated blob under a valid name). A read checks the
 * bytes against their name: a damaged file (truncated, overwritten) is removed and reads as absent,
 * so whoever needs it writes it again. In a cluster the directory is a volume every process mounts
 * (NFS, EFS, a CSI volume); a production deployment would rather use an object store behind the
 * same port.
 */
export class DiskBlobStore implements BlobStore {
  private readonly cache = new Lru<string, Uint8Array>(4096);
  /** Writes in flight by hash: a second put of the same bytes waits for the first. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly dirs = new Set<string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    removeLeftovers(dir);
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
    const write = this.write(hash, bytes).finally(() => this.writing.delete(hash));
    this.writing.set(hash, write);
    await write;
    this.cache.set(hash, bytes);
  }

  private async write(hash: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(hash);
    const dir = hash.slice(0, 2);
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      if (!this.dirs.has(dir)) {
        await mkdir(join(this.dir, dir), { recursive: true });
        this.dirs.add(dir);
      }
      // No "already there" shortcut: a damaged file under this name is replaced (rename is atomic).
      const file = await open(tmp, 'w');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new BlobStoreUnavailableError('write', error);
    }
  }

  async get(hash: string): Promise<Uint8Array | null> {
    if (!HASH.test(hash)) return null;
    const cached = this.cache.get(hash);
    if (cached) return cached;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.path(hash)));
    } catch (error) {
      if (ABSENT.has(String((error as { code?: unknown }).code))) return null;
      throw new BlobStoreUnavailableError('read', error);
    }
    if (sha256(bytes) !== hash) {
      // Damaged on disk: serve nothing rather than wrong bytes, and let the next put write it again.
      await rm(this.path(hash), { force: true }).catch(() => undefined);
      return null;
    }
    this.cache.set(hash, bytes);
    return bytes;
  }

  async has(hash: string): Promise<boolean> {
    return HASH.test(hash) && (this.cache.get(hash) !== undefined || (await exists(this.path(hash))));
  }

  async close(): Promise<void> {
    await Promise.all([...this.writing.values()].map((w) => w.catch(() => undefined)));
  }

  private path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), `${hash}.png`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Temporary files of writes that a crash interrupted (never renamed, so never named by anything). */
function removeLeftovers(dir: string): void {
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const name of readdirSync(join(dir, sub.name))) {
      if (name.endsWith('.tmp')) rmSync(join(dir, sub.name, name), { force: true });
    }
  }
}
