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
    if (name === SESSION_COOKIE) {
      try {
        return decodeURIComponent(rest.join('='));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/**
 * A Set-Cookie value for a session: HttpOnly so page scripts never see it, SameSite=Lax, `Secure` when
 * the request came over HTTPS (behind a proxy: `STRATA_TRUST_PROXY`), as long as the session lives.
 */
export function sessionCookie(token: string, secure: boolean, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** A Set-Cookie value that removes the session cookie (sign-out). */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
