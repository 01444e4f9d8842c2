import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createApp, type App, type AppOverrides } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Logger } from '../src/domain/rendering/render-coordinator.js';
import type { BlobStore } from '../src/domain/ports.js';

/** A GraphQL response as clients see it. */
export interface Response<T> {
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

/** Log lines the server wrote, for assertions. */
export function captureLogger(): Logger & { lines: { level: string; message: string; data?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; data?: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message, data) => lines.push({ level: 'info', message, ...(data ? { data } : {}) }),
    error: (message, data) => lines.push({ level: 'error', message, ...(data ? { data } : {}) }),
  };
}

/** A client acting as one person: HTTP with a bearer token, graphql-ws with it in the connection parameters. */
export interface TestUser {
  token: string | null;
  user: { id: string; displayName: string; color: string } | null;
  gql<T, V>(doc: TypedDocumentNode<T, V> | DocumentNode | string, variables?: V): Promise<Response<T>>;
  ws(): Client;
}

export interface TestServer extends TestUser {
  app: App;
  url: string;
  wsUrl: string;
  dataDir: string;
  log: ReturnType<typeof captureLogger>;
  /** Another person with a fresh guest session (or an anonymous client with `null`). */
  newUser(displayName?: string | null): Promise<TestUser>;
  /** A client presenting exactly this token (or none). */
  as(token: string | null): TestUser;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * Which configuration the suites run against: `embedded` (one process, SQLite, in-process bus and
 * queue; the default) or `cluster` (`STRATA_TEST_TARGET=cluster`: PostgreSQL, Redis, two API
 * replicas, two inference workers and nginx, each a separate process, exactly as `npm run cluster`).
 */
export const TARGET = process.env['STRATA_TEST_TARGET'] === 'cluster' ? 'cluster' : 'embedded';

/** What a suite can see of the server besides its API: the in-process app, or a view of the cluster. */
interface Booted {
  app: App;
  url: string;
  stop(): Promise<void>;
}

async function bootEmbedded(
  dataDir: string,
  log: ReturnType<typeof captureLogger>,
  options: { env?: Record<string, string>; overrides?: AppOverrides },
): Promise<Booted> {
  const config = loadConfig({ STRATA_DATA_DIR: dataDir, STRATA_WORKERS: '1', STRATA_LOG: 'silent', ...options.env });
  const app = await createApp(config, { log, ...options.overrides });
  const { url } = await app.start({ port: 0, host: '127.0.0.1' });
  return { app, url, stop: () => app.stop() };
}

/**
 * The cluster behind nginx. Suites read its state as an operator would: the store through its own
 * connection to PostgreSQL, and a render counts as idle when no process holds the scene's render
 * lease, the scene is not marked as rendering, and its log stopped growing.
 */
async function bootCluster(dataDir: string, options: { env?: Record<string, string>; overrides?: AppOverrides }): Promise<Booted> {
  if (options.overrides) throw new Error('overrides need the embedded target');
  const { startCluster } = await import('../../../scripts/cluster.mjs');
  const cluster = await startCluster({
    port: 0,
    dir: dataDir,
    web: false,
    quiet: true,
    redisPersistence: false,
    env: { STRATA_LOG: 'silent', STRATA_RENDER_LEASE_MS: '3000', STRATA_RESUME_INTERVAL_MS: '1000', ...options.env },
  });
  const { PostgresSceneStore } = await import('../src/infrastructure/postgres/postgres-store.js');
  const { Redis } = await import('ioredis');
  const store = await PostgresSceneStore.open(cluster.databaseUrl, { poolSize: 2 });
  const redis = new Redis(cluster.redisUrl);
  const idle = async (sceneId: string) => {
    let last = -1;
    for (let i = 0; i < 1200; i++) {
      const [lease, marked, seq] = await Promise.all([
        redis.exists(`strata:lease:render:${sceneId}`),
        store.renderingScenes(10_000),
        store.lastSeq(sceneId),
      ]);
      if (lease === 0 && !marked.includes(sceneId) && seq === last) return;
      last = lease === 0 && !marked.includes(sceneId) ? seq : -1;
      await new Promise((r) => setTimeout(r, 60));
    }
    throw new Error(`scene ${sceneId} did not become idle`);
  };
  const app = { coordinator: { idle }, store } as unknown as App;
  return {
    app,
    url: cluster.url,
    async stop() {
      redis.disconnect();
      await store.close();
      await cluster.stop();
    },
  };
}

/** Boot the real server (real models, real workers) on an ephemeral port: embedded (SQLite in a temp dir) or the cluster. */
export async function startServer(
  options: { dataDir?: string; env?: Record<string, string>; overrides?: AppOverrides } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'strata-test-'));
  const log = captureLogger();
  const booted = TARGET === 'cluster' ? await bootCluster(dataDir, options) : await bootEmbedded(dataDir, log, options);
  const { app, url } = booted;
  const clients: Client[] = [];
  const wsUrl = `${url.replace('http', 'ws')}/graphql`;
  const as = (token: string | null): TestUser => ({
    token,
    user: null,
    async gql(doc, variables) {
      const query = typeof doc === 'string' ? doc : print(doc);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers['authorization'] = `Bearer ${token}`;
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return (await res.json()) as Response<never>;
    },
    ws() {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      });
      clients.push(client);
      return client;
    },
  });
  const newUser = async (displayName: string | null = null): Promise<TestUser> => {
    const started = await as(null).gql<{ startSession: { token: string; user: TestUser['user'] } }, { displayName: string | null }>(
      'mutation($displayName: String) { startSession(displayName: $displayName) { token user { id displayName color } } }',
      { displayName },
    );
    const { token, user } = started.data!.startSession;
    return { ...as(token), user };
  };
  const me = await newUser('Tester');
  return {
    ...me,
    app,
    url,
    wsUrl,
    dataDir,
    log,
    newUser,
    as,
    async stop(stopOptions = {}) {
      await Promise.all(clients.map((c) => c.dispose()));
      clients.length = 0;
      await booted.stop();
      if (!stopOptions.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Collect a subscription's results until `until` says stop (or the timeout passes). */
export function collect<T>(
  client: Client,
  doc: TypedDocumentNode<T, Record<string, unknown>> | DocumentNode,
  variables: Record<string, unknown>,
  until: (items: T[]) => boolean,
  timeoutMs = 30_000,
): { done: Promise<T[]>; items: T[]; errors: unknown[]; cancel: () => void } {
  const items: T[] = [];
  const errors: unknown[] = [];
  let cancel = () => {};
  const done = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel();
      reject(new Error(`timed out with ${items.length} items: ${JSON.stringify(items).slice(0, 500)}`));
    }, timeoutMs);
    let finished = false;
    const finish = () => {
      finished = true;
      clearTimeout(timer);
      cancel();
      resolve(items);
    };
    cancel = client.subscribe<T>(
      { query: print(doc), variables },
      {
        next: (value) => {
          if (finished) return;
          if (value.errors) errors.push(...value.errors);
          if (value.data) items.push(value.data as T);
          if (value.errors || until(items)) finish();
        },
        error: (error) => {
          // A graphql-ws `error` message (an operation refused before it started) carries a list of errors.
          errors.push(...(Array.isArray(error) ? error : [error]));
          finish();
        },
        complete: finish,
      },
    );
  });
  return { done, items, errors, cancel: () => cancel() };
}

