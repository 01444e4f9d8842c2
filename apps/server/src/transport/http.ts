import express, { type Express, type Request, type Response } from 'express';
import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import type { ApiContext } from '@strata/schema';
import type { BlobStore } from '../domain/ports.js';
import type { UrlSigner } from '../domain/identity/authenticator.js';
import type { TrustProxy } from './proxy.js';
import { maskToPng, presetMask } from '../domain/rendering/mask.js';

/** A handler for every request the API does not serve itself (the web app, in `npm start`). */
export type HttpFallback = (req: Request, res: Response) => void | Promise<void>;

export interface HttpDeps {
  apollo: ApolloServer<ApiContext>;
  context: (req: Request, res: Response) => Promise<ApiContext>;
  /** Give a browser its guest session on its first page view, before it opens a WebSocket. */
  ensureSession: (req: Request, res: Response) => Promise<void>;
  blobs: BlobStore;
  /** Checks the signatures of frame and mask URLs. */
  urls: UrlSigner;
  /** Express's `trust proxy` (`STRATA_TRUST_PROXY`): `req.ip`, `req.secure` and `req.hostname` behind proxies. */
  trustProxy?: TrustProxy;
  shapeResolution: number;
  /** Liveness and a summary (always 200 while the process serves). */
  health: () => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Readiness: every dependency answers (503 naming the ones that do not). */
  ready: () => Promise<{ ok: boolean; dependencies: Record<string, string> }>;
  /** Prometheus text exposition. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  fallback?: HttpFallback | undefined;
  /** Largest GraphQL request body. @default '1mb' */
  bodyLimit?: string;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const BLOB_NAME = /^([0-9a-f]{64})\.png$/;

/**
 * A frame or drawn mask, by a URL the API signed (`Frame.url`, `Shape.maskUrl`): blobs are shared
 * between scenes by content, so the URL itself carries the right to read it. A public scene's URL
 * never expires and is cached publicly; any other scene's expires (`STRATA_FRAME_URL_TTL_S`) and is
 * cached privately until then. A plain `/frames/<id>.png` is not served (404); a bad or expired
 * signature is refused with 403 (ask the API for the scene again to get a fresh URL).
 */
async function sendBlob(blobs: BlobStore, urls: UrlSigner, req: Request, res: Response): Promise<void> {
  const match = BLOB_NAME.exec(String(req.params['name']));
  res.setHeader('Cache-Control', 'no-store');
  if (!match || req.query['sig'] === undefined) {
    res.status(404).type('text/plain').send('not found');
    return;
  }
  const grant = urls.verify(match[1]!, req.query['exp'], req.query['sig']);
  if (!grant) {
    res.status(403).type('text/plain').send('this URL is not signed or has expired: read the scene again for a fresh one');
    return;
  }
  const bytes = await blobs.get(match[1]!);
  if (!bytes) {
    res.status(404).type('text/plain').send('not found');
    return;
  }
  const etag = `"${match[1]}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', grant.scope === 'public' ? IMMUTABLE : `private, max-age=${grant.secondsLeft}, immutable`);
  if (req.headers['if-none-match'] === etag) {
    res.status(304).end();
    return;
  }
  res.type('image/png').send(Buffer.from(bytes));
}

/**
 * The HTTP transport: GraphQL at /graphql, frames and masks as content-addressed PNGs, preset
 * silhouettes, a health check, and the fallback for everything else.
 */
export function createHttpApp(deps: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(securityHeaders);
  app.use(
    '/graphql',
    express.json({ limit: deps.bodyLimit ?? '1mb' }),
    expressMiddleware(deps.apollo, { context: async ({ req, res }) => deps.context(req, res) }),
  );
  app.get('/frames/:name', (req, res, next) => void sendBlob(deps.blobs, deps.urls, req, res).catch(next));
  app.get('/masks/:name', (req, res, next) => void sendBlob(deps.blobs, deps.urls, req, res).catch(next));
  const presets = new Map<string, Buffer>();
  app.get('/presets/:name', (req, res) => {
    const id = String(req.params['name']).replace(/\.png$/, '');
    let png = presets.get(id);
    if (!png) {
      const mask = presetMask(id, deps.shapeResolution * 2);
      if (!mask) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      png = Buffer.from(maskToPng(mask));
      presets.set(id, png);
    }
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('image/png').send(png);
  });
  app.get('/health', (_req, res, next) => {
    Promise.resolve(deps.health())
      .then((body) => res.setHeader('Cache-Control', 'no-store').json(body))
      .catch(next);
  });
  app.get('/health/ready', (_req, res, next) => {
    deps
      .ready()
      .then((state) =>
        res
          .setHeader('Cache-Control', 'no-store')
          .status(state.ok ? 200 : 503)
          .json(state),
      )
      .catch(next);
  });
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', (_req, res, next) => {
      metrics()
        .then(({ contentType, body }) => res.setHeader('Cache-Control', 'no-store').type(contentType).send(body))
        .catch(next);
    });
  }
  if (deps.fallback) {
    const fallback = deps.fallback;
    app.use((req, res, next) => {
      // Pages may not be framed by other sites (clickjacking); they are never cached by shared caches.
      res.setHeader('Content-Security-Policy', "frame-ancestors 'self'");
      res.setHeader('X-Frame-Options', 'SAMEORIGIN');
      const page = req.method === 'GET' && req.headers.accept?.includes('text/html');
      (page ? deps.ensureSession(req, res) : Promise.resolve()).then(() => fallback(req, res)).catch(next);
    });
  }
  // Malformed JSON bodies and the like: a typed 400, never a crash or an HTML stack trace.
  app.use((error: unknown, _req: Request, res: Response, _next: () => void) => {
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    if (res.headersSent) return;
    res.status(status).json({
      errors: [
        {
          message: status < 500 ? 'Bad request' : 'Internal server error',
          extensions: { code: status < 500 ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR' },
        },
      ],
    });
  });
  return app;
}

/**
 * Headers on every response: `nosniff` and a referrer policy; and a response that sets a cookie, or
 * is an HTML page, is never stored by a shared cache (`private`): whatever Cache-Control the handler
 * chose (Next marks static pages `s-maxage=31536000`) is replaced as the head is written, so a CDN
 * cannot hand one visitor's session cookie, or a page made for it, to everyone.
 */
function securityHeaders(_req: Request, res: Response, next: () => void): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
  const writeHead = res.writeHead as (...args: unknown[]) => Response;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    const inline = args.find((a, i) => i > 0 && typeof a === 'object' && a !== null && !Array.isArray(a)) as
      Record<string, unknown> | undefined;
    const header = (name: string) =>
      this.getHeader(name) ?? (inline && Object.entries(inline).find(([k]) => k.toLowerCase() === name)?.[1]);
    const cookie = header('set-cookie') !== undefined;
    const html = /^text\/html\b/i.test(String(header('content-type') ?? ''));
    if (cookie || html) {
      const value = cookie ? 'private, no-store' : 'private, no-cache';
      if (inline) for (const key of Object.keys(inline)) if (key.toLowerCase() === 'cache-control') delete inline[key];
      this.setHeader('Cache-Control', value);
    }
    return writeHead.apply(this, args);
  } as typeof res.writeHead;
  next();
}
