/** Name of the browser cookie that carries the session token. */
export const SESSION_COOKIE = 'strata_session';

/** The bearer token of an `Authorization` header value, or null. */
export function bearerOf(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

/** The session cookie from a `Cookie` header, or null. */
export function sessionCookieOf(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return decodeURIComponent(rest.join('='));
  }
  return null;
}

/** A Set-Cookie value for a session (a year; HttpOnly so page scripts never see it). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
