import express, { type Express, type Request, type Response } from 'express';
import type { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import type { ApiContext } from '@strata/schema';
import type { BlobStore } from '../domain/ports.js';
import { maskToPng, presetMask } from '../domain/rendering/mask.js';

/** A handler for every request the API does not serve itself (the web app, in `npm start`). */
export type HttpFallback = (req: Request, res: Response) => void | Promise<void>;

export interface HttpDeps {
  apollo: ApolloServer<ApiContext>;
  context: (req: Request, res: Response) => Promise<ApiContext>;
  /** Give a browser its guest session on its first page view, before it opens a WebSocket. */
  ensureSession: (req: Request, res: Response) => void;
  blobs: BlobStore;
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

async function sendBlob(blobs: BlobStore, req: Request, res: Response): Promise<void> {
  const match = BLOB_NAME.exec(String(req.params['name']));
  const bytes = match ? await blobs.get(match[1]!) : null;
  if (!bytes) {
    res.status(404).type('text/plain').send('not found');
    return;
  }
  const etag = `"${match![1]}"`;
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', IMMUTABLE);
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
  app.use(
    '/graphql',
    express.json({ limit: deps.bodyLimit ?? '1mb' }),
    expressMiddleware(deps.apollo, { context: async ({ req, res }) => deps.context(req, res) }),
  );
  app.get('/frames/:name', (req, res, next) => void sendBlob(deps.blobs, req, res).catch(next));
  app.get('/masks/:name', (req, res, next) => void sendBlob(deps.blobs, req, res).catch(next));
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
      if (req.method === 'GET' && req.headers.accept?.includes('text/html')) deps.ensureSession(req, res);
      Promise.resolve(fallback(req, res)).catch(next);
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
