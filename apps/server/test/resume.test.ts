import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { print } from 'graphql';
import { AddObjectDocument, CreateSceneDocument, SceneEventsDocument, type SceneEventsSubscription } from '@strata/schema/client';
import { collect, startServer, TARGET, type TestServer } from './harness.js';

type Event = SceneEventsSubscription['sceneEvents'];

describe('a client dropped mid-render', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server?.stop());

  it('resumes from its last sequence number and misses nothing', async () => {
    const sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Drop', seed: 9 } })).data!.createScene.id;
    let socket: WebSocket | null = null;
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${server.token}` },
      on: { connected: (s) => (socket = s as WebSocket) },
    });
    const seen: Event[] = [];
    const dropped = new Promise<void>((resolve) => {
      client.subscribe<SceneEventsSubscription>(
        { query: print(SceneEventsDocument), variables: { sceneId, after: 0 } },
        {
          next: ({ data }) => {
            if (data!.sceneEvents.__typename === 'PresenceChanged') return;
            seen.push(data!.sceneEvents);
            if (seen.filter((e) => e.__typename === 'FrameRendered').length === 3) socket!.terminate();
          },
          error: () => resolve(),
          complete: () => resolve(),
        },
      );
    });
    for (let i = 0; i < 8; i++) {
      await server.gql(AddObjectDocument, {
        sceneId,
        input: { category: 'bush', box: { x: 0.1 * i, y: 0.6, w: 0.2, h: 0.3 }, appearanceSeed: i },
      });
      await new Promise((r) => setTimeout(r, 30));
    }
    await dropped;
    await server.app.coordinator.idle(sceneId);
    const lastSeen = seen.at(-1)!.seq;
    const resumed = collect(server.ws(), SceneEventsDocument, { sceneId, after: lastSeen }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'RenderCompleted' && i.sceneEvents.revision === 9),
    );
    const logged = (items: { sceneEvents: Event }[]) => items.map((i) => i.sceneEvents).filter((e) => e.__typename !== 'PresenceChanged');
    const rest = logged(await resumed.done);
    const full = collect(
      server.ws(),
      SceneEventsDocument,
      { sceneId, after: 0 },
      (items) => logged(items).length >= seen.length + rest.length,
    );
    const all = logged(await full.done).slice(0, seen.length + rest.length);
    expect([...seen, ...rest]).toEqual(all);
    expect([...seen, ...rest].map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const frames = [...seen, ...rest].flatMap((e) => (e.__typename === 'FrameRendered' ? [e.step] : []));
    expect(new Set(frames)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    await client.dispose();
  });

  // The stream and the bus of one process, driven directly (the cluster's Redis bus has its own tests).
  it.skipIf(TARGET === 'cluster')('keeps a slow subscriber correct without unbounded memory: it catches up from the log', async () => {
    const sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Slow', seed: 10 } })).data!.createScene.id;
    await server.app.coordinator.idle(sceneId);
    const { streamSceneEvents } = await import('../src/graphql/event-stream.js');
    const { store, bus } = server.app;
    const stream = streamSceneEvents(store, bus, sceneId, 0);
    const first = await stream.next();
    expect(first.value!.seq).toBe(1);
    // Flood while the consumer does not pull: more than the live buffer holds.
    for (let i = 0; i < 1500; i++)
      await bus.publish(await store.appendEvents(sceneId, 1, [{ type: 'RenderStarted', fromStep: 0, toStep: 0 }]));
    const seqs: number[] = [first.value!.seq];
    const last = await store.lastSeq(sceneId);
    while (seqs.at(-1)! < last) seqs.push((await stream.next()).value!.seq);
    expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    await stream.return(undefined);
  });
});
