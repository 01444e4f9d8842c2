import type pg from 'pg';
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
import { migrate } from './migrations.js';
import { createPool, mapError, query, transaction, type PoolOptions } from './pool.js';

/** Keep the undo history of one actor in one scene bounded (as the SQLite store). */
const HISTORY_PER_ACTOR = 200;

/** Scenes a viewer may list: owned, shared with them, or public ($1: the viewer id, null for anonymous). */
const VISIBLE = "(owner_id = $1 OR visibility = 'PUBLIC' OR id IN (SELECT scene_id FROM members WHERE user_id = $1))";

/**
 * Insert events with consecutive seqs after $2 (the last seq before them), in the order given.
 * $1 scene, $2 base seq, $3 revision, $4 at, $5 payloads (JSON text).
 */
const INSERT_EVENTS = `INSERT INTO events (scene_id, seq, revision, at, payload)
  SELECT $1, $2::bigint + e.n, $3, $4, e.payload FROM unnest($5::text[]) WITH ORDINALITY AS e(payload, n)`;

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  hash: string;
  created_at: string;
  last_used_at: string | null;
}
interface InviteRow {
  id: string;
  scene_id: string;
  role: string;
  token: string;
  created_at: string;
}

const toToken = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  hash: r.hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});
const toInvite = (r: InviteRow): InviteRecord => ({
  id: r.id,
  sceneId: r.scene_id,
  role: r.role as Role,
  token: r.token,
  createdAt: r.created_at,
});

/** Events as stored: `last` is the seq of the final one (they are numbered last-n+1 .. last). */
const stamp = (sceneId: string, revision: number, events: SceneEventData[], last: number, at: string): StoredEvent[] =>
  events.map((event, i) => ({ ...event, seq: last - events.length + 1 + i, sceneId, revision, at }) as StoredEvent);

/**
 * The cluster store: PostgreSQL, shared by every API replica. Each guarantee comes from the database,
 * never from this process (which may be one of several):
 * - a commit is one transaction whose revision check is the condition of its `UPDATE scenes`; a lost
 *   race updates no row and writes nothing;
 * - sequence numbers are allocated by `UPDATE scenes SET last_seq = last_seq + n ... RETURNING last_seq`
 *   inside the transaction that inserts the events: the row lock queues concurrent writers of a scene,
 *   so seqs have no gap and no duplicate, and a later seq never becomes visible before an earlier one;
 * - the undo entry is written in the commit's transaction.
 * Errors meaning the database is unreachable are thrown as DatabaseUnavailableError.
 */
export class PostgresSceneStore implements SceneStore, AccessStore {
  private constructor(
    /** The connection pool; a PostgresBlobStore may share it. */
    readonly pool: pg.Pool,
  ) {}

