import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../errors.js';
import { checkColor, checkDisplayName, guestProfile, requireUser, type Actor, type UserData } from './identity.js';
import type { AccessStore, ApiTokenRecord } from '../ports.js';
import { sha256 } from '../../lib/hash.js';
import { Lru } from '../lru.js';

const PAT_PREFIX = 'strata_pat_';
/** Tokens from before sessions expired: accepted (and revocable), renewed as v2 on their next HTTP use. */
const LEGACY_PREFIX = 'v1.';
const SESSION_PREFIX = 'v2.';
/** How long a "not revoked" answer of the store is believed before it is asked again. */
const REVOCATION_RECHECK_MS = 5000;

/** What a request presented: a bearer token or a cookie (either may be absent). */
export interface Credentials {
  bearer: string | null;
  cookie: string | null;
}

/** The session a signed token belongs to: its id (what sign-out revokes) and when it expires. */
export interface SessionInfo {
  id: string;
  /** Epoch seconds; null for a legacy (v1) token, which never expired. */
  expiresAt: number | null;
}

/** A signed session token and who it is. */
export interface IssuedSession {
  token: string;
  user: UserData;
  session: SessionInfo;
}

/** The outcome of authentication: who, and through which session. */
export interface Authenticated {
  actor: Actor;
  /** A newly minted guest session (set it as a cookie) when the request carried no credentials and asked for one. */
  issued: IssuedSession | null;
  /** The session that authenticated the caller (null for API tokens and anonymous callers). */
  session: SessionInfo | null;
  /** Whether the identity came from the bearer token or the cookie. */
  via: 'bearer' | 'cookie' | null;
  /** The same session with a fresh expiry, when it is past half its lifetime or a legacy token (hand it out as the cookie). */
  renewed: string | null;
}

export interface AuthenticatorOptions {
  /** Lifetime of a session token. @default 30 days */
  sessionTtlSeconds?: number;
}

/**
 * Sessions are signed, self-contained tokens (user id, name, colour, session id, expiry): a guest
 * exists from the first visit without any write. Signing out revokes the session id (kept in the
 * AccessStore until the token would have expired). Personal API tokens are random secrets of which
 * only the sha256 is kept. Every request and every WebSocket connection goes through `authenticate`.
 */
export class Authenticator {
  private readonly ttl: number;
  /** Session id -> what the store said and when (revoked answers are final). */
  private readonly revocations = new Lru<string, { revoked: boolean; at: number }>(10_000);

  constructor(
    private readonly secret: Buffer,
    private readonly store: AccessStore,
    private readonly now: () => string = () => new Date().toISOString(),
    options: AuthenticatorOptions = {},
  ) {
    this.ttl = options.sessionTtlSeconds ?? 30 * 86_400;
  }

  private nowSeconds(): number {
    return Math.floor(Date.parse(this.now()) / 1000);
  }

  /** Sign `user` into a token of `session` (a new session with a full lifetime when omitted). */
  sign(user: UserData, session: SessionInfo = this.newSession()): string {
    const payload = Buffer.from(
      JSON.stringify({ u: user.id, n: user.displayName, c: user.color, s: session.id, e: session.expiresAt }),
    ).toString('base64url');
    return `${SESSION_PREFIX}${payload}.${this.mac(payload)}`;
  }

  private newSession(id: string = randomUUID()): SessionInfo {
    return { id, expiresAt: this.nowSeconds() + this.ttl };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  /**
   * The user and session of a token whose signature is ours and which has not expired, or null.
   * (Revocation is checked by `authenticate`, which asks the store.)
   */
  verifySession(token: string): { user: UserData; session: SessionInfo } | null {
    const legacy = token.startsWith(LEGACY_PREFIX);
    if (!legacy && !token.startsWith(SESSION_PREFIX)) return null;
    const [payload, mac] = token.slice(SESSION_PREFIX.length).split('.');
    if (!payload || !mac) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let fields: { u?: unknown; n?: unknown; c?: unknown; s?: unknown; e?: unknown };
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof fields;
    } catch {
      return null;
    }
    const { u, n, c } = fields;
    if (typeof u !== 'string' || typeof n !== 'string' || typeof c !== 'string') return null;
    const user = { id: u, displayName: n, color: c };
    // A legacy token has no session id of its own: its signature names it, so sign-out can revoke it.
    if (legacy) return { user, session: { id: `v1-${sha256(payload).slice(0, 32)}`, expiresAt: null } };
    const { s, e } = fields;
    if (typeof s !== 'string' || typeof e !== 'number' || !Number.isFinite(e)) return null;
    if (e <= this.nowSeconds()) return null;
    return { user, session: { id: s, expiresAt: e } };
  }

