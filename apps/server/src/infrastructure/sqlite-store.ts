import Database from 'better-sqlite3';
import type { HistoryEntry, SceneCommit, SceneFilter, ScenePage, SceneStore } from '../domain/ports.js';
import type { SceneData, SceneEventData, StoredEvent } from '../domain/types.js';
import { decodeCursor, encodeCursor } from './cursor.js';

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
CREATE TABLE IF NOT EXISTS render_index (
  key TEXT PRIMARY KEY,
  frame_id TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Keep the undo history of one actor in one scene bounded. */
const HISTORY_PER_ACTOR = 200;

/**
 * The embedded default store: one SQLite file (WAL). Every commit is one transaction that checks
 * the revision, writes the scene and appends its events with consecutive sequence numbers.
 */
export class SqliteSceneStore implements SceneStore {
  private readonly db: Database.Database;
  private readonly stmt;

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
      page: db.prepare<[string, string, string, number], { data: string; created_at: string; id: string }>(
        'SELECT data, created_at, id FROM scenes WHERE (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?',
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM scenes'),
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
      frame: db.prepare<[string], { frame_id: string }>('SELECT frame_id FROM render_index WHERE key = ?'),
      setFrame: db.prepare('INSERT OR REPLACE INTO render_index (key, frame_id) VALUES (?, ?)'),
    };
  }

  getScene(id: string): SceneData | null {
    const row = this.stmt.get.get(id);
    return row ? (JSON.parse(row.data) as SceneData) : null;
  }

  listScenes(_filter: SceneFilter, first: number, after: string | null): ScenePage {
    const [createdAt, id] = after ? decodeCursor(after) : ['\uffff', '\uffff'];
    const rows = this.stmt.page.all(createdAt, createdAt, id, first + 1);
    const scenes = rows.slice(0, first).map((r) => JSON.parse(r.data) as SceneData);
    const last = rows[first - 1];
    return {
      scenes,
      total: this.stmt.count.get()!.n,
      nextCursor: rows.length > first && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  createScene(scene: SceneData, events: SceneEventData[]): StoredEvent[] {
    return this.db.transaction(() => {
      this.stmt.insert.run(scene.id, scene.ownerId, scene.visibility, scene.revision, scene.createdAt, JSON.stringify(scene));
      return this.append(scene.id, scene.revision, events, scene.createdAt);
    })();
  }

  commit({ scene, expectedRevision, events }: SceneCommit): StoredEvent[] | null {
    return this.db.transaction(() => {
      const result = this.stmt.update.run(scene.revision, scene.visibility, JSON.stringify(scene), scene.id, expectedRevision);
      if (result.changes !== 1) return null;
      return this.append(scene.id, scene.revision, events, scene.updatedAt);
    })();
  }

  appendEvents(sceneId: string, revision: number, events: SceneEventData[]): StoredEvent[] {
    return this.db.transaction(() => this.append(sceneId, revision, events, new Date().toISOString()))();
  }

  private append(sceneId: string, revision: number, events: SceneEventData[], at: string): StoredEvent[] {
    let seq = this.stmt.seq.get(sceneId)?.last_seq ?? 0;
    const stored = events.map((event) => {
      seq++;
      this.stmt.event.run(sceneId, seq, revision, at, JSON.stringify(event));
      return { ...event, seq, sceneId, revision, at } as StoredEvent;
    });
    this.stmt.setSeq.run(seq, sceneId);
    return stored;
  }

  readEvents(sceneId: string, after: number, limit: number): StoredEvent[] {
    return this.stmt.events
      .all(sceneId, after, limit)
      .map((row) => ({ ...(JSON.parse(row.payload) as SceneEventData), seq: row.seq, sceneId, revision: row.revision, at: row.at }) as StoredEvent);
  }

  lastSeq(sceneId: string): number {
    return this.stmt.seq.get(sceneId)?.last_seq ?? 0;
  }

  deleteScene(id: string, events: SceneEventData[]): StoredEvent[] {
    return this.db.transaction(() => {
      const scene = this.getScene(id);
      const stored = scene ? this.append(id, scene.revision, events, new Date().toISOString()) : [];
      this.stmt.deleteScene.run(id);
      this.stmt.deleteEvents.run(id);
      this.stmt.deleteHistory.run(id);
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

  takeHistory(sceneId: string, actorId: string, direction: 'undo' | 'redo'): HistoryEntry | null {
    return this.db.transaction(() => {
      const row = direction === 'undo' ? this.stmt.takeUndo.get(sceneId, actorId) : this.stmt.takeRedo.get(sceneId, actorId);
      if (!row) return null;
      this.stmt.mark.run(direction === 'undo' ? 1 : 0, row.id);
      return { ...(JSON.parse(row.entry) as HistoryEntry), id: row.id };
    })();
  }

  restoreHistory(_sceneId: string, entry: HistoryEntry, direction: 'undo' | 'redo'): void {
    if (entry.id !== undefined) this.stmt.mark.run(direction === 'undo' ? 0 : 1, entry.id);
  }

  frameForKey(key: string): string | null {
    return this.stmt.frame.get(key)?.frame_id ?? null;
  }

  setFrameForKey(key: string, frameId: string): void {
    this.stmt.setFrame.run(key, frameId);
  }

  close(): void {
    this.db.close();
  }
}
