import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print, type DocumentNode } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createApp, type App, type AppOverrides } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Logger } from '../src/domain/render-coordinator.js';

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

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  dataDir: string;
  log: ReturnType<typeof captureLogger>;
  gql<T, V>(doc: TypedDocumentNode<T, V> | DocumentNode | string, variables?: V): Promise<Response<T>>;
  ws(): Client;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** Boot the real server (real models, real workers, SQLite in a temp dir) on an ephemeral port. */
export async function startServer(options: { dataDir?: string; env?: Record<string, string>; overrides?: AppOverrides } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'strata-test-'));
  const log = captureLogger();
  const config = loadConfig({ STRATA_DATA_DIR: dataDir, STRATA_WORKERS: '1', STRATA_LOG: 'silent', ...options.env });
  const app = await createApp(config, { log, ...options.overrides });
  const { url } = await app.start({ port: 0, host: '127.0.0.1' });
  const clients: Client[] = [];
  return {
    app,
    url,
    wsUrl: `${url.replace('http', 'ws')}/graphql`,
    dataDir,
    log,
    async gql(doc, variables) {
      const query = typeof doc === 'string' ? doc : print(doc);
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      return (await res.json()) as Response<never>;
    },
    ws() {
      const client = createClient({ url: `${url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    async stop(stopOptions = {}) {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
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
          errors.push(error);
          finish();
        },
        complete: finish,
      },
    );
  });
  return { done, items, errors, cancel: () => cancel() };
}
