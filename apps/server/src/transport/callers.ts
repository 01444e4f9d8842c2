import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import { isDomainError } from '../domain/errors.js';
import type { Authenticated, Authenticator, Credentials } from '../domain/identity/authenticator.js';
import type { RateLimit } from '../domain/ports.js';
import type { Caller } from '../graphql/scene-api.js';
import { bearerOf, clearedSessionCookie, sessionCookie, sessionCookieOf } from './credentials.js';
import { cookieOriginAllowed, type ClientInfo } from './proxy.js';

/**
 * Who is calling, built at the transport edge from what each transport carries (a cookie, an
 * `Authorization: Bearer` header, or the graphql-ws connection parameters), so the GraphQL layer
 * only ever sees a `Caller`.
 */
export interface Callers {
  /**
   * The caller of an HTTP request. A request without credentials gets a new guest session (cookie),
   * as many per client address as the guest limit allows; such a caller is `fresh`.
   */
  http(req: Request, res: Response): Promise<Caller>;
  /** Give a browser its guest session on its first page view, before it opens a WebSocket. */
  ensureSession(req: Request, res: Response): Promise<void>;
  /** Whether a WebSocket connection may open (a bearer token that is presented must be valid). */
  accept(params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): Promise<boolean>;
  /** The caller of one operation on a WebSocket; credentials are checked again for each. */
  ws(params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): Promise<Caller>;
}

export interface CallerOptions {
  /** Client addresses and the server's own origin, with the configured proxies believed. */
  client: ClientInfo;
  /** Origins besides the server's own whose WebSocket connections may be authenticated by the cookie. */
  allowedOrigins: readonly string[];
  /** New guest identities per client address. */
  guests: RateLimit;
  /** Max-Age of the session cookie, seconds. */
  cookieMaxAge: number;
  /** Called once per WebSocket connection whose cookie was ignored because of its Origin. */
  onForeignCookie?: (origin: string | undefined, address: string) => void;
}

export function createCallers(auth: Authenticator, options: CallerOptions): Callers {
  const { client } = options;
  const allowed = new Set(options.allowedOrigins);
  /** Authenticate or fail with a typed 401. */
  const authenticate = async (credentials: Credentials): Promise<Authenticated> => {
    try {
      return await auth.authenticate(credentials, false);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      throw new GraphQLError(error.message, { extensions: { code: error.code, ...error.details, http: { status: 401 } } });
    }
  };
  const address = (request: IncomingMessage) => `ip:${client.address(request)}`;
  /** Whether this address may have another guest identity now (a refusal is not an error: the caller stays anonymous). */
  const mayMint = async (request: IncomingMessage) =>
    options.guests.take(address(request), 'new guests').then(
      () => true,
      (error: unknown) => {
        if (isDomainError(error)) return false;
        throw error;
      },
    );
  const secure = (req: Request) => req.secure;
  const cookieFor = (req: Request, token: string) => sessionCookie(token, secure(req), options.cookieMaxAge);
  /** Connections whose cookie was ignored (so it is reported once per connection, not per operation). */
  const reported = new WeakSet<IncomingMessage>();
  const wsCredentials = (params: Readonly<Record<string, unknown>> | undefined, request: IncomingMessage): Credentials => {
    const raw = params?.['authorization'] ?? params?.['Authorization'] ?? params?.['token'];
    const bearer = typeof raw === 'string' ? (bearerOf(raw) ?? (raw.trim() || null)) : null;
    let cookie = sessionCookieOf(request.headers.cookie);
    // Cross-site WebSocket hijacking: a page elsewhere can open a WebSocket that carries our cookie.
    // The cookie only counts when the page is ours (or an allowed origin); otherwise it is ignored
    // and the connection is anonymous (bearer tokens, which a page elsewhere cannot have, still work).
    if (cookie && !cookieOriginAllowed(request, client, allowed)) {
      cookie = null;
      if (!reported.has(request)) {
        reported.add(request);
        options.onForeignCookie?.(request.headers.origin, client.address(request));
      }
    }
    return { bearer, cookie };
  };
  return {
    async http(req, res) {
      const credentials = { bearer: bearerOf(req.headers.authorization), cookie: sessionCookieOf(req.headers.cookie) };
      const found = await authenticate(credentials);
      const setSession = (token: string) => res.append('Set-Cookie', cookieFor(req, token));
      const clearSession = () => res.append('Set-Cookie', clearedSessionCookie(secure(req)));
      if (found.actor.id) {
        if (found.renewed) setSession(found.renewed);
        return { actor: found.actor, rateKey: found.actor.id, address: address(req), session: found.session, setSession, clearSession };
      }
      // No (valid) credentials: a new guest, limited per client address, whose limits are the address's.
      if (found.via === null && (await mayMint(req))) {
        const issued = auth.newGuest(null);
        setSession(issued.token);
        return {
          actor: { id: issued.user.id, user: issued.user },
          rateKey: address(req),
          address: address(req),
          session: issued.session,
          fresh: true,
          setSession,
          clearSession,
        };
      }
      return { actor: found.actor, rateKey: address(req), address: address(req), session: null, fresh: true, setSession, clearSession };
    },
    async ensureSession(req, res) {
      const cookie = sessionCookieOf(req.headers.cookie);
      const found = cookie ? await auth.session(cookie) : null;
      if (found) return;
      if (!(await mayMint(req))) return;
      res.append('Set-Cookie', cookieFor(req, auth.newGuest(null).token));
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
      const { actor, session } = await authenticate(credentials);
      return {
        actor,
        rateKey: actor.id ?? address(request),
        address: address(request),
        session,
        // A revoked token throws; a cookie that was signed out or expired reads as anonymous: end the stream too.
        revalidate: async () => {
          const now = await auth.authenticate(credentials, false);
          if (now.actor.id !== actor.id)
            throw new GraphQLError('the session ended (signed out or expired)', {
              extensions: { code: 'UNAUTHENTICATED', field: 'authorization' },
            });
        },
      };
    },
  };
}
