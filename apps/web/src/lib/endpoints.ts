/**
 * Where the API lives. By default the web app and the API share one origin (`npm start` serves both),
 * so every URL is relative; `NEXT_PUBLIC_API_URL` (e.g. `http://localhost:4000`) points a
 * development build at a separate API instead. Next.js does not proxy WebSockets, so the
 * subscription URL is always absolute and built from the page's own location.
 */
const API_ORIGIN = (process.env.NEXT_PUBLIC_API_URL ?? '').replace(/\/+$/, '');

/** The GraphQL HTTP endpoint (queries and mutations). */
export function graphqlHttpUrl(): string {
  return `${API_ORIGIN}/graphql`;
}

/** The graphql-ws endpoint (subscriptions): same path, `ws:` or `wss:`. */
export function graphqlWsUrl(): string {
  const base = API_ORIGIN || window.location.origin;
  return `${base.replace(/^http/, 'ws')}/graphql`;
}

/** An absolute-or-relative URL for a server asset such as `frame.url` (`/frames/<sha>.png`). */
export function assetUrl(path: string): string {
  return /^https?:/.test(path) ? path : `${API_ORIGIN}${path}`;
}
