import Database from 'better-sqlite3';
import type { Role } from '@strata/schema';
import type { UserData } from '../../domain/identity/identity.js';
import type {
  AccessStore,
  ApiTokenRecord,
  HistoryEntry,
  InviteRecord,
  MemberRecord,
  SceneCommit,
  SceneFilter,
  ScenePage,
  SceneStore,
} from '../../domain/ports.js';
import type { SceneData, SceneEventData, StoredEvent } from '../../domain/scenes/types.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../../domain/errors.js';

/** SQLite result codes that mean the storage, not the request, is at fault. */
const UNAVAILABLE = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB|PROTOCOL)/;

/** A storage failure as SERVICE_UNAVAILABLE (the write did not happen); anything else unchanged. */
export function mapSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !UNAVAILABLE.test(code)) return error;
  return new DomainError(ErrorCode.SERVICE_UNAVAILABLE, `the database cannot be written (${code}); nothing was changed, retry shortly`, {
    retryAfterMs: 1000,
  });
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS scenes (
  id TEXT PRIMARY KEY,
  owner_id TEXT,
  visibility TEXT NOT NULL,
  revision INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS scenes_by_created ON scenes (created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS events (
  scene_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  at TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (scene_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  scene_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  undone INTEGER NOT NULL DEFAULT 0,
  entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_actor ON history (scene_id, actor_id, id);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  color TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
  scene_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  PRIMARY KEY (scene_id, user_id)
);
CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id);
CREATE TABLE IF NOT EXISTS invites (
  id TEXT PRIMARY KEY,
  scene_id TEXT NOT NULL,
  role TEXT NOT NULL,
  token TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT
);
CREATE TABLE IF NOT EXISTS revoked_sessions (
  id TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS revoked_sessions_by_expiry ON revoked_sessions (expires_at);
CREATE TABLE IF NOT EXISTS rendering (
  scene_id TEXT PRIMARY KEY,
  since TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS render_index (
  key TEXT PRIMARY KEY,
  frame_id TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Scenes a viewer may list: owned, shared with them, or public (parameters: viewer id twice). */
const VISIBLE = "(owner_id = ? OR visibility = 'PUBLIC' OR id IN (SELECT scene_id FROM members WHERE user_id = ?))";

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  hash: string;
  created_at: string;
  last_used_at: string | null;
}

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  hash: r.hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});
const toInvite = (r: { id: string; scene_id: string; role: string; token: string; created_at: string }): InviteRecord => ({
  id: r.id,
  sceneId: r.scene_id,
  role: r.role as Role,
  token: r.token,
  createdAt: r.created_at,
});

/** Keep the undo history of one actor in one scene bounded. */
const HISTORY_PER_ACTOR = 200;

/**
 * The embedded default store: one SQLite file (WAL). Every commit is one transaction that checks
 * the revision, writes the scene and appends its events with consecutive sequence numbers.
 */
export class SqliteSceneStore implements SceneStore, AccessStore {
  private readonly db: Database.Database;
  private readonly stmt;
  /** Last sequence number per scene: this store is the only writer of its file, so it may remember them. */
  private readonly seqs = new Map<string, number>();

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmt = {
      get: db.prepare<[string], { data: string }>('SELECT data FROM scenes WHERE id = ?'),
      insert: db.prepare('INSERT INTO scenes (id, owner_id, visibility, revision, created_at, data) VALUES (?, ?, ?, ?, ?, ?)'),
      update: db.prepare('UPDATE scenes SET revision = ?, visibility = ?, data = ? WHERE id = ? AND revision = ?'),
      seq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM scenes WHERE id = ?'),
      setSeq: db.prepare('UPDATE scenes SET last_seq = ? WHERE id = ?'),
      event: db.prepare('INSERT INTO events (scene_id, seq, revision, at, payload) VALUES (?, ?, ?, ?, ?)'),
      events: db.prepare<[string, number, number], { payload: string; seq: number; revision: number; at: string }>(
        'SELECT payload, seq, revision, at FROM events WHERE scene_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      page: db.prepare<[string, string, string, string, string, number], { data: string; created_at: string; id: string }>(
        `SELECT data, created_at, id FROM scenes WHERE ${VISIBLE} AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`,
      ),
      count: db.prepare<[string, string], { n: number }>(`SELECT COUNT(*) AS n FROM scenes WHERE ${VISIBLE}`),
      saveUser: db.prepare(
        'INSERT INTO users (id, display_name, color) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, color = excluded.color',
      ),
      getUser: db.prepare<[string], { id: string; display_name: string; color: string }>(
        'SELECT id, display_name, color FROM users WHERE id = ?',
      ),
      memberRole: db.prepare<[string, string], { role: string }>('SELECT role FROM members WHERE scene_id = ? AND user_id = ?'),
      members: db.prepare<[string], { user_id: string; role: string }>(
        'SELECT user_id, role FROM members WHERE scene_id = ? ORDER BY rowid',
      ),
      setMember: db.prepare(
        'INSERT INTO members (scene_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT (scene_id, user_id) DO UPDATE SET role = excluded.role',
      ),
      removeMember: db.prepare('DELETE FROM members WHERE scene_id = ? AND user_id = ?'),
      deleteMembers: db.prepare('DELETE FROM members WHERE scene_id = ?'),
      createInvite: db.prepare('INSERT INTO invites (id, scene_id, role, token, created_at) VALUES (?, ?, ?, ?, ?)'),
      invites: db.prepare<[string], { id: string; scene_id: string; role: string; token: string; created_at: string }>(
        'SELECT * FROM invites WHERE scene_id = ? ORDER BY created_at',
      ),
      findInvite: db.prepare<[string], { id: string; scene_id: string; role: string; token: string; created_at: string }>(
        'SELECT * FROM invites WHERE token = ?',
      ),
      revokeInvite: db.prepare('DELETE FROM invites WHERE scene_id = ? AND id = ?'),
      deleteInvites: db.prepare('DELETE FROM invites WHERE scene_id = ?'),
      createToken: db.prepare('INSERT INTO api_tokens (id, user_id, name, hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, NULL)'),
      findToken: db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE hash = ?'),
      tokens: db.prepare<[string], TokenRow>('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at'),
      revokeToken: db.prepare('DELETE FROM api_tokens WHERE user_id = ? AND id = ?'),
      touchToken: db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?'),
      revokeSession: db.prepare(
        'INSERT INTO revoked_sessions (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at',
      ),
      pruneSessions: db.prepare('DELETE FROM revoked_sessions WHERE expires_at < ?'),
      sessionRevoked: db.prepare<[string, string], { one: number }>(
        'SELECT 1 AS one FROM revoked_sessions WHERE id = ? AND expires_at >= ?',
      ),
      deleteScene: db.prepare('DELETE FROM scenes WHERE id = ?'),
      deleteEvents: db.prepare('DELETE FROM events WHERE scene_id = ?'),
      deleteHistory: db.prepare('DELETE FROM history WHERE scene_id = ?'),
      pushHistory: db.prepare('INSERT INTO history (scene_id, actor_id, entry) VALUES (?, ?, ?)'),
      dropRedo: db.prepare('DELETE FROM history WHERE scene_id = ? AND actor_id = ? AND undone = 1'),
      trimHistory: db.prepare(
        'DELETE FROM history WHERE scene_id = ? AND actor_id = ? AND id NOT IN (SELECT id FROM history WHERE scene_id = ? AND actor_id = ? ORDER BY id DESC LIMIT ?)',
      ),
      takeUndo: db.prepare<[string, string], { id: number; entry: string }>(
        'SELECT id, entry FROM history WHERE scene_id = ? AND actor_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1',
      ),
      takeRedo: db.prepare<[string, string], { id: number; entry: string }>(
        'SELECT id, entry FROM history WHERE scene_id = ? AND actor_id = ? AND undone = 1 ORDER BY id ASC LIMIT 1',
      ),
      mark: db.prepare('UPDATE history SET undone = ? WHERE id = ?'),
      historyState: db.prepare<[string, string], { undo: number; redo: number }>(
        'SELECT COALESCE(SUM(undone = 0), 0) AS undo, COALESCE(SUM(undone = 1), 0) AS redo FROM history WHERE scene_id = ? AND actor_id = ?',
      ),
      frame: db.prepare<[string], { frame_id: string }>('SELECT frame_id FROM render_index WHERE key = ?'),
      setFrame: db.prepare('INSERT OR REPLACE INTO render_index (key, frame_id) VALUES (?, ?)'),
      forgetFrame: db.prepare('DELETE FROM render_index WHERE key = ?'),
      markRendering: db.prepare(
        'INSERT INTO rendering (scene_id, since) SELECT id, ? FROM scenes WHERE id = ? ON CONFLICT (scene_id) DO NOTHING',
      ),
      unmarkRendering: db.prepare('DELETE FROM rendering WHERE scene_id = ?'),
      renderingScenes: db.prepare<[number], { scene_id: string }>('SELECT scene_id FROM rendering ORDER BY since, scene_id LIMIT ?'),
    };
    // Every public method maps storage failures (full disk, read-only or broken file) to SERVICE_UNAVAILABLE,
    // so clients get a typed error that says nothing was changed instead of a masked internal error.
    return new Proxy(this, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
        return (...args: unknown[]) => {
          try {
            const result = (value as (...a: unknown[]) => unknown).apply(target, args);
            return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(mapSqliteError(error))) : result;
          } catch (error) {
            throw mapSqliteError(error);
          }
        };
      },
    });
  }

  async getScene(id: string): Promise<SceneData | null> {
    const row = this.stmt.get.get(id);
    return row ? (JSON.parse(row.data) as SceneData) : null;
  }

  async listScenes(filter: SceneFilter, first: number, after: string | null): Promise<ScenePage> {
    const [createdAt, id] = after ? decodeCursor(after) : ['\uffff', '\uffff'];
    const viewer = filter.viewerId ?? '';
    const rows = this.stmt.page.all(viewer, viewer, createdAt, createdAt, id, first + 1);
    const scenes = rows.slice(0, first).map((r) => JSON.parse(r.data) as SceneData);
    const last = rows[first - 1];
    return {
      scenes,
      total: this.stmt.count.get(viewer, viewer)!.n,
      nextCursor: rows.length > first && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  async createScene(scene: SceneData, events: SceneEventData[]): Promise<StoredEvent[]> {
    return this.db.transaction(() => {
      this.stmt.insert.run(scene.id, scene.ownerId, scene.visibility, scene.revision, scene.createdAt, JSON.stringify(scene));
      return this.append(scene.id, scene.revision, events, scene.createdAt);
    })();
  }

  async commit({ scene, expectedRevision, events, history }: SceneCommit): Promise<StoredEvent[] | null> {
    return this.db.transaction(() => {
      const result = this.stmt.update.run(scene.revision, scene.visibility, JSON.stringify(scene), scene.id, expectedRevision);
      if (result.changes !== 1) return null;
      if (history) this.pushHistory(scene.id, history);
      return this.append(scene.id, scene.revision, events, scene.updatedAt);
    })();
  }

  /** Made once: render progress appends events many times a second. */
  private appendTx?: (sceneId: string, revision: number, events: SceneEventData[], at: string) => StoredEvent[];

  async appendEvents(sceneId: string, revision: number, events: SceneEventData[]): Promise<StoredEvent[]> {
    this.appendTx ??= this.db.transaction((id: string, rev: number, evs: SceneEventData[], at: string) =>
      this.seqOf(id) === 0 ? [] : this.append(id, rev, evs, at),
    );
    return this.appendTx(sceneId, revision, events, new Date().toISOString());
  }

  private append(sceneId: string, revision: number, events: SceneEventData[], at: string): StoredEvent[] {
    let seq = this.seqOf(sceneId);
    const stored = events.map((event) => {
      seq++;
      this.stmt.event.run(sceneId, seq, revision, at, JSON.stringify(event));
      return { ...event, seq, sceneId, revision, at } as StoredEvent;
    });
    this.stmt.setSeq.run(seq, sceneId);
    this.seqs.set(sceneId, seq);
    return stored;
  }

  async readEvents(sceneId: string, after: number, limit: number): Promise<StoredEvent[]> {
    return this.stmt.events
      .all(sceneId, after, limit)
      .map(
        (row) =>
          ({ ...(JSON.parse(row.payload) as SceneEventData), seq: row.seq, sceneId, revision: row.revision, at: row.at }) as StoredEvent,
      );
  }

  async lastSeq(sceneId: string): Promise<number> {
    return this.seqOf(sceneId);
  }

  private seqOf(sceneId: string): number {
    const known = this.seqs.get(sceneId);
    if (known !== undefined) return known;
    const seq = this.stmt.seq.get(sceneId)?.last_seq ?? 0;
    if (seq > 0) this.seqs.set(sceneId, seq);
    return seq;
  }

  async deleteScene(id: string, events: SceneEventData[]): Promise<StoredEvent[]> {
    return this.db.transaction(() => {
      const row = this.stmt.get.get(id);
      const scene = row ? (JSON.parse(row.data) as SceneData) : null;
      const stored = scene ? this.append(id, scene.revision, events, new Date().toISOString()) : [];
      this.stmt.deleteScene.run(id);
      this.seqs.delete(id);
      this.stmt.deleteEvents.run(id);
      this.stmt.deleteHistory.run(id);
      this.stmt.deleteMembers.run(id);
      this.stmt.deleteInvites.run(id);
      this.stmt.unmarkRendering.run(id);
      return stored;
    })();
  }

  pushHistory(sceneId: string, entry: HistoryEntry): void {
    this.db.transaction(() => {
      this.stmt.dropRedo.run(sceneId, entry.actorId);
      this.stmt.pushHistory.run(sceneId, entry.actorId, JSON.stringify({ ...entry, id: undefined }));
      this.stmt.trimHistory.run(sceneId, entry.actorId, sceneId, entry.actorId, HISTORY_PER_ACTOR);
    })();
  }

  async takeHistory(sceneId: string, actorId: string, direction: 'undo' | 'redo'): Promise<HistoryEntry | null> {
    return this.db.transaction(() => {
      const row = direction === 'undo' ? this.stmt.takeUndo.get(sceneId, actorId) : this.stmt.takeRedo.get(sceneId, actorId);
      if (!row) return null;
      this.stmt.mark.run(direction === 'undo' ? 1 : 0, row.id);
      return { ...(JSON.parse(row.entry) as HistoryEntry), id: row.id };
    })();
  }

  async historyState(sceneId: string, actorId: string): Promise<{ undo: boolean; redo: boolean }> {
    const row = this.stmt.historyState.get(sceneId, actorId)!;
    return { undo: row.undo > 0, redo: row.redo > 0 };
  }

  async restoreHistory(_sceneId: string, entry: HistoryEntry, direction: 'undo' | 'redo'): Promise<void> {
    if (entry.id !== undefined) this.stmt.mark.run(direction === 'undo' ? 0 : 1, entry.id);
  }

  async framesForKeys(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((key) => this.stmt.frame.get(key)?.frame_id ?? null);
  }

  async setRendering(sceneId: string, rendering: boolean): Promise<void> {
    if (rendering) this.stmt.markRendering.run(new Date().toISOString(), sceneId);
    else this.stmt.unmarkRendering.run(sceneId);
  }

  async renderingScenes(limit: number): Promise<string[]> {
    return this.stmt.renderingScenes.all(limit).map((r) => r.scene_id);
  }

  async forgetFrames(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.stmt.forgetFrame.run(key);
  }

  async setFrameForKey(key: string, frameId: string): Promise<void> {
    this.stmt.setFrame.run(key, frameId);
  }

  async saveUser(user: UserData): Promise<void> {
    this.stmt.saveUser.run(user.id, user.displayName, user.color);
  }

  async getUser(id: string): Promise<UserData | null> {
    const row = this.stmt.getUser.get(id);
    return row ? { id: row.id, displayName: row.display_name, color: row.color } : null;
  }

  async memberRole(sceneId: string, userId: string): Promise<Role | null> {
    return (this.stmt.memberRole.get(sceneId, userId)?.role as Role | undefined) ?? null;
  }

  async members(sceneId: string): Promise<MemberRecord[]> {
    return this.stmt.members.all(sceneId).map((r) => ({ userId: r.user_id, role: r.role as Role }));
  }

  async setMember(sceneId: string, userId: string, role: Role): Promise<void> {
    this.stmt.setMember.run(sceneId, userId, role);
  }

  async removeMember(sceneId: string, userId: string): Promise<boolean> {
    return this.stmt.removeMember.run(sceneId, userId).changes > 0;
  }

  async createInvite(invite: InviteRecord): Promise<void> {
    this.stmt.createInvite.run(invite.id, invite.sceneId, invite.role, invite.token, invite.createdAt);
  }

  async invites(sceneId: string): Promise<InviteRecord[]> {
    return this.stmt.invites.all(sceneId).map(toInvite);
  }

  async findInvite(token: string): Promise<InviteRecord | null> {
    const row = this.stmt.findInvite.get(token);
    return row ? toInvite(row) : null;
  }

  async revokeInvite(sceneId: string, id: string): Promise<boolean> {
    return this.stmt.revokeInvite.run(sceneId, id).changes > 0;
  }

  async createApiToken(t: ApiTokenRecord): Promise<void> {
    this.stmt.createToken.run(t.id, t.userId, t.name, t.hash, t.createdAt);
  }

  async findApiToken(hash: string): Promise<ApiTokenRecord | null> {
    const row = this.stmt.findToken.get(hash);
    return row ? toToken(row) : null;
  }

  async apiTokens(userId: string): Promise<ApiTokenRecord[]> {
    return this.stmt.tokens.all(userId).map(toToken);
  }

  async revokeApiToken(userId: string, id: string): Promise<boolean> {
    return this.stmt.revokeToken.run(userId, id).changes > 0;
  }

  async touchApiToken(id: string, at: string): Promise<void> {
    this.stmt.touchToken.run(at, id);
  }

  async revokeSession(id: string, expiresAt: string): Promise<void> {
    this.stmt.pruneSessions.run(new Date().toISOString());
    this.stmt.revokeSession.run(id, expiresAt);
  }

  async sessionRevoked(id: string): Promise<boolean> {
    return this.stmt.sessionRevoked.get(id, new Date().toISOString()) !== undefined;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
