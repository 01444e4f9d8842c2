/**
 * kill -9 rounds: the real server runs as a separate process on one data directory; clients build
 * and edit scenes over HTTP and graphql-ws while the server is killed (SIGKILL) at seeded random
 * moments and started again on the same data, round after round. Then, with no client action:
 * every answered mutation is in the log as it was answered, every event a client received live is in
 * the log unchanged, every log is gap-free, every frame URL in a log answers 200 with its bytes, and
 * every render finishes by itself.
 *
 * STRATA_DURABILITY_ROUNDS (default 8) and STRATA_DURABILITY_SEED (default 1) change the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print, type DocumentNode } from 'graphql';
import {
  AddObjectDocument,
  CreateSceneDocument,
  DuplicateSceneDocument,
  RemoveObjectDocument,
  RerenderDocument,
  SceneDocument,
  SceneEventsDocument,
  ScenesDocument,
  SetLayerVisibilityDocument,
  StartSessionDocument,
  UndoDocument,
  UpdateObjectDocument,
  type SceneEventsSubscription,
  type SceneQuery,
} from '@strata/schema/client';

const ROUNDS = Number(process.env['STRATA_DURABILITY_ROUNDS'] ?? 8);
const SEED = Number(process.env['STRATA_DURABILITY_SEED'] ?? 1);
const CLIENTS = 3;
const MAX_SCENES_PER_CLIENT = 3;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

type Event = SceneEventsSubscription['sceneEvents'];
type Scene = NonNullable<SceneQuery['scene']>;

/** mulberry32: the same kill moments and actions for a seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Running {
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
  output: string[];
}

/** Start `main.ts` on the data directory (port 0: the URL is read from its first line on stderr). */
async function launch(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO, 'apps/server/src/main.ts')], {
    cwd: REPO,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      STRATA_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      STRATA_WORKERS: '1',
      STRATA_LOG: 'error',
      STRATA_RESUME_INTERVAL_MS: '300',
      STRATA_RENDER_LEASE_MS: '1000',
      STRATA_RATE_MUTATIONS: '10000',
      STRATA_EXECUTION_PROVIDER: 'cpu',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((found, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start:\n${output.join('')}`)), 60_000);
    const read = (chunk: Buffer) => {
      output.push(String(chunk));
      const match = /listening on (http:\/\/[^\s/]+)/.exec(output.join(''));
      if (match) {
        clearTimeout(timer);
        found(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(() => fail(new Error(`the server exited:\n${output.join('')}`)));
  });
  return { url, child, exited, output };
}

interface Answer {
  sceneId: string;
  revision: number;
  layers: string[];
  title: string;
}

async function gql<T>(url: string, token: string | null, doc: DocumentNode, variables: Record<string, unknown>) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query: print(doc), variables }) });
  return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
}

const wsClient = (url: string, token: string): Client =>
  createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authorization: `Bearer ${token}` },
    onNonLazyError: () => undefined,
  });

/** A scene's whole log over graphql-ws (after: 0, up to `lastSeq`). */
function readLog(client: Client, sceneId: string, lastSeq: number): Promise<Event[]> {
  return new Promise((done, fail) => {
    const events: Event[] = [];
    if (lastSeq === 0) return done(events);
    const timer = setTimeout(() => fail(new Error(`log of ${sceneId}: ${events.length} of ${lastSeq} events`)), 30_000);
    const stop = client.subscribe<SceneEventsSubscription>(
      { query: print(SceneEventsDocument), variables: { sceneId, after: 0 } },
      {
        next: ({ data, errors }) => {
          if (errors) fail(new Error(JSON.stringify(errors)));
          const event = data?.sceneEvents;
          if (!event || event.__typename === 'PresenceChanged') return;
          events.push(event);
          if (event.seq >= lastSeq) {
            clearTimeout(timer);
            stop();
            done(events);
          }
        },
        error: fail,
        complete: () => undefined,
      },
    );
  });
}

/** An event as compared live against replayed (signed frame URLs may differ in their query). */
const comparable = (event: Event): unknown =>
  JSON.parse(
    JSON.stringify(event, (key, value: unknown) => (/url$/i.test(key) && typeof value === 'string' ? value.split('?')[0] : value)),
  );

const frameOf = (event: Event): { id: string; url: string } | null =>
  event.__typename === 'FrameRendered' || event.__typename === 'RenderCompleted' ? event.frame : null;

describe.skipIf(process.env['STRATA_TEST_TARGET'] === 'cluster')('kill -9 rounds', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-durability-'));
  let running: Running | null = null;
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`loses nothing answered or announced across ${ROUNDS} kills (seed ${SEED})`, { timeout: 180_000 }, async () => {
    const rand = random(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const answers: Answer[] = [];
    /** Events clients received live, by scene: each must be in the log after the kills, unchanged. */
    const received = new Map<string, Map<number, Event>>();
    const tokens: string[] = [];
    const owned: string[][] = Array.from({ length: CLIENTS }, () => []);
    const figures = { rounds: 0, kills: 0, answered: 0, unanswered: 0, received: 0, killedMidRender: 0 };

    for (let round = 0; round < ROUNDS; round++) {
      running = await launch(dataDir);
      const { url } = running;
      if (round === 0) {
        for (let c = 0; c < CLIENTS; c++) {
          const res = await gql<{ startSession: { token: string } }>(url, null, StartSessionDocument, { displayName: `client ${c}` });
          tokens.push(res.data!.startSession.token);
        }
      }
      let killed = false;
      const clients = tokens.map((token) => wsClient(url, token));
      const run = async (c: number) => {
        const token = tokens[c]!;
        const ws = clients[c]!;
        // Watch the client's scenes from what it has seen (a resume with `after`, as a real client does).
        const watch = (sceneId: string) => {
          const seen = received.get(sceneId) ?? new Map<number, Event>();
          received.set(sceneId, seen);
          const after = Math.max(0, ...seen.keys());
          ws.subscribe<SceneEventsSubscription>(
            { query: print(SceneEventsDocument), variables: { sceneId, after } },
            {
              next: ({ data }) => {
                const event = data?.sceneEvents;
                if (!killed && event && event.__typename !== 'PresenceChanged') seen.set(event.seq, event);
              },
              error: () => undefined,
              complete: () => undefined,
            },
          );
        };
        owned[c]!.forEach(watch);
        const scenes = new Map<string, string[]>();
        for (const sceneId of owned[c]!) {
          const res = await gql<SceneQuery>(url, token, SceneDocument, { id: sceneId }).catch(() => null);
          if (res?.data?.scene)
            scenes.set(
              sceneId,
              res.data.scene.layers.map((l) => l.id),
            );
        }
        const box = () => ({ x: rand() * 0.7, y: 0.3 + rand() * 0.4, w: 0.15 + rand() * 0.15, h: 0.2 + rand() * 0.2 });
        while (!killed) {
          const sceneIds = [...scenes.keys()];
          const sceneId = sceneIds.length ? pick(sceneIds) : null;
          const layers = sceneId ? scenes.get(sceneId)! : [];
          const roll = rand();
          let request: Promise<{ data?: Record<string, Scene>; errors?: unknown[] }>;
          if (!sceneId || (roll < 0.12 && owned[c]!.length < MAX_SCENES_PER_CLIENT))
            request = gql(url, token, CreateSceneDocument, { input: { title: `c${c} r${round}`, seed: Math.floor(rand() * 1e6) } });
          else if (roll < 0.5 && layers.length < 6)
            request = gql(url, token, AddObjectDocument, {
              sceneId,
              input: { category: pick(['tree', 'house', 'rock', 'bush']), box: box(), appearanceSeed: Math.floor(rand() * 1e6) },
            });
          else if (roll < 0.7 && layers.length > 0)
            request = gql(url, token, UpdateObjectDocument, { sceneId, layerId: pick(layers), input: { box: box() } });
          else if (roll < 0.78 && layers.length > 2) request = gql(url, token, RemoveObjectDocument, { sceneId, layerId: pick(layers) });
          else if (roll < 0.84 && layers.length > 0)
            request = gql(url, token, SetLayerVisibilityDocument, { sceneId, layerId: pick(layers), visible: rand() < 0.5 });
          else if (roll < 0.9) request = gql(url, token, RerenderDocument, { sceneId });
          else if (roll < 0.94 && owned[c]!.length < MAX_SCENES_PER_CLIENT) request = gql(url, token, DuplicateSceneDocument, { sceneId });
          else request = gql(url, token, UndoDocument, { sceneId });
          const res = await request.catch(() => null);
          if (!res) {
            figures.unanswered++;
            break;
          }
          const scene = res.data ? Object.values(res.data)[0] : undefined;
          if (scene && !killed) {
            figures.answered++;
            answers.push({ sceneId: scene.id, revision: scene.revision, layers: scene.layers.map((l) => l.id), title: scene.title });
            if (!scenes.has(scene.id)) {
              owned[c]!.push(scene.id);
              watch(scene.id);
            }
            scenes.set(
              scene.id,
              scene.layers.map((l) => l.id),
            );
          }
          await new Promise((r) => setTimeout(r, rand() * 60));
        }
      };
      const work = clients.map((_, c) => run(c));
      // Kill at a seeded moment: early (mid-render of the first edits) to late.
      await new Promise((r) => setTimeout(r, 300 + rand() * 2200));
      const status = await gql<{ scenes: { nodes: { renderState: string }[] } }>(url, tokens[0]!, ScenesDocument, { first: 100 }).catch(
        () => null,
      );
      if (status?.data?.scenes.nodes.some((s) => s.renderState === 'RENDERING')) figures.killedMidRender++;
      killed = true;
      running.child.kill('SIGKILL');
      await running.exited;
      figures.kills++;
      figures.rounds++;
      await Promise.allSettled(work);
      await Promise.allSettled(clients.map((client) => client.dispose()));
    }

    // The last start: nobody edits; every render must finish by itself.
    running = await launch(dataDir);
    const { url } = running;
    const started = Date.now();
    const all = new Map<string, { scene: Scene; token: string }>();
    const settle = async () => {
      for (const token of tokens) {
        const res = await gql<{ scenes: { nodes: { id: string }[] } }>(url, token, ScenesDocument, { first: 100 });
        for (const { id } of res.data!.scenes.nodes) {
          const scene = (await gql<SceneQuery>(url, token, SceneDocument, { id })).data!.scene!;
          all.set(id, { scene, token });
        }
      }
      return [...all.values()].every(({ scene }) => scene.renderState === 'DONE');
    };
    const deadline = Date.now() + 60_000;
    while (!(await settle())) {
      if (Date.now() > deadline) {
        const stuck = [...all.values()].filter(({ scene }) => scene.renderState !== 'DONE').map(({ scene }) => scene.id);
        throw new Error(`renders did not finish by themselves: ${stuck.join(', ')}\n${running.output.join('').slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const settledMs = Date.now() - started;

    const reader = tokens.map((token) => wsClient(url, token));
    const logs = new Map<string, Event[]>();
    for (const [sceneId, { scene, token }] of all) {
      const log = await readLog(reader[tokens.indexOf(token)]!, sceneId, scene.lastSeq);
      logs.set(sceneId, log);
      // Gap-free: seq 1..lastSeq, each once.
      expect(
        log.map((e) => e.seq),
        `log of ${sceneId}`,
      ).toEqual(Array.from({ length: scene.lastSeq }, (_, i) => i + 1));
    }
    // Every answered mutation is in its scene's log as it was answered.
    for (const answer of answers) {
      const log = logs.get(answer.sceneId);
      expect(log, `scene ${answer.sceneId} of an answered mutation`).toBeDefined();
      const changed = log!.filter((e) => e.__typename === 'SceneChanged' && e.revision === answer.revision);
      expect(
        changed.some(
          (e) => e.__typename === 'SceneChanged' && JSON.stringify(e.scene.layers.map((l) => l.id)) === JSON.stringify(answer.layers),
        ),
        `revision ${answer.revision} of ${answer.sceneId}`,
      ).toBe(true);
      expect(all.get(answer.sceneId)!.scene.revision).toBeGreaterThanOrEqual(answer.revision);
    }
    // Every event received live is in the log, the same.
    for (const [sceneId, seen] of received) {
      const log = logs.get(sceneId)!;
      for (const [seq, event] of seen) {
        figures.received++;
        expect(comparable(log[seq - 1]!), `event ${seq} of ${sceneId}`).toEqual(comparable(event));
      }
    }
    // Every frame named in a log answers, with the bytes its id names.
    const frames = new Map<string, { url: string; token: string }>();
    for (const [sceneId, log] of logs)
      for (const event of log) {
        const frame = frameOf(event);
        if (frame) frames.set(frame.id, { url: frame.url, token: all.get(sceneId)!.token });
      }
    for (const [id, frame] of frames) {
      const res = await fetch(new URL(frame.url, url), { headers: { authorization: `Bearer ${frame.token}` } });
      expect(res.status, `frame ${frame.url}`).toBe(200);
      expect(
        createHash('sha256')
          .update(Buffer.from(await res.arrayBuffer()))
          .digest('hex'),
      ).toBe(id);
    }
    await Promise.all(reader.map((client) => client.dispose()));
    expect(figures.answered).toBeGreaterThan(ROUNDS);
    console.info(
      `kill -9 rounds (seed ${SEED}): ${figures.rounds} rounds, ${figures.kills} kills (${figures.killedMidRender} with a render under way), ` +
        `${figures.answered} answered mutations (${figures.unanswered} cut by a kill), ${figures.received} live events checked, ` +
        `${all.size} scenes, ${frames.size} frames; renders finished ${settledMs} ms after the last start`,
    );
    running.child.kill('SIGTERM');
    await running.exited;
  });
});