  /** Connect and bring the schema up to date (safe when several processes start at once). */
  static async open(url: string, options: PoolOptions = {}): Promise<PostgresSceneStore> {
    const pool = createPool(url, options);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw mapError(error);
    }
    return new PostgresSceneStore(pool);
  }

  async getScene(id: string): Promise<SceneData | null> {
    const { rows } = await query<{ data: string }>(this.pool, 'scene', 'SELECT data FROM scenes WHERE id = $1', [id]);
    return rows[0] ? (JSON.parse(rows[0].data) as SceneData) : null;
  }

  async listScenes(filter: SceneFilter, first: number, after: string | null): Promise<ScenePage> {
    const [createdAt, id] = after ? decodeCursor(after) : [null, null];
    const [page, count] = await Promise.all([
      query<{ data: string; created_at: string; id: string }>(
        this.pool,
        'scene-page',
        `SELECT data, created_at, id FROM scenes WHERE ${VISIBLE}
           AND ($2::text IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3))
         ORDER BY created_at DESC, id DESC LIMIT $4`,
        [filter.viewerId, createdAt, id, first + 1],
      ),
      query<{ n: number }>(this.pool, 'scene-count', `SELECT count(*)::integer AS n FROM scenes WHERE ${VISIBLE}`, [filter.viewerId]),
    ]);
    const rows = page.rows;
    const last = rows[first - 1];
    return {
      scenes: rows.slice(0, first).map((r) => JSON.parse(r.data) as SceneData),
      total: count.rows[0]!.n,
      nextCursor: rows.length > first && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  async createScene(scene: SceneData, events: SceneEventData[]): Promise<StoredEvent[]> {
    return transaction(this.pool, async (client) => {
      await query(
        client,
        'scene-insert',
        'INSERT INTO scenes (id, owner_id, visibility, revision, created_at, last_seq, data) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [scene.id, scene.ownerId, scene.visibility, scene.revision, scene.createdAt, events.length, JSON.stringify(scene)],
      );
      await this.insertEvents(client, scene.id, scene.revision, events, 0, scene.createdAt);
      return stamp(scene.id, scene.revision, events, events.length, scene.createdAt);
    });
  }

  async commit({ scene, expectedRevision, events, history }: SceneCommit): Promise<StoredEvent[] | null> {
    // One statement after the row lock (two round trips plus BEGIN/COMMIT, not seven): the revision check
    // and the seq allocation on the scene's row, the events, and the undo entry (the actor's redo entries
    // dropped, the history trimmed) all happen only when the UPDATE matched. Data-modifying CTEs see the
    // snapshot from before the statement, so the trim keeps HISTORY_PER_ACTOR - 1 older entries plus the new one.
    const { rows } = await transaction(this.pool, async (client) => {
      // Lock the row first, so the statement's snapshot is taken after any concurrent commit or undo
      // (takeHistory also locks it): its history CTEs then see the entries as they are now.
      await query(client, 'scene-lock', 'SELECT 1 FROM scenes WHERE id = $1 FOR UPDATE', [scene.id]);
      return query<{ last_seq: string }>(
        client,
        'scene-commit',
        `WITH s AS (
         UPDATE scenes SET revision = $3, visibility = $4, data = $5, last_seq = last_seq + $6
         WHERE id = $1 AND revision = $2 RETURNING last_seq
       ), ev AS (
         INSERT INTO events (scene_id, seq, revision, at, payload)
         SELECT $1, s.last_seq - $6 + e.n, $3, $7, e.payload FROM s, unnest($8::text[]) WITH ORDINALITY AS e(payload, n)
       ), redo AS (
         DELETE FROM history WHERE $9::text IS NOT NULL AND EXISTS (SELECT 1 FROM s)
           AND scene_id = $1 AND actor_id = $9 AND undone
       ), trimmed AS (
         DELETE FROM history WHERE $9::text IS NOT NULL AND EXISTS (SELECT 1 FROM s)
           AND scene_id = $1 AND actor_id = $9 AND NOT undone AND id <= (
             SELECT id FROM history WHERE scene_id = $1 AND actor_id = $9 AND NOT undone ORDER BY id DESC OFFSET $11 LIMIT 1)
       ), pushed AS (
         INSERT INTO history (scene_id, actor_id, entry) SELECT $1, $9, $10 FROM s WHERE $9::text IS NOT NULL
       )
       SELECT last_seq FROM s`,
        [
          scene.id,
          expectedRevision,
          scene.revision,
          scene.visibility,
          JSON.stringify(scene),
          events.length,
          scene.updatedAt,
          events.map((e) => JSON.stringify(e)),
          history ? history.actorId : null,
          history ? JSON.stringify({ ...history, id: undefined }) : null,
          HISTORY_PER_ACTOR - 1,
        ],
      );
    });
    if (!rows[0]) return null;
    return stamp(scene.id, scene.revision, events, Number(rows[0].last_seq), scene.updatedAt);
  }

  async appendEvents(sceneId: string, revision: number, events: SceneEventData[]): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const at = new Date().toISOString();
    // One statement (so one transaction, one round trip): render progress appends many times a second.
    // An unknown or deleted scene has no row to update, so nothing is inserted.
    const { rows } = await query<{ last_seq: string }>(
      this.pool,
      'events-append',
      `WITH s AS (UPDATE scenes SET last_seq = last_seq + $5 WHERE id = $1 RETURNING last_seq),
            inserted AS (
              INSERT INTO events (scene_id, seq, revision, at, payload)
              SELECT $1, s.last_seq - $5 + e.n, $2, $3, e.payload FROM s, unnest($4::text[]) WITH ORDINALITY AS e(payload, n)
            )
       SELECT last_seq FROM s`,
      [sceneId, revision, at, events.map((e) => JSON.stringify(e)), events.length],
    );
    return rows[0] ? stamp(sceneId, revision, events, Number(rows[0].last_seq), at) : [];
  }

  private async insertEvents(
    client: pg.PoolClient,
    sceneId: string,
    revision: number,
    events: SceneEventData[],
    base: number,
    at: string,
  ): Promise<void> {
    if (events.length === 0) return;
    await query(client, 'events-insert', INSERT_EVENTS, [sceneId, base, revision, at, events.map((e) => JSON.stringify(e))]);
  }

  async readEvents(sceneId: string, after: number, limit: number): Promise<StoredEvent[]> {
    const { rows } = await query<{ payload: string; seq: string; revision: number; at: string }>(
      this.pool,
      'events-read',
      'SELECT payload, seq, revision, at FROM events WHERE scene_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      [sceneId, after, limit],
    );
    return rows.map(
      (row) =>
        ({
          ...(JSON.parse(row.payload) as SceneEventData),
          seq: Number(row.seq),
          sceneId,
          revision: row.revision,
          at: row.at,
        }) as StoredEvent,
    );
  }

  async lastSeq(sceneId: string): Promise<number> {
    const { rows } = await query<{ last_seq: string }>(this.pool, 'scene-seq', 'SELECT last_seq FROM scenes WHERE id = $1', [sceneId]);
    return rows[0] ? Number(rows[0].last_seq) : 0;
  }

  async deleteScene(id: string, events: SceneEventData[]): Promise<StoredEvent[]> {
    const at = new Date().toISOString();
    return transaction(this.pool, async (client) => {
      // Numbered like any append (the row lock queues it behind commits in flight); the log goes with the scene.
      const { rows } = await query<{ last_seq: string; revision: number }>(
        client,
        'scene-delete',
        'DELETE FROM scenes WHERE id = $1 RETURNING last_seq, revision',
        [id],
      );
      await query(client, 'scene-delete-events', 'DELETE FROM events WHERE scene_id = $1', [id]);
      await query(client, 'scene-delete-history', 'DELETE FROM history WHERE scene_id = $1', [id]);
      await query(client, 'scene-delete-members', 'DELETE FROM members WHERE scene_id = $1', [id]);
      await query(client, 'scene-delete-invites', 'DELETE FROM invites WHERE scene_id = $1', [id]);
      const row = rows[0];
      return row ? stamp(id, row.revision, events, Number(row.last_seq) + events.length, at) : [];
    });
  }

  /** Drop the actor's redo entries, push this one, keep the newest HISTORY_PER_ACTOR (inside the caller's transaction). */
  async takeHistory(sceneId: string, actorId: string, direction: 'undo' | 'redo'): Promise<HistoryEntry | null> {
    return transaction(this.pool, async (client) => {
      // Lock the scene's row: takes queue behind each other and behind commits (which push and trim entries),
      // so two processes never take the same entry.
      await query(client, 'history-lock', 'SELECT 1 FROM scenes WHERE id = $1 FOR UPDATE', [sceneId]);
      const { rows } = await query<{ id: string; entry: string }>(
        client,
        `history-take-${direction}`,
        `SELECT id, entry FROM history WHERE scene_id = $1 AND actor_id = $2 AND undone = $3
         ORDER BY id ${direction === 'undo' ? 'DESC' : 'ASC'} LIMIT 1`,
        [sceneId, actorId, direction === 'redo'],
      );
      const row = rows[0];
      if (!row) return null;
      await query(client, 'history-mark', 'UPDATE history SET undone = $2 WHERE id = $1', [row.id, direction === 'undo']);
      return { ...(JSON.parse(row.entry) as HistoryEntry), id: Number(row.id) };
    });
  }

  async historyState(sceneId: string, actorId: string): Promise<{ undo: boolean; redo: boolean }> {
    const { rows } = await query<{ undo: boolean; redo: boolean }>(
      this.pool,
      'history-state',
      `SELECT coalesce(bool_or(NOT undone), false) AS undo, coalesce(bool_or(undone), false) AS redo
       FROM history WHERE scene_id = $1 AND actor_id = $2`,
      [sceneId, actorId],
    );
    return { undo: rows[0]!.undo, redo: rows[0]!.redo };
  }

  async restoreHistory(sceneId: string, entry: HistoryEntry, direction: 'undo' | 'redo'): Promise<void> {
    if (entry.id === undefined) return;
    await query(this.pool, 'history-restore', 'UPDATE history SET undone = $3 WHERE id = $1 AND scene_id = $2', [
      entry.id,
      sceneId,
      direction !== 'undo',
    ]);
  }

  async framesForKeys(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    const { rows } = await query<{ key: string; frame_id: string }>(
      this.pool,
      'frames-for-keys',
      'SELECT key, frame_id FROM render_index WHERE key = ANY($1::text[])',
      [keys],
    );
    const found = new Map(rows.map((r) => [r.key, r.frame_id]));
    return keys.map((key) => found.get(key) ?? null);
  }

  async setFrameForKey(key: string, frameId: string): Promise<void> {
    await query(
      this.pool,
      'frame-set',
      'INSERT INTO render_index (key, frame_id) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET frame_id = excluded.frame_id',
      [key, frameId],
    );
  }

  async setRendering(sceneId: string, rendering: boolean): Promise<void> {
    if (rendering)
      await query(
        this.pool,
        'rendering-mark',
        'INSERT INTO rendering (scene_id) SELECT id FROM scenes WHERE id = $1 ON CONFLICT (scene_id) DO NOTHING',
        [sceneId],
      );
    else await query(this.pool, 'rendering-unmark', 'DELETE FROM rendering WHERE scene_id = $1', [sceneId]);
  }

  async renderingScenes(limit: number): Promise<string[]> {
    const { rows } = await query<{ scene_id: string }>(
      this.pool,
      'rendering-list',
      'SELECT scene_id FROM rendering ORDER BY since, scene_id LIMIT $1',
      [limit],
    );
    return rows.map((r) => r.scene_id);
  }

  async forgetFrames(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await query(this.pool, 'frames-forget', 'DELETE FROM render_index WHERE key = ANY($1::text[])', [keys]);
  }

  async saveUser(user: UserData): Promise<void> {
    await query(
      this.pool,
      'user-save',
      `INSERT INTO users (id, display_name, color) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, color = excluded.color`,
      [user.id, user.displayName, user.color],
    );
  }

  async getUser(id: string): Promise<UserData | null> {
    const { rows } = await query<{ id: string; display_name: string; color: string }>(
      this.pool,
      'user-get',
      'SELECT id, display_name, color FROM users WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row ? { id: row.id, displayName: row.display_name, color: row.color } : null;
  }

  async memberRole(sceneId: string, userId: string): Promise<Role | null> {
    const { rows } = await query<{ role: string }>(
      this.pool,
      'member-role',
      'SELECT role FROM members WHERE scene_id = $1 AND user_id = $2',
      [sceneId, userId],
    );
    return (rows[0]?.role as Role | undefined) ?? null;
  }

  async members(sceneId: string): Promise<MemberRecord[]> {
    const { rows } = await query<{ user_id: string; role: string }>(
      this.pool,
      'members',
      'SELECT user_id, role FROM members WHERE scene_id = $1 ORDER BY pos',
      [sceneId],
    );
    return rows.map((r) => ({ userId: r.user_id, role: r.role as Role }));
  }

  async setMember(sceneId: string, userId: string, role: Role): Promise<void> {
    await query(
      this.pool,
      'member-set',
      'INSERT INTO members (scene_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (scene_id, user_id) DO UPDATE SET role = excluded.role',
      [sceneId, userId, role],
    );
  }

  async removeMember(sceneId: string, userId: string): Promise<boolean> {
    const result = await query(this.pool, 'member-remove', 'DELETE FROM members WHERE scene_id = $1 AND user_id = $2', [sceneId, userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async createInvite(invite: InviteRecord): Promise<void> {
    await query(this.pool, 'invite-create', 'INSERT INTO invites (id, scene_id, role, token, created_at) VALUES ($1, $2, $3, $4, $5)', [
      invite.id,
      invite.sceneId,
      invite.role,
      invite.token,
      invite.createdAt,
    ]);
  }

  async invites(sceneId: string): Promise<InviteRecord[]> {
    const { rows } = await query<InviteRow>(
      this.pool,
      'invites',
      'SELECT id, scene_id, role, token, created_at FROM invites WHERE scene_id = $1 ORDER BY created_at, id',
      [sceneId],
    );
    return rows.map(toInvite);
  }

  async findInvite(token: string): Promise<InviteRecord | null> {
    const { rows } = await query<InviteRow>(
      this.pool,
      'invite-find',
      'SELECT id, scene_id, role, token, created_at FROM invites WHERE token = $1',
      [token],
    );
    return rows[0] ? toInvite(rows[0]) : null;
  }

  async revokeInvite(sceneId: string, id: string): Promise<boolean> {
    const result = await query(this.pool, 'invite-revoke', 'DELETE FROM invites WHERE scene_id = $1 AND id = $2', [sceneId, id]);
    return (result.rowCount ?? 0) > 0;
  }

  async createApiToken(t: ApiTokenRecord): Promise<void> {
    await query(
      this.pool,
      'token-create',
      'INSERT INTO api_tokens (id, user_id, name, hash, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, NULL)',
      [t.id, t.userId, t.name, t.hash, t.createdAt],
    );
  }

  async findApiToken(hash: string): Promise<ApiTokenRecord | null> {
    const { rows } = await query<TokenRow>(
      this.pool,
      'token-find',
      'SELECT id, user_id, name, hash, created_at, last_used_at FROM api_tokens WHERE hash = $1',
      [hash],
    );
    return rows[0] ? toToken(rows[0]) : null;
  }

  async apiTokens(userId: string): Promise<ApiTokenRecord[]> {
    const { rows } = await query<TokenRow>(
      this.pool,
      'tokens',
      'SELECT id, user_id, name, hash, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id',
      [userId],
    );
    return rows.map(toToken);
  }

  async revokeApiToken(userId: string, id: string): Promise<boolean> {
    const result = await query(this.pool, 'token-revoke', 'DELETE FROM api_tokens WHERE user_id = $1 AND id = $2', [userId, id]);
    return (result.rowCount ?? 0) > 0;
  }

  async touchApiToken(id: string, at: string): Promise<void> {
    await query(this.pool, 'token-touch', 'UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [id, at]);
  }

  async revokeSession(id: string, expiresAt: string): Promise<void> {
    await query(this.pool, 'session-prune', 'DELETE FROM revoked_sessions WHERE expires_at < $1', [new Date().toISOString()]);
    await query(
      this.pool,
      'session-revoke',
      'INSERT INTO revoked_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at',
      [id, expiresAt],
    );
  }

  async sessionRevoked(id: string): Promise<boolean> {
    const { rows } = await query(this.pool, 'session-revoked', 'SELECT 1 FROM revoked_sessions WHERE id = $1 AND expires_at >= $2', [
      id,
      new Date().toISOString(),
    ]);
    return rows.length > 0;
  }

  /** End the pool (a PostgresBlobStore sharing it must be closed first). */
  async close(): Promise<void> {
    await this.pool.end();
  }
}
