import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SceneData } from '../../src/domain/scenes/types.js';
import { MemorySceneStore } from '../../src/infrastructure/memory/memory-store.js';
import { DatabaseUnavailableError } from '../../src/infrastructure/postgres/pool.js';
import { MIGRATIONS } from '../../src/infrastructure/postgres/migrations.js';
import { PostgresSceneStore } from '../../src/infrastructure/postgres/postgres-store.js';
import { SqliteSceneStore } from '../../src/infrastructure/sqlite/sqlite-store.js';
import { createDatabase, hasPostgres, startPostgres, type Engine } from '../engines/engines.js';
import { sceneFixture, sceneStoreContract } from './scene-store.contract.js';

sceneStoreContract('memory', () => new MemorySceneStore());
sceneStoreContract('sqlite file', () => new SqliteSceneStore(join(mkdtempSync(join(tmpdir(), 'strata-store-')), 'test.db')));

/** One PostgreSQL for the file; a fresh database (migrated by `open`) for each test. */
let engine: Engine | undefined;
let databases = 0;
const freshDatabase = () => createDatabase(engine!, `store_${++databases}`);

if (hasPostgres()) {
  beforeAll(async () => {
    engine = await startPostgres();
  });
  afterAll(async () => {
    await engine?.dispose();
  });

  sceneStoreContract('postgresql', async () => PostgresSceneStore.open(freshDatabase(), { poolSize: 4 }));

  describe('PostgreSQL store across processes', () => {
    const changed = (scene: SceneData) => ({
      type: 'SceneChanged' as const,
      change: 'RENAMED',
      layerId: null,
      actorId: null,
      scene,
      frames: [null],
    });

    it('[store-12] two processes: migrations once, one winner per base revision, seqs gap-free under concurrent commits and appends', async () => {
      const url = freshDatabase();
      // Two pools are two processes: they start at once (migrations queue on the advisory lock).
      const [a, b] = await Promise.all([PostgresSceneStore.open(url, { poolSize: 4 }), PostgresSceneStore.open(url, { poolSize: 4 })]);
      try {
        const versions = await a.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));

        const base = sceneFixture('s');
        await a.createScene(base, [changed(base)]);
        // Eight commits from each process against revision 1: exactly one applies.
        const attempts = await Promise.all(
          Array.from({ length: 16 }, (_, i) => {
            const next = { ...base, revision: 2, title: `t${i}` };
            return (i % 2 ? b : a).commit({
              scene: next,
              expectedRevision: 1,
              events: [changed(next), changed(next)],
              history: { actorId: `actor${i}`, revision: 2, before: base, after: next, change: 'RENAMED', layerId: null },
            });
          }),
        );
        const winners = attempts.flatMap((r, i) => (r ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(attempts[winners[0]!]!.map((e) => e.seq)).toEqual([2, 3]);
        expect((await b.getScene('s'))!.title).toBe(`t${winners[0]}`);
        const undoable = await Promise.all(Array.from({ length: 16 }, (_, i) => b.historyState('s', `actor${i}`)));
        expect(undoable.flatMap((h, i) => (h.undo ? [i] : []))).toEqual(winners);

        // Edits racing from both processes, each retried on a lost race, until ten apiece are in.
        const edit = async (store: PostgresSceneStore, who: string) => {
          for (let done = 0; done < 10;) {
            const current = (await store.getScene('s'))!;
            const next = { ...current, revision: current.revision + 1, title: `${who}${done}` };
            if (await store.commit({ scene: next, expectedRevision: current.revision, events: [changed(next)] })) done++;
          }
        };
        // Render progress appended from both processes meanwhile: three events a call.
        const progress = (store: PostgresSceneStore) =>
          Promise.all(
            Array.from({ length: 10 }, () =>
              store.appendEvents('s', 2, [
                { type: 'RenderStarted', fromStep: 0, toStep: 0 },
                { type: 'FrameRendered', step: 0, layerId: null, lastStep: 0, frameId: 'f', cached: false },
                { type: 'RenderStarted', fromStep: 0, toStep: 0 },
              ]),
            ),
          );
        const [, , fromA, fromB] = await Promise.all([edit(a, 'a'), edit(b, 'b'), progress(a), progress(b)]);

        const total = 3 + 20 + 60;
        const appended = [...fromA, ...fromB].map((call) => call.map((e) => e.seq));
        for (const seqs of appended) expect(seqs).toEqual([seqs[0]!, seqs[0]! + 1, seqs[0]! + 2]); // one call is consecutive
        const log = await b.readEvents('s', 0, 1000);
        expect(log.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(
          appended
            .flat()
            .concat(log.filter((e) => e.type === 'SceneChanged').map((e) => e.seq))
            .sort((x, y) => x - y),
        ).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(log.filter((e) => e.type === 'SceneChanged').map((e) => e.revision)).toEqual([
          1,
          2,
          2,
          ...Array.from({ length: 20 }, (_, i) => i + 3),
        ]);
        expect((await a.getScene('s'))!.revision).toBe(22);
        expect([await a.lastSeq('s'), await b.lastSeq('s')]).toEqual([total, total]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('[store-13] reports an unreachable database clearly, and works again once it is back, without reopening', async () => {
      const store = await PostgresSceneStore.open(freshDatabase(), { poolSize: 2 });
      try {
        const scene = sceneFixture('s');
        await store.createScene(scene, [changed(scene)]);
        await engine!.stop();
        await expect(store.getScene('s')).rejects.toThrow(DatabaseUnavailableError);
        await expect(store.commit({ scene: { ...scene, revision: 2 }, expectedRevision: 1, events: [changed(scene)] })).rejects.toThrow(
          /the database is unreachable/,
        );
        await expect(store.appendEvents('s', 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }])).rejects.toThrow(
          DatabaseUnavailableError,
        );
        await engine!.start();
        expect((await store.getScene('s'))!.revision).toBe(1);
        expect((await store.appendEvents('s', 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }])).map((e) => e.seq)).toEqual([2]);
      } finally {
        await store.close();
      }
    });
  });
} else {
  describe('SceneStore contract: postgresql', () => {
    // CI installs PostgreSQL 15 (.ci/run); elsewhere the embedded stores are still checked.
    it.skipIf(!process.env.CI)('needs PostgreSQL 15 (/usr/lib/postgresql/15/bin)', () => {});
    it.runIf(!!process.env.CI)('PostgreSQL 15 is required in CI', () => {
      expect(hasPostgres()).toBe(true);
    });
  });
}

describe('SQLite store failures', () => {
  it('[sqlite-1] answers a write the file refuses (read-only, full disk) with SERVICE_UNAVAILABLE, writing nothing', async () => {
    const store = new SqliteSceneStore(join(mkdtempSync(join(tmpdir(), 'strata-store-')), 'test.db'));
    const scene = sceneFixture('ro');
    await store.createScene(scene, [{ type: 'SceneChanged', change: 'CREATED', layerId: null, actorId: null, scene, frames: [null] }]);
    // What a read-only or full file does to every write: SQLITE_READONLY (SQLITE_FULL takes the same path).
    (store as unknown as { db: { pragma(s: string): unknown } }).db.pragma('query_only = ON');
    const next = { ...scene, revision: 2, title: 'x' };
    await expect(store.commit({ scene: next, expectedRevision: 1, events: [] })).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await expect(store.appendEvents('ro', 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }])).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    expect((await store.getScene('ro'))!.title).toBe(scene.title);
    expect(await store.lastSeq('ro')).toBe(1);
    await store.close();
  });
});
