/**
 * Where the API lives. `npm start` serves the web app and the API on one origin, so HTTP URLs are
 * relative. In development against a separate API (`NEXT_PUBLIC_API_URL=http://localhost:4000 next dev`),
 * HTTP still goes to this origin and Next's rewrites forward it (next.config.mjs), which keeps the
 * session cookie first-party and needs no CORS; the WebSocket, which Next.js does not proxy, connects
 * to the API directly (cookies ignore the port, so the same session goes along).
 */
const API_ORIGIN = (process.env.NEXT_PUBLIC_API_URL ?? '').replace(/\/+$/, '');

/** The GraphQL HTTP endpoint (queries and mutations). */
export function graphqlHttpUrl(): string {
  return '/graphql';
}

/** The graphql-ws endpoint (subscriptions): same path, `ws:` or `wss:`. */
export function graphqlWsUrl(): string {
  const base = API_ORIGIN || window.location.origin;
  return `${base.replace(/^http/, 'ws')}/graphql`;
}