/** Poll `check` until it returns a value other than undefined/false (or throw after `timeoutMs`). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An error as the file system raises it (`ENOSPC: no space left on device, write`). */
export function fsError(code: 'ENOSPC' | 'EROFS' | 'EIO', syscall = 'write'): NodeJS.ErrnoException {
  const text = { ENOSPC: 'no space left on device', EROFS: 'read-only file system', EIO: 'i/o error' }[code];
  return Object.assign(new Error(`${code}: ${text}, ${syscall}`), { code, syscall, errno: -1 });
}

/**
 * A blob store whose writes can be made to fail (a full disk, a read-only mount) while it runs: for
 * tests run as root, where `chmod` does not stop writes. `failWrites` is what a write throws (null:
 * writes work); reads always work.
 */
export class FaultyBlobStore implements BlobStore {
  failWrites: (() => Error) | null = null;
  failedWrites = 0;

  constructor(readonly inner: BlobStore) {}

  private check(): void {
    if (!this.failWrites) return;
    this.failedWrites++;
    throw this.failWrites();
  }

  async put(bytes: Uint8Array): Promise<string> {
    this.check();
    return this.inner.put(bytes);
  }

  async putWithHash(hash: string, bytes: Uint8Array): Promise<void> {
    this.check();
    return this.inner.putWithHash(hash, bytes);
  }

  get(hash: string): Promise<Uint8Array | null> {
    return this.inner.get(hash);
  }

  has(hash: string): Promise<boolean> {
    return this.inner.has(hash);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A scene store whose named write methods throw `fail()` while `fail` is set (a full disk under the
 * database, a database gone read-only); every other call goes to the real store.
 */
export function faultyStore<S extends object>(inner: S, methods: readonly (keyof S)[]): { store: S; fail: (() => Error) | null } {
  const control: { store: S; fail: (() => Error) | null } = { store: inner, fail: null };
  control.store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (control.fail && methods.includes(prop as keyof S)) {
        const error = control.fail();
        return async () => {
          throw error;
        };
      }
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
  return control;
}