  /** Whether the store lists the session as revoked (a "no" is believed for a few seconds). */
  private async revoked(id: string): Promise<boolean> {
    const now = Date.now();
    const known = this.revocations.get(id);
    if (known && (known.revoked || now - known.at < REVOCATION_RECHECK_MS)) return known.revoked;
    const revoked = await this.store.sessionRevoked(id);
    this.revocations.set(id, { revoked, at: now });
    return revoked;
  }

  /** A valid (signed, unexpired, unrevoked) session token's user and session, or null. */
  async session(token: string): Promise<{ user: UserData; session: SessionInfo } | null> {
    const verified = this.verifySession(token);
    if (!verified || (await this.revoked(verified.session.id))) return null;
    return verified;
  }

  /** A token for the same session with a fresh expiry, when it is past half its lifetime (or legacy). */
  private renewal(user: UserData, session: SessionInfo): string | null {
    if (session.expiresAt !== null && session.expiresAt - this.nowSeconds() > this.ttl / 2) return null;
    return this.sign(user, this.newSession(session.expiresAt === null ? undefined : session.id));
  }

  /**
   * Who presented these credentials. A bearer token must be valid (UNAUTHENTICATED otherwise: forged,
   * expired, signed out or revoked); an invalid cookie is ignored like a missing one. With no
   * credentials, `mint` makes a guest.
   */
  async authenticate(credentials: Credentials, mint: boolean): Promise<Authenticated> {
    if (credentials.bearer) {
      if (credentials.bearer.startsWith(PAT_PREFIX)) {
        const user = await this.fromApiToken(credentials.bearer);
        if (!user) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'the bearer token is invalid or revoked', { field: 'authorization' });
        return { actor: { id: user.id, user }, issued: null, session: null, via: 'bearer', renewed: null };
      }
      const found = await this.session(credentials.bearer);
      if (!found)
        throw new DomainError(ErrorCode.UNAUTHENTICATED, 'the bearer token is invalid, expired or signed out: start a new session', {
          field: 'authorization',
        });
      return { actor: { id: found.user.id, user: found.user }, issued: null, session: found.session, via: 'bearer', renewed: null };
    }
    const fromCookie = credentials.cookie ? await this.session(credentials.cookie) : null;
    if (fromCookie) {
      const { user, session } = fromCookie;
      return { actor: { id: user.id, user }, issued: null, session, via: 'cookie', renewed: this.renewal(user, session) };
    }
    if (!mint) return { actor: { id: null, user: null }, issued: null, session: null, via: null, renewed: null };
    const issued = this.newGuest(null);
    return { actor: { id: issued.user.id, user: issued.user }, issued, session: issued.session, via: null, renewed: null };
  }

  private async fromApiToken(token: string): Promise<UserData | null> {
    const record = await this.store.findApiToken(sha256(token));
    if (!record) return null;
    await this.store.touchApiToken(record.id, this.now());
    return this.store.getUser(record.userId);
  }

  newGuest(displayName: string | null | undefined): IssuedSession {
    const profile = guestProfile();
    // Not stored: a guest exists in its signed token until it does something others see.
    const user: UserData = {
      id: randomUUID(),
      displayName: displayName == null ? profile.displayName : checkDisplayName(displayName, 'displayName'),
      color: profile.color,
    };
    const session = this.newSession();
    return { token: this.sign(user, session), user, session };
  }

  /**
   * End a session: its token (cookie or bearer, and every token `updateProfile` made from it) stops
   * working, here at once and on other replicas within a few seconds.
   */
  async signOut(session: SessionInfo): Promise<void> {
    // A legacy token never expires: keep its revocation for a long time.
    const until = session.expiresAt ?? this.nowSeconds() + 10 * 365 * 86_400;
    await this.store.revokeSession(session.id, new Date(until * 1000).toISOString());
    this.revocations.set(session.id, { revoked: true, at: Date.now() });
  }

  /** New name or colour; the token returned continues `session` (so signing out still ends it) or starts one. */
  async updateProfile(
    actor: Actor,
    displayName: string | null | undefined,
    color: string | null | undefined,
    session: SessionInfo | null = null,
  ): Promise<IssuedSession> {
    requireUser(actor);
    const current = actor.user!;
    const user: UserData = {
      id: current.id,
      displayName: displayName == null ? current.displayName : checkDisplayName(displayName, 'displayName'),
      color: color == null ? current.color : checkColor(color, 'color'),
    };
    await this.store.saveUser(user);
    const next = this.newSession(session && session.expiresAt !== null ? session.id : undefined);
    return { token: this.sign(user, next), user, session: next };
  }

  async createApiToken(actor: Actor, name: string): Promise<{ token: string; record: ApiTokenRecord }> {
    const userId = requireUser(actor);
    const clean = name.trim();
    if (clean.length < 1 || clean.length > 80)
      throw new DomainError(ErrorCode.BAD_USER_INPUT, 'name: must be 1 to 80 characters', { field: 'name' });
    if ((await this.store.apiTokens(userId)).length >= 50)
      throw new DomainError(ErrorCode.LIMIT_EXCEEDED, 'at most 50 API tokens', { field: 'name', limit: 50 });
    await this.store.saveUser(actor.user!);
    const token = `${PAT_PREFIX}${randomBytes(24).toString('base64url')}`;
    const record: ApiTokenRecord = { id: randomUUID(), userId, name: clean, hash: sha256(token), createdAt: this.now(), lastUsedAt: null };
    await this.store.createApiToken(record);
    return { token, record };
  }

  apiTokens(actor: Actor): Promise<ApiTokenRecord[]> {
    return this.store.apiTokens(requireUser(actor));
  }

  async revokeApiToken(actor: Actor, id: string): Promise<string> {
    if (!(await this.store.revokeApiToken(requireUser(actor), id)))
      throw new DomainError(ErrorCode.NOT_FOUND, `API token ${JSON.stringify(id)} not found`, { field: 'id' });
    return id;
  }
}

