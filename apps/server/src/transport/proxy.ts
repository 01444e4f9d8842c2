import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import express from 'express';

/** Express's `trust proxy` value (`STRATA_TRUST_PROXY`). */
export type TrustProxy = boolean | number | string[];

/** Express's compiled trust function: whether the hop at `addr`, `index` hops from us, is a trusted proxy. */
type TrustFn = (addr: string, index: number) => boolean;

/**
 * What a request says about its client once the configured proxies are believed, for requests Express
 * never sees (WebSocket upgrades) and for the limits: the same rules as Express's `req.ip`,
 * `req.protocol` and `req.hostname`, from the same compiled `trust proxy` setting.
 */
export interface ClientInfo {
  /** The `trust proxy` value to give Express (`app.set('trust proxy', ...)`). */
  readonly setting: TrustProxy;
  /** The client's address: the socket's, or the nearest untrusted hop of `X-Forwarded-For`. */
  address(request: IncomingMessage): string;
  /** `https` when the connection (or, behind a trusted proxy, `X-Forwarded-Proto`) is encrypted. */
  protocol(request: IncomingMessage): 'http' | 'https';
  /** The host the client asked for (`X-Forwarded-Host` behind a trusted proxy, else `Host`), port included. */
  host(request: IncomingMessage): string | null;
  /** The server's own origin as this request's client sees it (`https://host:port`), or null without a Host. */
  ownOrigin(request: IncomingMessage): string | null;
}

const first = (value: string | string[] | undefined): string | undefined => {
  const raw = Array.isArray(value) ? value[0] : value;
  return raw?.split(',')[0]?.trim() || undefined;
};

export function clientInfo(setting: TrustProxy): ClientInfo {
  const probe = express();
  probe.set('trust proxy', setting);
  const trust = probe.get('trust proxy fn') as TrustFn;
  const socketAddress = (request: IncomingMessage) => request.socket.remoteAddress ?? 'unknown';
  const trustedHop = (request: IncomingMessage) => trust(socketAddress(request), 0);
  const info: ClientInfo = {
    setting,
    address(request) {
      // proxy-addr's walk: from the socket outwards, while the hop is trusted take the next one.
      const forwarded = String(request.headers['x-forwarded-for'] ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean)
        .reverse();
      const hops = [socketAddress(request), ...forwarded];
      let i = 0;
      while (i < hops.length - 1 && trust(hops[i]!, i)) i++;
      return hops[i]!;
    },
    protocol(request) {
      const encrypted = Boolean((request.socket as TLSSocket).encrypted);
      if (!trustedHop(request)) return encrypted ? 'https' : 'http';
      const header = first(request.headers['x-forwarded-proto'])?.toLowerCase();
      if (header === 'https' || header === 'wss') return 'https';
      if (header === 'http' || header === 'ws') return 'http';
      return encrypted ? 'https' : 'http';
    },
    host(request) {
      const forwarded = trustedHop(request) ? first(request.headers['x-forwarded-host']) : undefined;
      return forwarded ?? first(request.headers.host) ?? null;
    },
    ownOrigin(request) {
      const host = info.host(request);
      if (!host) return null;
      try {
        return new URL(`${info.protocol(request)}://${host}`).origin;
      } catch {
        return null;
      }
    },
  };
  return info;
}

/**
 * Whether a WebSocket upgrade may be authenticated by the session cookie: its `Origin` is the server's
 * own (as the client addressed it) or one of `allowed`. Browsers always send `Origin` on a WebSocket
 * handshake, so one without it is a program (it holds the cookie itself: nothing to hijack), unless it
 * carries the Fetch Metadata headers only browsers add. `Origin: null` (sandboxed frames, files) is foreign.
 */
export function cookieOriginAllowed(request: IncomingMessage, client: ClientInfo, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return request.headers['sec-fetch-mode'] === undefined && request.headers['sec-fetch-site'] === undefined;
  let normalised: string;
  try {
    normalised = new URL(origin).origin;
  } catch {
    return false;
  }
  if (normalised === 'null') return false;
  return normalised === client.ownOrigin(request) || allowed.has(normalised);
}
