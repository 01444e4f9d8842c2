import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { startCluster, type Cluster } from '../../../../scripts/cluster.mjs';
import { hasPostgres, hasRedis } from '../engines/engines.js';

/**
 * The cluster as `npm run cluster` starts it (PostgreSQL, Redis, two API replicas, two inference
 * workers, nginx), each a separate process, driven from outside by real HTTP and graphql-ws clients.
 */

interface Event {
  __typename: string;
  seq: number;
  revision: number;
  step?: number;
  lastStep?: number;
  cached?: boolean;
  frame?: { id: string; url: string };
  change?: string;
}

const EVENTS = `subscription($id: ID!, $after: Int) { sceneEvents(sceneId: $id, after: $after) {
  __typename seq revision
  ... on FrameRendered { step lastStep cached frame { id url } }
  ... on RenderCompleted { frame { id url } }
  ... on SceneChanged { change }
} }`;

async function gql<T = any>(
  base: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<{ data?: T; errors?: any[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as never;
}

async function session(base: string, name: string): Promise<string> {
  const r = await gql(base, null, 'mutation($n: String) { startSession(displayName: $n) { token } }', { n: name });
  return r.data.startSession.token as string;
}

const clients: Client[] = [];
function wsClient(base: string, token: string): Client {
  const client = createClient({
    url: `${base.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(client);
  return client;
}

/** Follow a scene's events until `until` holds; keeps every event, and the error if the stream broke. */
function watch(client: Client, id: string, after: number | null, until: (events: Event[]) => boolean, timeoutMs = 90_000) {
  const events: Event[] = [];
  let failure: unknown = null;
  /** Set at the first message of any kind (a stream starts with the current presence): the subscription is open. */
  let open = false;
  let cancel = () => {};
  const done = new Promise<Event[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      cancel();
      reject(new Error(`timed out after ${events.length} events: ${JSON.stringify(events.slice(-5))}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      cancel();
      resolve(events);
    };
    cancel = client.subscribe<{ sceneEvents: Event }>(
      { query: EVENTS, variables: { id, after } },
      {
        next: (value) => {
          if (value.errors) {
            failure = value.errors;
            finish();
            return;
          }
          const event = value.data!.sceneEvents;
          open = true;
          if (event.__typename === 'PresenceChanged') return;
          events.push(event);
          if (until(events)) finish();
        },
        error: (error) => {
          failure = error;
          finish();
        },
        complete: () => finish(),
      },
    );
  });
  return { events, done, failure: () => failure, cancel: () => cancel(), open: () => open };
}

const completedAt = (revision: number) => (events: Event[]) =>
  events.some((e) => e.__typename === 'RenderCompleted' && e.revision >= revision);
const seqs = (events: Event[]) => events.map((e) => e.seq);
const consecutive = (list: number[], from = 1) => list.every((s, i) => s === from + i);
const box = (i: number) => ({ x: 0.02 + (i % 4) * 0.24, y: i < 4 ? 0.35 : 0.6, w: 0.2, h: 0.3 });
const CATEGORIES = ['tree', 'pine', 'house', 'horse', 'rock', 'bush', 'tree', 'pine'];

async function createScene(base: string, token: string, title: string, seed: number): Promise<string> {
  const r = await gql(base, token, 'mutation($t: String!, $s: Int) { createScene(input: { title: $t, seed: $s }) { id } }', {
    t: title,
    s: seed,
  });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createScene.id as string;
}

async function addObject(base: string, token: string, id: string, i: number): Promise<number> {
  const r = await gql(base, token, 'mutation($id: ID!, $input: AddObjectInput!) { addObject(sceneId: $id, input: $input) { revision } }', {
    id,
    input: {
      category: CATEGORIES[i % CATEGORIES.length],
      box: box(i),
      shape: { kind: 'GENERATED', seed: 100 + i },
      appearanceSeed: 500 + i,
    },
  });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.addObject.revision as number;
}

const engines = hasPostgres() && hasRedis();

describe.skipIf(!engines && !process.env['CI'])('strata as a cluster (PostgreSQL, Redis, 2 API replicas, 2 workers, nginx)', () => {
  let cluster: Cluster;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-cluster-'));
    cluster = await startCluster({
      port: 0,
      dir,
      web: false,
      quiet: true,
      redisPersistence: false,
      env: { STRATA_LOG: 'error', STRATA_RENDER_LEASE_MS: '2000', STRATA_RESUME_INTERVAL_MS: '500', STRATA_CLAIM_TIMEOUT_MS: '2000' },
    });
    token = await session(cluster.url, 'Cluster tester');
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await cluster?.stop();
    if (dir && !process.env['KEEP_CLUSTER']) rmSync(dir, { recursive: true, force: true });
    else if (dir) console.log('CLUSTER DIR', dir);
  }, 60_000);

  it('builds a scene for a third-party client through nginx, streaming every frame in order', async () => {
    const id = await createScene(cluster.url, token, 'Through nginx', 11);
    const stream = watch(wsClient(cluster.url, token), id, 0, completedAt(4));
    for (let i = 0; i < 3; i++) await addObject(cluster.url, token, id, i);
    const events = await stream.done;
    expect(stream.failure()).toBeNull();
    expect(consecutive(seqs(events))).toBe(true);
    const final = events.filter((e) => e.revision === 4 && e.__typename === 'FrameRendered').map((e) => e.step);
    expect(final.at(-1)).toBe(3);
    const last = events.find((e) => e.__typename === 'RenderCompleted' && e.revision === 4)!;
    const png = await fetch(`${cluster.url}${last.frame!.url}`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    // Both replicas serve the same scene and its frames (one database, one blob store).
    for (const api of cluster.apis) {
      const r = await gql(api.url, token, 'query($id: ID!) { scene(id: $id) { revision renderState latestFrame { id } } }', { id });
      expect(r.data.scene).toMatchObject({ revision: 4, renderState: 'DONE', latestFrame: { id: last.frame!.id } });
    }
  });

  it('lists both workers in the runtime query, with their execution provider', async () => {
    // Workers join as their heartbeats arrive (a loaded machine starts them late): wait for both.
    let r = await gql(cluster.url, token, '{ runtime { executionProvider workers } }');
    for (let i = 0; i < 100 && r.data.runtime.workers < 2; i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await gql(cluster.url, token, '{ runtime { executionProvider workers } }');
    }
    expect(r.data.runtime.workers).toBe(2);
    expect(r.data.runtime.executionProvider).toContain('cpu');
  });

  it('serves /metrics and /health on every inference worker; after a render they count its runs', async () => {
    const id = await createScene(cluster.url, token, 'Worker metrics', 18);
    const stream = watch(wsClient(cluster.url, token), id, 0, completedAt(2));
    await addObject(cluster.url, token, id, 0);
    await stream.done;
    let runs = 0;
    for (const worker of cluster.workers) {
      const health = await fetch(`${worker.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, role: 'worker', threads: 1, dependencies: { redis: 'up' } });
      const metrics = await fetch(`${worker.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('strata_process_nodejs_eventloop_lag_seconds');
      expect(text).toContain('strata_worker_jobs_taken_over');
      for (const line of text.split('\n')) {
        const m = /^strata_inference_runs_total\{(.*)\} (\d+)$/.exec(line);
        if (!m) continue;
        expect(m[1]).toMatch(/model="(background|foreground|shape)"/);
        runs += Number(m[2]);
      }
    }
    // The render ran on one worker or both: together they counted its session runs.
    expect(runs).toBeGreaterThan(0);
  });

  it('shows a watcher on replica A the edits made through replica B, in order', async () => {
    const [a, b] = cluster.apis;
    const id = await createScene(b!.url, token, 'Across replicas', 12);
    const stream = watch(wsClient(a!.url, token), id, 0, completedAt(5));
    for (let i = 0; i < 4; i++) await addObject(b!.url, token, id, i);
    const events = await stream.done;
    expect(consecutive(seqs(events))).toBe(true);
    const changes = events.filter((e) => e.__typename === 'SceneChanged').map((e) => e.revision);
    expect(changes).toEqual([1, 2, 3, 4, 5]);
  });

  it('loses nothing when a worker is killed mid-batch: its jobs are taken over', async () => {
    const id = await createScene(cluster.url, token, 'Worker killed', 13);
    const stream = watch(wsClient(cluster.url, token), id, 0, completedAt(9));
    for (let i = 0; i < 8; i++) await addObject(cluster.url, token, id, i);
    await cluster.stopProcess('worker-1', { kill: true });
    const events = await stream.done;
    expect(consecutive(seqs(events))).toBe(true);
    const frames = events.filter((e) => e.__typename === 'FrameRendered' && e.revision === 9);
    // No client sees the same step of a revision twice.
    expect(new Set(frames.map((e) => e.step)).size).toBe(frames.length);
    await cluster.startProcess('worker-1');
  });

  it("lets a killed API replica's clients resume on the other with `after`, losing nothing; its render is taken over", async () => {
    const [a, b] = cluster.apis;
    const id = await createScene(a!.url, token, 'Replica killed', 14);
    try {
      const first = watch(wsClient(a!.url, token), id, 0, () => false);
      for (let i = 0; i < 6; i++) await addObject(a!.url, token, id, i);
      // Killed while it paints (usually): B takes the render over once A's lease expires.
      await cluster.stopProcess(a!.name, { kill: true });
      await first.done;
      const before = first.events;
      const after = before.at(-1)?.seq ?? 0;
      // The render may have finished before the kill, or be taken over by B after A's lease expires.
      // If A finished before it died, B has nothing new: resume from the start instead, which replays the log.
      const finished = completedAt(7)(before);
      const second = watch(wsClient(b!.url, token), id, finished ? 0 : after, (events) =>
        completedAt(7)(finished ? events : [...before, ...events]),
      );
      const rest = finished ? (await second.done).filter((e) => e.seq > after) : await second.done;
      expect(second.failure()).toBeNull();
      expect(consecutive([...seqs(before), ...seqs(rest)])).toBe(true);
      expect([...before, ...rest].some((e) => e.__typename === 'RenderCompleted' && e.revision === 7)).toBe(true);
    } finally {
      // The next tests need both replicas, whatever happened here.
      await cluster.startProcess(a!.name);
    }
  }, 120_000);

  it('recovers the streams from the log after a Redis restart', async () => {
    const id = await createScene(cluster.url, token, 'Redis restart', 15);
    const stream = watch(wsClient(cluster.apis[0]!.url, token), id, 0, completedAt(4));
    await addObject(cluster.apis[1]!.url, token, id, 0);
    await cluster.stopProcess('redis', { kill: true });
    await cluster.startProcess('redis');
    await addObject(cluster.apis[1]!.url, token, id, 1);
    await addObject(cluster.apis[1]!.url, token, id, 2);
    const events = await stream.done;
    expect(consecutive(seqs(events))).toBe(true);
  });

  it('answers clearly while PostgreSQL is down, loses no accepted edit, and recovers without a restart', async () => {
    const id = await createScene(cluster.url, token, 'Database outage', 16);
    const accepted: number[] = [await addObject(cluster.url, token, id, 0)];
    await cluster.stopProcess('postgres');
    const during = await gql(cluster.url, token, 'mutation($id: ID!) { renameScene(sceneId: $id, title: "x") { revision } }', { id });
    expect(during.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    await cluster.startProcess('postgres');
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = await gql(cluster.url, token, 'query($id: ID!) { scene(id: $id) { revision } }', { id });
      if (r.data) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    accepted.push(await addObject(cluster.url, token, id, 1));
    const r = await gql(cluster.url, token, 'query($id: ID!) { scene(id: $id) { revision layers { id } } }', { id });
    expect(r.data.scene.revision).toBe(Math.max(...accepted));
    expect(r.data.scene.layers).toHaveLength(2);
  });

  it('lets a browser (session cookie, its own Origin) watch its private scene over the WebSocket through nginx', async () => {
    // A browser's first request gets a guest cookie; its WebSocket then carries the cookie and the page's
    // Origin, which the replica checks against the Host nginx forwards (with its port).
    const first = await fetch(`${cluster.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^strata_session=/);
    const created = await fetch(`${cluster.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true', cookie },
      body: JSON.stringify({ query: 'mutation { createScene(input: { title: "Browser", seed: 18 }) { id } }' }),
    });
    const id = ((await created.json()) as any).data.createScene.id as string;
    const client = createClient({
      url: `${cluster.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: class extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers: { cookie, origin: cluster.url } });
        }
      },
      retryAttempts: 0,
      lazy: true,
    });
    clients.push(client);
    const stream = watch(client, id, 0, completedAt(1));
    const events = await stream.done;
    expect(stream.failure()).toBeNull();
    expect(events[0]).toMatchObject({ __typename: 'SceneChanged', seq: 1 });
  });

  it('holds the open-stream ceiling across replicas', async () => {
    const viewer = await session(cluster.url, 'Many streams');
    const id = await createScene(cluster.url, viewer, 'Ceiling', 17);
    const open: ReturnType<typeof watch>[] = [];
    for (let i = 0; i < 20; i++) open.push(watch(wsClient(cluster.apis[0]!.url, viewer), id, null, () => false, 60_000));
    // Every one of the 20 holds its slot once it has its first message (the presence snapshot).
    for (let i = 0; i < 300 && !open.every((s) => s.open()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(open.every((s) => s.open())).toBe(true);
    const refused = watch(wsClient(cluster.apis[1]!.url, viewer), id, null, () => false, 20_000);
    await refused.done;
    expect(JSON.stringify(refused.failure())).toContain('RATE_LIMITED');
    for (const s of open) s.cancel();
  });
});