/**
 * Signed URLs for content-addressed blobs (frames, drawn masks) of scenes that are not public: an HMAC
 * over the blob id and an expiry, with a key derived from the server secret. Expiries are rounded up
 * to a whole window, so every client asking within one window gets the same URL (caches and shared
 * encodings keep working) and a URL stays valid for between `ttl` and `ttl` + one window.
 */
export class UrlSigner {
  private readonly key: Buffer;
  private readonly window: number;

  constructor(
    secret: Buffer,
    private readonly ttlSeconds: number,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.key = createHmac('sha256', secret).update('strata blob urls').digest();
    this.window = Math.max(60, Math.min(3600, Math.floor(ttlSeconds / 4)));
  }

  private mac(id: string, expiresAt: number | null): string {
    return createHmac('sha256', this.key)
      .update(`${id}:${expiresAt ?? 'public'}`)
      .digest('base64url')
      .slice(0, 32);
  }

  /** The query string (`exp=..&sig=..`, or `sig=..` for a blob of a public scene, which never expires). */
  query(id: string, publicScene: boolean): string {
    if (publicScene) return `sig=${this.mac(id, null)}`;
    const nowS = Math.floor(this.now() / 1000);
    const expiresAt = (Math.floor(nowS / this.window) + 1) * this.window + this.ttlSeconds;
    return `exp=${expiresAt}&sig=${this.mac(id, expiresAt)}`;
  }

  /** Whether `sig` (and `exp`) sign `id`: `public` (no expiry), `private` (with the seconds left), or null. */
  verify(id: string, exp: unknown, sig: unknown): { scope: 'public' } | { scope: 'private'; secondsLeft: number } | null {
    if (typeof sig !== 'string' || sig.length !== 32) return null;
    const expiresAt = exp === undefined ? null : typeof exp === 'string' && /^\d{1,12}$/.test(exp) ? Number(exp) : NaN;
    if (Number.isNaN(expiresAt)) return null;
    const expected = Buffer.from(this.mac(id, expiresAt));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    if (expiresAt === null) return { scope: 'public' };
    const secondsLeft = expiresAt - Math.floor(this.now() / 1000);
    return secondsLeft > 0 ? { scope: 'private', secondsLeft } : null;
  }
}
