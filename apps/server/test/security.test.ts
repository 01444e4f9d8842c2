import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print } from 'graphql';
import {
  AddObjectDocument,
  CreateApiTokenDocument,
  CreateSceneDocument,
  MeDocument,
  RenameSceneDocument,
  SceneDocument,
  SceneEventsDocument,
  SetVisibilityDocument,
  SignOutDocument,
  UpdateProfileDocument,
} from '@strata/schema/client';
import { Authenticator, UrlSigner } from '../src/domain/identity/authenticator.js';
import { MemorySceneStore } from '../src/infrastructure/memory/memory-store.js';
import { createLogger, logLine } from '../src/logger.js';
import { clientInfo, cookieOriginAllowed } from '../src/transport/proxy.js';
import { collect, startServer, type Response, type TestServer } from './harness.js';

const SECRET = 'security-test-secret-0123456789abcdef';
const ALLOWED = 'https://studio.example';
const EVIL = 'https://evil.example';

type Gql = <T = Record<string, unknown>>(
  doc: string | { kind: 'Document' },
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => Promise<{ status: number; headers: Headers; body: Response<T> }>;

describe('security', () => {
  let server: TestServer;
  let gql: Gql;
  /** A distinct client address per helper call (the server trusts the loopback proxy). */
  let nextAddress = 1;
  const address = () => `203.0.113.${nextAddress++}`;

  /** A browser's first request: it receives a guest cookie (from the address given). */
  const browserGuest = async (from = address()) => {
    const first = await gql<{ me: { id: string } }>('{ me { id } }', {}, { 'x-forwarded-for': from });
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    return { cookie, id: first.body.data!.me.id, from };
  };

  /** A graphql-ws client that sends these upgrade headers (what a browser page elsewhere would send). */
  const wsWith = (headers: Record<string, string>, connectionParams: Record<string, unknown> = {}): Client => {
    class WithHeaders extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    }
    return createClient({ url: server.wsUrl, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: true, connectionParams });
  };
  const once = <T>(client: Client, query: string, variables: Record<string, unknown> = {}) =>
    new Promise<Response<T>>((resolve) => {
      client.subscribe<T>(
        { query, variables },
        { next: (v) => resolve(v as Response<T>), error: (e) => resolve({ errors: e as never }), complete: () => {} },
      );
    });

  beforeAll(async () => {
    server = await startServer({
      env: {
        STRATA_SECRET: SECRET,
        STRATA_TRUST_PROXY: 'loopback',
        STRATA_ALLOWED_ORIGINS: ALLOWED,
        STRATA_RATE_GUESTS: '6',
        STRATA_MAX_SUBSCRIPTIONS: '3',
      },
      overrides: {
        // What Next does for a static page under `npm start`.
        httpFallback: (_req, res) => {
          res.setHeader('Cache-Control', 's-maxage=31536000, stale-while-revalidate');
          res.setHeader('Content-Type', 'text/html; charset=utf-8');
          res.end('<!doctype html><title>strata</title>');
        },
      },
    });
    gql = async (doc, variables = {}, headers = {}) => {
      const query = typeof doc === 'string' ? doc : print(doc as never);
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as never };
    };
  });
  afterAll(() => server?.stop());

  describe('cross-site WebSocket hijacking', () => {
    it("does not let a foreign origin's WebSocket use a guest's cookie to read its PRIVATE scene, rename it or create an API token", async () => {
      const guest = await browserGuest();
      const created = await gql<{ createScene: { id: string; visibility: string } }>(
        CreateSceneDocument,
        { input: { title: 'Mine', seed: 5 } },
        { cookie: guest.cookie },
      );
      const sceneId = created.body.data!.createScene.id;
      expect(created.body.data!.createScene.visibility).toBe('PRIVATE');

      const evil = wsWith({ cookie: guest.cookie, origin: EVIL });
      expect((await once<{ me: unknown }>(evil, '{ me { id } }')).data?.me).toBeNull();
      expect((await once(evil, print(SceneDocument), { id: sceneId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
      const rename = await once(evil, print(RenameSceneDocument), { sceneId, title: 'pwned' });
      expect(rename.errors?.[0]?.extensions?.['code']).toMatch(/^(NOT_FOUND|UNAUTHENTICATED)$/);
      const token = await once(evil, print(CreateApiTokenDocument), { name: 'backdoor' });
      expect(token.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
      const stream = collect(evil, SceneEventsDocument, { sceneId }, () => true, 5000);
      await stream.done;
      expect(stream.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      await evil.dispose();

      // Nothing changed, and the guest has no API token.
      const after = await gql<{ scene: { title: string } }>(SceneDocument, { id: sceneId }, { cookie: guest.cookie });
      expect(after.body.data!.scene.title).toBe('Mine');
      expect((await gql<{ apiTokens: unknown[] }>('{ apiTokens { id } }', {}, { cookie: guest.cookie })).body.data!.apiTokens).toEqual([]);
      expect(server.log.lines.some((l) => l.message === 'websocket cookie ignored: foreign origin' && l.data?.['origin'] === EVIL)).toBe(
        true,
      );
    });

    it('authenticates the cookie from our own origin, an allowed origin and programs, and bearer tokens from anywhere', async () => {
      const guest = await browserGuest();
      const host = new URL(server.url).host;
      const cases: [string, Record<string, string>, string | null][] = [
        ['own origin', { cookie: guest.cookie, origin: `http://${host}` }, guest.id],
        ['allowed origin', { cookie: guest.cookie, origin: ALLOWED }, guest.id],
        ['a program (no Origin)', { cookie: guest.cookie }, guest.id],
        ['a browser without Origin', { cookie: guest.cookie, 'sec-fetch-mode': 'websocket' }, null],
        ['Origin: null', { cookie: guest.cookie, origin: 'null' }, null],
        ['a look-alike origin', { cookie: guest.cookie, origin: `http://${host}.evil.example` }, null],
        [
          'a forwarded host from a trusted proxy',
          { cookie: guest.cookie, origin: 'https://public.example', 'x-forwarded-host': 'public.example', 'x-forwarded-proto': 'https' },
          guest.id,
        ],
      ];
      for (const [name, headers, expected] of cases) {
        const client = wsWith(headers);
        const me = await once<{ me: { id: string } | null }>(client, '{ me { id } }');
        expect([name, me.data?.me?.id ?? null]).toEqual([name, expected]);
        await client.dispose();
      }
      const bot = wsWith({ origin: EVIL }, { authorization: `Bearer ${server.token}` });
      expect((await once<{ me: { id: string } }>(bot, '{ me { id } }')).data!.me.id).toBe(server.user!.id);
      await bot.dispose();
    });

    it('believes X-Forwarded-Host and -Proto only from a trusted proxy', () => {
      const request = (remote: string, headers: Record<string, string>) =>
        ({ headers, socket: { remoteAddress: remote } }) as unknown as IncomingMessage;
      const forwarded = {
        origin: 'https://public.example',
        host: '10.0.0.5:4000',
        'x-forwarded-host': 'public.example',
        'x-forwarded-proto': 'https',
      };
      expect(cookieOriginAllowed(request('127.0.0.1', forwarded), clientInfo(false), new Set())).toBe(false);
      expect(cookieOriginAllowed(request('127.0.0.1', forwarded), clientInfo(['loopback']), new Set())).toBe(true);
      expect(cookieOriginAllowed(request('198.51.100.7', forwarded), clientInfo(['loopback']), new Set())).toBe(false);
      expect(cookieOriginAllowed(request('127.0.0.1', forwarded), clientInfo(1), new Set())).toBe(true);
      const xff = { 'x-forwarded-for': '198.51.100.1, 198.51.100.2' };
      expect(clientInfo(false).address(request('127.0.0.1', xff))).toBe('127.0.0.1');
      expect(clientInfo(true).address(request('127.0.0.1', xff))).toBe('198.51.100.1');
      expect(clientInfo(1).address(request('127.0.0.1', xff))).toBe('198.51.100.2');
      expect(clientInfo(['loopback']).address(request('127.0.0.1', xff))).toBe('198.51.100.2');
    });
  });

  describe('requests without credentials', () => {
    it('30 parallel createScene without a session make no scene and no owner', async () => {
      const from = address();
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          gql<{ createScene: { id: string } }>(CreateSceneDocument, { input: { title: `spam ${i}` } }, { 'x-forwarded-for': from }),
        ),
      );
      expect(results.filter((r) => r.body.data?.createScene)).toEqual([]);
      const codes = new Set(results.map((r) => r.body.errors?.[0]?.extensions?.['code']));
      expect([...codes].every((c) => c === 'UNAUTHENTICATED' || c === 'RATE_LIMITED')).toBe(true);
      expect(results[0]!.body.errors![0]!.message).toMatch(/session/);
    });

    it('anonymous mutations share one bucket per client address', async () => {
      const from = address();
      const results = await Promise.all(Array.from({ length: 60 }, () => gql(SignOutDocument, {}, { 'x-forwarded-for': from })));
      const limited = results.filter((r) => r.body.errors?.[0]?.extensions?.['code'] === 'RATE_LIMITED');
      expect(limited.length).toBeGreaterThanOrEqual(15);
      // Another address is not affected.
      expect((await gql(SignOutDocument, {}, { 'x-forwarded-for': address() })).body.errors).toBeUndefined();
    });

    it('mints at most STRATA_RATE_GUESTS guests per client address (implicitly or by startSession), the real address behind the proxy', async () => {
      const from = address();
      const start = () => gql<{ startSession: { token: string } }>('mutation { startSession { token } }', {}, { 'x-forwarded-for': from });
      const sessions = await Promise.all(Array.from({ length: 8 }, start));
      const ok = sessions.filter((s) => s.body.data?.startSession);
      expect(ok).toHaveLength(6);
      expect(sessions.find((s) => !s.body.data)!.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      // The first request of a browser from that address now gets no identity (no cookie), but is answered.
      const page = await gql<{ me: unknown }>('{ me { id } }', {}, { 'x-forwarded-for': from });
      expect(page.headers.get('set-cookie')).toBeNull();
      expect(page.body.data!.me).toBeNull();
      // Another client behind the same proxy is not affected.
      expect((await gql('{ me { id } }', {}, { 'x-forwarded-for': address() })).headers.get('set-cookie')).toMatch(/^strata_session=/);
    });

    it("counts anonymous viewers' streams per real client address", async () => {
      const sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Open', seed: 2, visibility: 'PUBLIC' } })).data!.createScene
        .id;
      const [a, b] = [address(), address()];
      const viewers = [a, a, a, a, b].map((from) => wsWith({ 'x-forwarded-for': from }));
      const streams = viewers.map((client) => collect(client, SceneEventsDocument, { sceneId }, () => false, 1500));
      const settled = await Promise.all(
        streams.map((s) =>
          s.done.then(
            () => s.errors,
            () => s.errors,
          ),
        ),
      );
      const refused = settled.map((errors) => (errors[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code ?? null);
      expect(refused.filter((c) => c === 'RATE_LIMITED')).toHaveLength(1);
      expect(refused[4]).toBeNull();
      await Promise.all(viewers.map((v) => v.dispose()));
      await server.app.coordinator.idle(sceneId);
    });
  });

  describe('cookies and sessions', () => {
    it('marks the session cookie Secure when the request came over HTTPS through a trusted proxy, and gives it an expiry', async () => {
      const https = await gql('{ me { id } }', {}, { 'x-forwarded-for': address(), 'x-forwarded-proto': 'https' });
      expect(https.headers.get('set-cookie')).toMatch(/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure$/);
      const http = await gql('{ me { id } }', {}, { 'x-forwarded-for': address() });
      expect(http.headers.get('set-cookie')).not.toMatch(/Secure/);
      const token = decodeURIComponent(http.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!);
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { e: number };
      expect(payload.e - Date.now() / 1000).toBeGreaterThan(30 * 86_400 - 60);
      expect(payload.e - Date.now() / 1000).toBeLessThanOrEqual(30 * 86_400);
    });

    it('refuses an expired session token, and treats an expired cookie as none', async () => {
      const past = new Authenticator(Buffer.from(SECRET), new MemorySceneStore(), () =>
        new Date(Date.now() - 31 * 86_400_000).toISOString(),
      );
      const old = past.newGuest('Old');
      expect((await gql(MeDocument, {}, { authorization: `Bearer ${old.token}` })).body.errors?.[0]?.extensions?.['code']).toBe(
        'UNAUTHENTICATED',
      );
      const viaCookie = await gql<{ me: { id: string } }>(
        MeDocument,
        {},
        { cookie: `strata_session=${old.token}`, 'x-forwarded-for': address() },
      );
      expect(viaCookie.body.data!.me.id).not.toBe(old.user.id);
      const ws = server.as(old.token).ws();
      expect((await once(ws, '{ me { id } }')).errors).toBeDefined();
    });

    it('signOut clears the cookie and revokes the session on HTTP and WebSocket, streams included', async () => {
      const guest = await browserGuest();
      const out = await gql<{ signOut: boolean }>(SignOutDocument, {}, { cookie: guest.cookie });
      expect(out.body.data!.signOut).toBe(true);
      expect(out.headers.get('set-cookie')).toMatch(/^strata_session=; Path=\/; Max-Age=0/);
      const again = await gql<{ me: { id: string } }>(MeDocument, {}, { cookie: guest.cookie, 'x-forwarded-for': address() });
      expect(again.body.data!.me.id).not.toBe(guest.id);
      const ws = wsWith({ cookie: guest.cookie });
      expect((await once<{ me: unknown }>(ws, '{ me { id } }')).data!.me).toBeNull();
      await ws.dispose();

      // A program's session token, and a token updateProfile made from it, end together; an open stream ends too.
      const bot = await server.newUser('Bot');
      const renamed = (await bot.gql(UpdateProfileDocument, { displayName: 'Bot 2' })).data!.updateProfile.token;
      const sceneId = (await bot.gql(CreateSceneDocument, { input: { title: 'Bot', seed: 9 } })).data!.createScene.id;
      // API tokens are separate credentials: signing out does not revoke them.
      const pat = server.as((await bot.gql(CreateApiTokenDocument, { name: 'ci' })).data!.createApiToken.token);
      await server.app.coordinator.idle(sceneId);
      const stream = collect(bot.ws(), SceneEventsDocument, { sceneId }, () => false, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      expect((await server.as(renamed).gql(SignOutDocument, {})).data!.signOut).toBe(true);
      expect((await bot.gql(MeDocument, {})).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
      const closed = await new Promise<unknown>((resolve) => {
        const client = server.as(bot.token).ws();
        client.on('closed', (event) => resolve((event as { code: number }).code));
        client.subscribe({ query: '{ me { id } }' }, { next: () => {}, error: () => {}, complete: () => {} });
      });
      expect(closed).toBe(4403);
      // The stream's next event (a frame of the owner's scene) finds the session gone.
      expect(
        (await pat.gql(AddObjectDocument, { sceneId, input: { category: 'tree', box: { x: 0.1, y: 0.1, w: 0.3, h: 0.3 } } })).errors,
      ).toBeUndefined();
      await stream.done;
      await server.app.coordinator.idle(sceneId);
      expect(stream.errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    });
  });

  describe('caching and headers', () => {
    it('never lets a shared cache keep a page or a response that sets a cookie, and sends the security headers', async () => {
      const first = await fetch(`${server.url}/`, { headers: { accept: 'text/html', 'x-forwarded-for': address() } });
      expect(first.headers.get('set-cookie')).toMatch(/^strata_session=/);
      expect(first.headers.get('cache-control')).toBe('private, no-store');
      expect(first.headers.get('content-security-policy')).toBe("frame-ancestors 'self'");
      expect(first.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(first.headers.get('x-content-type-options')).toBe('nosniff');
      expect(first.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      const returning = await fetch(`${server.url}/`, { headers: { accept: 'text/html', cookie } });
      expect(returning.headers.get('set-cookie')).toBeNull();
      expect(returning.headers.get('cache-control')).toBe('private, no-cache');
      const api = await gql('{ me { id } }', {}, { 'x-forwarded-for': address() });
      expect(api.headers.get('set-cookie')).toMatch(/^strata_session=/);
      expect(api.headers.get('cache-control')).toBe('private, no-store');
      expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    });
  });

  describe('frames and masks of scenes that are not public', () => {
    let sceneId = '';
    let frame = { id: '', url: '' };
    let maskUrl = '';
    beforeAll(async () => {
      sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Secret', seed: 11 } })).data!.createScene.id;
      const size = 16;
      const a8 = Buffer.alloc(size * size, 0);
      for (let i = 40; i < 200; i++) a8[i] = 255;
      const added = await server.gql(AddObjectDocument, {
        sceneId,
        input: {
          category: 'rock',
          box: { x: 0.5, y: 0.5, w: 0.3, h: 0.3 },
          shape: { kind: 'DRAWN', mask: { format: 'A8', width: size, height: size, data: a8.toString('base64') } },
        },
      });
      maskUrl = added.data!.addObject.layers[0]!.object.shape.maskUrl!;
      await server.app.coordinator.idle(sceneId);
      frame = (await server.gql(SceneDocument, { id: sceneId })).data!.scene.latestFrame!;
    });

    it("serves a private scene's frames and masks only by signed, expiring URLs, cached privately", async () => {
      expect(frame.url).toMatch(new RegExp(`^/frames/${frame.id}\\.png\\?exp=\\d+&sig=[\\w-]{32}$`));
      expect(maskUrl).toMatch(/^\/masks\/[0-9a-f]{64}\.png\?exp=\d+&sig=[\w-]{32}$/);
      const signed = await fetch(`${server.url}${frame.url}`);
      expect(signed.status).toBe(200);
      expect(signed.headers.get('cache-control')).toMatch(/^private, max-age=\d+, immutable$/);
      expect(Number(/max-age=(\d+)/.exec(signed.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(86_400 + 3600);
      expect((await fetch(`${server.url}${maskUrl}`)).status).toBe(200);
      // Without the signature, with another frame's, or with a longer expiry: refused.
      expect((await fetch(`${server.url}/frames/${frame.id}.png`)).status).toBe(404);
      expect((await fetch(`${server.url}${maskUrl.split('?')[0]}`)).status).toBe(404);
      const reversed = frame.url.replace(/sig=([\w-]+)/, (_m, sig: string) => `sig=${[...sig].reverse().join('')}`);
      expect((await fetch(`${server.url}${reversed}`)).status).toBe(403);
      expect((await fetch(`${server.url}${frame.url.replace(/exp=(\d+)/, (_m, n: string) => `exp=${Number(n) + 86_400}`)}`)).status).toBe(
        403,
      );
      // A URL signed a day and a half ago has expired.
      const old = new UrlSigner(Buffer.from(SECRET), 86_400, () => Date.now() - 1.5 * 86_400_000);
      expect((await fetch(`${server.url}/frames/${frame.id}.png?${old.query(frame.id, false)}`)).status).toBe(403);
    });

    it('signs the frame URLs of stream events too, and gives a PUBLIC scene URLs that never expire', async () => {
      const sub = collect(server.ws(), SceneEventsDocument, { sceneId, after: 0 }, (items) =>
        items.some((i) => i.sceneEvents.__typename === 'RenderCompleted'),
      );
      const events = await sub.done;
      const urls = events.flatMap((i) => ('frame' in i.sceneEvents && i.sceneEvents.frame ? [i.sceneEvents.frame.url] : []));
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url).toMatch(/\?exp=\d+&sig=/);
      expect((await fetch(`${server.url}${urls[0]}`)).status).toBe(200);

      await server.gql(SetVisibilityDocument, { sceneId, visibility: 'PUBLIC' });
      const open = (await server.as(null).gql(SceneDocument, { id: sceneId })).data!.scene.latestFrame!;
      expect(open.url).toMatch(/^\/frames\/[0-9a-f]{64}\.png\?sig=[\w-]{32}$/);
      const res = await fetch(`${server.url}${open.url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect((await fetch(`${server.url}/frames/${open.id}.png`)).status).toBe(404);
      await server.gql(SetVisibilityDocument, { sceneId, visibility: 'PRIVATE' });
    });
  });

  describe('the WebSocket transport', () => {
    const raw = async (
      headers: Record<string, string> = {},
      params: Record<string, unknown> = { authorization: `Bearer ${server.token}` },
    ) => {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers });
      const messages: { type: string; id?: string; payload?: unknown }[] = [];
      socket.on('message', (data) => messages.push(JSON.parse(String(data)) as never));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
      await vi.waitFor(() => expect(messages.some((m) => m.type === 'connection_ack')).toBe(true));
      return { socket, messages };
    };

    it('closes on an oversized message with 1009 and one JSON log line, printing nothing else', async () => {
      const printed = vi.spyOn(console, 'error');
      const { socket } = await raw();
      const code = await new Promise<number>((resolve) => {
        socket.once('close', (c) => resolve(c));
        socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: `{ me { id } } #${'x'.repeat(1_100_000)}` } }));
      });
      expect(code).toBe(1009);
      await vi.waitFor(() => expect(server.log.lines.some((l) => l.message === 'websocket closed on a client error')).toBe(true));
      expect(server.log.lines.find((l) => l.message === 'websocket closed on a client error')!.data).toMatchObject({ limit: 1024 * 1024 });
      expect(printed).not.toHaveBeenCalled();
      printed.mockRestore();
    });

    it('refuses a stream over the limit with a graphql-ws error message, not next and complete', async () => {
      const sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Streams', seed: 4 } })).data!.createScene.id;
      const { socket, messages } = await raw();
      const query = 'subscription($s: ID!) { sceneEvents(sceneId: $s) { __typename seq } }';
      for (const id of ['a', 'b', 'c', 'd'])
        socket.send(JSON.stringify({ type: 'subscribe', id, payload: { query, variables: { s: sceneId } } }));
      socket.send(JSON.stringify({ type: 'subscribe', id: 'e', payload: { query, variables: { s: 'missing' } } }));
      await vi.waitFor(() => expect(messages.filter((m) => m.type === 'error')).toHaveLength(2));
      const refused = messages.find((m) => m.type === 'error' && m.id !== 'e')!;
      expect(refused.payload).toMatchObject([{ extensions: { code: 'RATE_LIMITED', limit: 3 } }]);
      expect(messages.find((m) => m.type === 'error' && m.id === 'e')!.payload).toMatchObject([{ extensions: { code: 'NOT_FOUND' } }]);
      await new Promise((r) => setTimeout(r, 200));
      expect(messages.filter((m) => m.id === refused.id || m.id === 'e').map((m) => m.type)).toEqual(['error', 'error']);
      socket.close();
      await server.app.coordinator.idle(sceneId);
    });

    it('logs nothing when it writes to sockets whose clients already left', async () => {
      const sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Leavers', seed: 6, visibility: 'PUBLIC' } })).data!
        .createScene.id;
      for (let i = 0; i < 4; i++)
        await server.gql(AddObjectDocument, {
          sceneId,
          input: { category: 'bush', box: { x: 0.1 + i * 0.15, y: 0.4, w: 0.2, h: 0.3 }, appearanceSeed: i },
        });
      await server.app.coordinator.idle(sceneId);
      const before = server.log.lines.length;
      const printed = vi.spyOn(console, 'error');
      // Big events (each frame inlined many times over), replayed from the start, to clients that stop
      // reading and then vanish: the server's writes pile up and fail when the connections reset.
      const inline = Array.from({ length: 40 }, (_, i) => `p${i}: pngBase64`).join(' ');
      const query = `subscription($s: ID!) { sceneEvents(sceneId: $s, after: 0) { __typename seq ... on FrameRendered { frame { ${inline} } } } }`;
      const watchers = await Promise.all(Array.from({ length: 8 }, () => raw({ 'x-forwarded-for': address() }, {})));
      for (const [i, w] of watchers.entries()) {
        (w.socket as unknown as { _socket: { pause(): void } })._socket.pause();
        for (let k = 0; k < 3; k++)
          w.socket.send(JSON.stringify({ type: 'subscribe', id: `w${i}-${k}`, payload: { query, variables: { s: sceneId } } }));
      }
      await new Promise((r) => setTimeout(r, 500));
      for (const w of watchers) w.socket.terminate();
      await new Promise((r) => setTimeout(r, 500));
      expect(server.log.lines.slice(before).filter((l) => l.level === 'error')).toEqual([]);
      expect(printed).not.toHaveBeenCalled();
      printed.mockRestore();
    });
  });

  describe('the logger', () => {
    it('never lets data fields overwrite message, level or time', () => {
      const line = JSON.parse(logLine('info', 'render done', { message: 'spoofed', level: 'error', time: 'then', scene: 's1' })) as Record<
        string,
        unknown
      >;
      expect(line).toMatchObject({ level: 'info', message: 'render done', 'data.message': 'spoofed', 'data.level': 'error', scene: 's1' });
      expect(line['time']).not.toBe('then');
      const written = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      createLogger('info').error('boom', { cyclic, n: 10n });
      expect(JSON.parse(String(written.mock.calls[0]![0]))).toMatchObject({ level: 'error', message: 'boom' });
      written.mockRestore();
    });
  });
});
