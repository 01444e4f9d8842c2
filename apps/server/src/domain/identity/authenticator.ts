import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../errors.js';
import { checkColor, checkDisplayName, guestProfile, requireUser, type Actor, type UserData } from './identity.js';
import type { AccessStore, ApiTokenRecord } from '../ports.js';
import { sha256 } from '../../lib/hash.js';

const PAT_PREFIX = 'strata_pat_';
const SESSION_PREFIX = 'v1.';

/** What a request presented: a bearer token or a cookie (either may be absent). */
export interface Credentials {
  bearer: string | null;
  cookie: string | null;
}

/** The outcome of authentication: who, and a fresh session to hand out when none was presented. */
export interface Authenticated {
  actor: Actor;
  /** A newly minted guest session (set it as a cookie) when the request carried no credentials and asked for one. */
  issued: { token: string; user: UserData } | null;
}

/**
 * Sessions are signed, self-contained tokens (user id, name, colour): a guest exists from the first
 * visit without any write. Personal API tokens are random secrets of which only the sha256 is kept.
 * Every request and every WebSocket connection goes through `authenticate`.
 */
export class Authenticator {
  constructor(
    private readonly secret: Buffer,
    private readonly store: AccessStore,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {}

  sign(user: UserData): string {
    const payload = Buffer.from(JSON.stringify({ u: user.id, n: user.displayName, c: user.color })).toString('base64url');
    return `${SESSION_PREFIX}${payload}.${this.mac(payload)}`;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }

  /** The user of a session token, or null when it is not one of ours. */
  verifySession(token: string): UserData | null {
    if (!token.startsWith(SESSION_PREFIX)) return null;
    const [payload, mac] = token.slice(SESSION_PREFIX.length).split('.');
    if (!payload || !mac) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const { u, n, c } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { u: string; n: string; c: string };
      return typeof u === 'string' && typeof n === 'string' && typeof c === 'string' ? { id: u, displayName: n, color: c } : null;
    } catch {
      return null;
    }
  }

  /**
   * Who presented these credentials. A bearer token must be valid (UNAUTHENTICATED otherwise); an
   * invalid cookie is ignored like a missing one. With no credentials, `mint` makes a guest.
   */
  async authenticate(credentials: Credentials, mint: boolean): Promise<Authenticated> {
    if (credentials.bearer) {
      const user = await this.fromToken(credentials.bearer);
      if (!user) throw new DomainError(ErrorCode.UNAUTHENTICATED, 'the bearer token is invalid or revoked', { field: 'authorization' });
      return { actor: { id: user.id, user }, issued: null };
    }
    const fromCookie = credentials.cookie ? this.verifySession(credentials.cookie) : null;
    if (fromCookie) return { actor: { id: fromCookie.id, user: fromCookie }, issued: null };
    if (!mint) return { actor: { id: null, user: null }, issued: null };
    const session = this.newGuest(null);
    return { actor: { id: session.user.id, user: session.user }, issued: session };
  }

  private async fromToken(token: string): Promise<UserData | null> {
    if (token.startsWith(PAT_PREFIX)) {
      const record = await this.store.findApiToken(sha256(token));
      if (!record) return null;
      await this.store.touchApiToken(record.id, this.now());
      return this.store.getUser(record.userId);
    }
    return this.verifySession(token);
  }

  newGuest(displayName: string | null | undefined): { token: string; user: UserData } {
    const profile = guestProfile();
    // Not stored: a guest exists in its signed token until it does something others see.
    const user: UserData = {
      id: randomUUID(),
      displayName: displayName == null ? profile.displayName : checkDisplayName(displayName, 'displayName'),
      color: profile.color,
    };
    return { token: this.sign(user), user };
  }

  async updateProfile(
    actor: Actor,
    displayName: string | null | undefined,
    color: string | null | undefined,
  ): Promise<{ token: string; user: UserData }> {
    requireUser(actor);
    const current = actor.user!;
    const user: UserData = {
      id: current.id,
      displayName: displayName == null ? current.displayName : checkDisplayName(displayName, 'displayName'),
      color: color == null ? current.color : checkColor(color, 'color'),
    };
    await this.store.saveUser(user);
    return { token: this.sign(user), user };
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
