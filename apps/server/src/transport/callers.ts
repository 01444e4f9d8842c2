import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import { isDomainError } from '../domain/errors.js';
import type { Authenticator, Credentials } from '../domain/identity/authenticator.js';
import type { Caller } from '../graphql/scene-api.js';
import { bearerOf, sessionCookie, sessionCookieOf } from './credentials.js';

/**
 * Who is calling, built at the transport edge from what each transport carries (a cookie, an
 * `Authorization: Bearer` header, or the graphql-ws connection parameters), so the GraphQL layer
 * only ever sees a `Caller`.
 */
export interface Callers {
  /** The caller of an HTTP request; a request without credentials gets a new guest session (cookie). */
  http(req: Request, res: Response): Promise<Caller>;
  /** Give a browser its guest session on its first page view, before it opens a WebSocket. */
  ensureSession(req: Request, res: Response): void;
  /** Whether a WebSocket connection may open (a bearer token that is presented must be valid). */
  accept(params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): Promise<boolean>;
  /** The caller of one operation on a WebSocket; credentials are checked again for each. */
  ws(params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): Promise<Caller>;
}

export function createCallers(auth: Authenticator): Callers {
  /** Authenticate or fail with a typed 401. */
  const authenticate = async (credentials: Credentials, mint: boolean) => {
    try {
      return await auth.authenticate(credentials, mint);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      throw new GraphQLError(error.message, { extensions: { code: error.code, ...error.details, http: { status: 401 } } });
    }
  };
  const address = (request: IncomingMessage) => `ip:${request.socket.remoteAddress ?? 'unknown'}`;
  const wsCredentials = (params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): Credentials => {
    const raw = params?.['authorization'] ?? params?.['Authorization'] ?? params?.['token'];
    const bearer = typeof raw === 'string' ? (bearerOf(raw) ?? (raw.trim() || null)) : null;
    return { bearer, cookie: sessionCookieOf(request.headers.cookie) };
  };
  return {
    async http(req, res) {
      const credentials = { bearer: bearerOf(req.headers.authorization), cookie: sessionCookieOf(req.headers.cookie) };
      const { actor, issued } = await authenticate(credentials, true);
      const setSession = (token: string) => res.append('Set-Cookie', sessionCookie(token, req.secure));
      if (issued) setSession(issued.token);
      return { actor, rateKey: actor.id ?? address(req), setSession };
    },
    ensureSession(req, res) {
      const cookie = sessionCookieOf(req.headers.cookie);
      if (cookie && auth.verifySession(cookie)) return;
      res.append('Set-Cookie', sessionCookie(auth.newGuest(null).token, req.secure));
    },
    async accept(params, request) {
      try {
        await auth.authenticate(wsCredentials(params, request), false);
        return true;
      } catch {
        return false;
      }
    },
    async ws(params, request) {
      const credentials = wsCredentials(params, request);
      const { actor } = await authenticate(credentials, false);
      return {
        actor,
        rateKey: actor.id ?? address(request),
        revalidate: async () => void (await auth.authenticate(credentials, false)),
      };
    },
  };
}
