import type pg from 'pg';
import { mapError } from './pool.js';

/**
 * Numbered schema migrations, applied in order at start, each in its own transaction. Never edit one
 * that has shipped: add the next number. Text columns that are compared with JavaScript strings
 * (ids, ISO timestamps, cursors) use the "C" collation, so the database orders them exactly as the
 * other stores do, whatever locale the cluster was created with. JSON is kept as text, not jsonb: no
 * query looks inside it, the stored serialisation is returned as written, and jsonb would refuse a
 * title containing U+0000.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'scenes, events, history, access, render index',
    sql: `
CREATE TABLE scenes (
  id text COLLATE "C" PRIMARY KEY,
  owner_id text,
  visibility text NOT NULL,
  revision integer NOT NULL,
  created_at text COLLATE "C" NOT NULL,
  last_seq bigint NOT NULL DEFAULT 0,
  data text NOT NULL
);
CREATE INDEX scenes_by_created ON scenes (created_at DESC, id DESC);
CREATE INDEX scenes_by_owner ON scenes (owner_id);
CREATE TABLE events (
  scene_id text NOT NULL,
  seq bigint NOT NULL,
  revision integer NOT NULL,
  at text NOT NULL,
  payload text NOT NULL,
  PRIMARY KEY (scene_id, seq)
);
CREATE TABLE history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scene_id text NOT NULL,
  actor_id text NOT NULL,
  undone boolean NOT NULL DEFAULT false,
  entry text NOT NULL
);
CREATE INDEX history_by_actor ON history (scene_id, actor_id, id);
CREATE TABLE users (
  id text PRIMARY KEY,
  display_name text NOT NULL,
  color text NOT NULL
);
CREATE TABLE members (
  scene_id text NOT NULL,
  user_id text NOT NULL,
  role text NOT NULL,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (scene_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);
CREATE TABLE invites (
  id text PRIMARY KEY,
  scene_id text NOT NULL,
  role text NOT NULL,
  token text NOT NULL UNIQUE,
  created_at text COLLATE "C" NOT NULL
);
CREATE INDEX invites_by_scene ON invites (scene_id, created_at);
CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  name text NOT NULL,
  hash text NOT NULL UNIQUE,
  created_at text COLLATE "C" NOT NULL,
  last_used_at text
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at);
CREATE TABLE render_index (
  key text PRIMARY KEY,
  frame_id text NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'blobs',
    sql: `
CREATE TABLE blobs (
  hash text PRIMARY KEY,
  bytes bytea NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'rendering',
    sql: `
CREATE TABLE rendering (
  scene_id text COLLATE "C" PRIMARY KEY REFERENCES scenes (id) ON DELETE CASCADE,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rendering_by_since ON rendering (since);
`,
  },
  {
    version: 4,
    name: 'revoked sessions',
    sql: `
CREATE TABLE revoked_sessions (
  id text PRIMARY KEY,
  expires_at text COLLATE "C" NOT NULL
);
CREATE INDEX revoked_sessions_by_expiry ON revoked_sessions (expires_at);
`,
  },
];

/** Key of the advisory lock that serialises migrations between processes (any bigint unused elsewhere). */
const MIGRATION_LOCK = 0x5374726174610001n; // "Strata" + 1

/**
 * Apply the migrations this database lacks. Safe when several processes start at once: each
 * migration's transaction first takes a transaction-scoped advisory lock, so they queue, and a
 * process that gets the lock after another applied the migration sees it recorded and skips it.
 */
export async function migrate(pool: pg.Pool): Promise<number[]> {
  const applied: number[] = [];
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw mapError(error);
  }
  let broken: Error | undefined;
  try {
    for (const migration of MIGRATIONS) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
        );
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
        if (done.rowCount === 0) {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          applied.push(migration.version);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
        throw error;
      }
    }
    return applied;
  } catch (error) {
    throw mapError(error);
  } finally {
    client.release(broken);
  }
}
