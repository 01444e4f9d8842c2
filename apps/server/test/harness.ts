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

/** Boot the real server (real models, real workers, SQLite in a temp dir) on an ephemeral port. */
export async function startServer(
  options: { dataDir?: string; env?: Record<string, string>; overrides?: AppOverrides } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'strata-test-'));
  const log = captureLogger();
  const config = loadConfig({ STRATA_DATA_DIR: dataDir, STRATA_WORKERS: '1', STRATA_LOG: 'silent', ...options.env });
  const app = await createApp(config, { log, ...options.overrides });
  const { url } = await app.start({ port: 0, host: '127.0.0.1' });
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
