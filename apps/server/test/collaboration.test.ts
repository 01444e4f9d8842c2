import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcceptInviteDocument,
  AddObjectDocument,
  CreateApiTokenDocument,
  CreateInviteDocument,
  CreateSceneDocument,
  MeDocument,
  RemoveMemberDocument,
  RevokeApiTokenDocument,
  SceneAccessDocument,
  SceneDocument,
  SceneEventsDocument,
  ScenePresenceDocument,
  ScenesDocument,
  SetVisibilityDocument,
  UndoDocument,
  UpdateObjectDocument,
  UpdatePresenceDocument,
  type ScenePresenceSubscription,
} from '@strata/schema/client';
import { collect, startServer, type TestServer, type TestUser } from './harness.js';

const box = (x: number) => ({ x, y: 0.5, w: 0.2, h: 0.3 });

describe('several people in one scene', () => {
  let server: TestServer;
  let owner: TestUser;
  let editor: TestUser;
  let viewer: TestUser;
  let stranger: TestUser;
  let sceneId = '';

  beforeAll(async () => {
    server = await startServer();
    owner = server;
    [editor, viewer, stranger] = await Promise.all([server.newUser('Edda'), server.newUser('Vic'), server.newUser('Stan')]);
    sceneId = (await owner.gql(CreateSceneDocument, { input: { title: 'Together', seed: 3 } })).data!.createScene.id;
    const asEditor = (await owner.gql(CreateInviteDocument, { sceneId, role: 'EDITOR' })).data!.createInvite;
    const asViewer = (await owner.gql(CreateInviteDocument, { sceneId, role: 'VIEWER' })).data!.createInvite;
    expect((await editor.gql(AcceptInviteDocument, { token: asEditor.token })).data!.acceptInvite.myRole).toBe('EDITOR');
    expect((await viewer.gql(AcceptInviteDocument, { token: asViewer.token })).data!.acceptInvite.myRole).toBe('VIEWER');
    await server.app.coordinator.idle(sceneId);
  });
  afterAll(() => server?.stop());

  it('shows everyone who is here, with their colour, selection and pointer, and who left', async () => {
    type P = ScenePresenceSubscription['sceneEvents'];
    const latest = (items: { sceneEvents: P }[]) =>
      items
        .map((i) => i.sceneEvents)
        .filter((e) => e.__typename === 'PresenceChanged')
        .at(-1);
    const names = (e: P | undefined) =>
      e && e.__typename === 'PresenceChanged' ? e.participants.map((p) => p.user.displayName).sort() : [];
    const clients = [owner.ws(), editor.ws(), viewer.ws()];
    const subs = clients.map((c) => collect(c, ScenePresenceDocument, { sceneId }, () => false, 20_000));
    const waitFor = async (pred: (items: { sceneEvents: P }[]) => boolean) => {
      for (let i = 0; i < 200 && !subs.every((s) => pred(s.items as never)); i++) await new Promise((r) => setTimeout(r, 25));
      expect(subs.every((s) => pred(s.items as never))).toBe(true);
    };
    await waitFor((items) => names(latest(items)).length === 3);
    expect(names(latest(subs[0]!.items as never))).toEqual(['Edda', 'Tester', 'Vic']);

    const layerId = (await editor.gql(AddObjectDocument, { sceneId, input: { category: 'tree', box: box(0.1) } })).data!.addObject
      .layers[0]!.id;
    expect(
      (await editor.gql(UpdatePresenceDocument, { sceneId, selectedLayerId: layerId, pointer: { x: 0.25, y: 0.75 } })).data!.updatePresence,
    ).toBe(true);
    await waitFor((items) => {
      const e = latest(items);
      const edda = e?.__typename === 'PresenceChanged' ? e.participants.find((p) => p.user.displayName === 'Edda') : undefined;
      return (
        edda?.selectedLayerId === layerId && edda.pointer?.x === 0.25 && edda.role === 'EDITOR' && /^#[0-9a-f]{6}$/.test(edda.user.color)
      );
    });
    subs[2]!.cancel();
    await waitFor(() => true);
    for (let i = 0; i < 100 && names(latest(subs[0]!.items as never)).length !== 2; i++) await new Promise((r) => setTimeout(r, 25));
    expect(names(latest(subs[0]!.items as never))).toEqual(['Edda', 'Tester']);
    subs.forEach((s) => s.cancel());
    await server.app.coordinator.idle(sceneId);
  });

  it('lands concurrent additions from two people, in one order, on every stream', async () => {
    const start = (await owner.gql(SceneDocument, { id: sceneId })).data!.scene;
    const done = (items: { sceneEvents: { __typename: string; change?: string } }[]) =>
      items.filter((i) => i.sceneEvents.__typename === 'SceneChanged' && i.sceneEvents.change === 'OBJECT_ADDED').length >= 10;
    const streams = [owner, editor, viewer].map((u) =>
      collect(u.ws(), SceneEventsDocument, { sceneId, after: start.lastSeq }, done as never),
    );
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) =>
        owner.gql(AddObjectDocument, { sceneId, input: { category: 'rock', box: box(0.05 * i), appearanceSeed: i } }),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        editor.gql(AddObjectDocument, { sceneId, input: { category: 'bush', box: box(0.05 * i + 0.5), appearanceSeed: 10 + i } }),
      ),
    ]);
    const orders = (await Promise.all(streams.map((s) => s.done))).map((items) =>
      items.flatMap((i) =>
        i.sceneEvents.__typename === 'SceneChanged' && i.sceneEvents.change === 'OBJECT_ADDED'
          ? [`${i.sceneEvents.revision}:${i.sceneEvents.layerId}`]
          : [],
      ),
    );
    expect(orders[0]).toHaveLength(10);
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    const final = (await owner.gql(SceneDocument, { id: sceneId })).data!.scene;
    expect(final.layers).toHaveLength(start.layers.length + 10);
    expect(final.revision).toBe(start.revision + 10);
    await server.app.coordinator.idle(sceneId);
  });

  it('gives exactly one of two same-base edits of a layer a CONFLICT, and loses neither silently', async () => {
    const s = (await owner.gql(SceneDocument, { id: sceneId })).data!.scene;
    const layer = s.layers[0]!;
    const results = await Promise.all([
      owner.gql(UpdateObjectDocument, { sceneId, layerId: layer.id, input: { appearanceSeed: 101 }, baseRevision: s.revision }),
      editor.gql(UpdateObjectDocument, { sceneId, layerId: layer.id, input: { appearanceSeed: 202 }, baseRevision: s.revision }),
    ]);
    const conflicts = results.filter((r) => r.errors?.[0]?.extensions?.['code'] === 'CONFLICT');
    const wins = results.filter((r) => !r.errors);
    expect(conflicts).toHaveLength(1);
    expect(wins).toHaveLength(1);
    const current = conflicts[0]!.errors![0]!.extensions!['current'] as { object: { appearanceSeed: number } };
    const after = (await owner.gql(SceneDocument, { id: sceneId })).data!.scene;
    expect(after.layers[0]!.object.appearanceSeed).toBe(current.object.appearanceSeed);
    await server.app.coordinator.idle(sceneId);
  });

  it("undoes only the caller's own edits", async () => {
    const s = (await owner.gql(SceneDocument, { id: sceneId })).data!.scene;
    await owner.gql(UpdateObjectDocument, { sceneId, layerId: s.layers[1]!.id, input: { appearanceSeed: 7001 } });
    await editor.gql(UpdateObjectDocument, { sceneId, layerId: s.layers[2]!.id, input: { appearanceSeed: 7002 } });
    const undone = (await owner.gql(UndoDocument, { sceneId })).data!.undo;
    expect(undone.layers[1]!.object.appearanceSeed).toBe(s.layers[1]!.object.appearanceSeed);
    expect(undone.layers[2]!.object.appearanceSeed).toBe(7002);
    await server.app.coordinator.idle(sceneId);
  });

  it("refuses a viewer's edits with FORBIDDEN, but lets them watch", async () => {
    const s = (await viewer.gql(SceneDocument, { id: sceneId })).data!.scene;
    expect(s.myRole).toBe('VIEWER');
    const edit = await viewer.gql(UpdateObjectDocument, { sceneId, layerId: s.layers[0]!.id, input: { appearanceSeed: 1 } });
    expect(edit.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const ws = await new Promise<{ errors?: unknown }>((resolve) => {
      viewer
        .ws()
        .subscribe(
          {
            query: `mutation { addObject(sceneId: "${sceneId}", input: { category: "tree", box: { x: 0, y: 0, w: 0.5, h: 0.5 } }) { revision } }`,
          },
          { next: (v) => resolve(v as never), error: (e) => resolve({ errors: e }), complete: () => {} },
        );
    });
    expect(ws.errors).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
    expect((await owner.gql(SceneDocument, { id: sceneId })).data!.scene.revision).toBe(s.revision);
  });

  it('hides a private scene from strangers on HTTP and WebSocket, even its existence', async () => {
    const http = await stranger.gql(SceneDocument, { id: sceneId });
    expect(http.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    const missing = await stranger.gql(SceneDocument, { id: '00000000-0000-0000-0000-000000000000' });
    expect(http.errors?.[0]?.message.replace(sceneId, 'ID')).toBe(
      missing.errors?.[0]?.message.replace('00000000-0000-0000-0000-000000000000', 'ID'),
    );
    const sub = collect(stranger.ws(), SceneEventsDocument, { sceneId }, () => true);
    await sub.done;
    expect(sub.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const anonymous = collect(server.as(null).ws(), SceneEventsDocument, { sceneId }, () => true);
    await anonymous.done;
    expect(anonymous.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect((await stranger.gql(ScenesDocument, {})).data!.scenes.nodes.map((n) => n.id)).not.toContain(sceneId);
    expect(
      (await stranger.gql(UpdateObjectDocument, { sceneId, layerId: 'x', input: { appearanceSeed: 1 } })).errors?.[0]?.extensions?.['code'],
    ).toBe('NOT_FOUND');
  });

  it('lets anyone with the link watch a LINK scene, and lists PUBLIC scenes to everyone', async () => {
    await owner.gql(SetVisibilityDocument, { sceneId, visibility: 'LINK' });
    expect((await stranger.gql(SceneDocument, { id: sceneId })).data!.scene.myRole).toBe('VIEWER');
    expect((await stranger.gql(ScenesDocument, {})).data!.scenes.nodes.map((n) => n.id)).not.toContain(sceneId);
    await owner.gql(SetVisibilityDocument, { sceneId, visibility: 'PUBLIC' });
    expect((await stranger.gql(ScenesDocument, {})).data!.scenes.nodes.map((n) => n.id)).toContain(sceneId);
    // A request without any session is told to get one; a guest with a session is refused the edit.
    const anonymousEdit = await server.as(null).gql(UndoDocument, { sceneId });
    expect(anonymousEdit.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect((await stranger.gql(UndoDocument, { sceneId })).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    await owner.gql(SetVisibilityDocument, { sceneId, visibility: 'PRIVATE' });
    expect((await stranger.gql(SceneDocument, { id: sceneId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });

  it("ends a removed member's open subscription", async () => {
    const sub = collect(viewer.ws(), SceneEventsDocument, { sceneId }, () => false);
    await new Promise((r) => setTimeout(r, 100));
    const access = (await owner.gql(SceneAccessDocument, { id: sceneId })).data!.scene;
    const vic = access.members.find((m) => m.user.displayName === 'Vic')!;
    expect((await owner.gql(RemoveMemberDocument, { sceneId, userId: vic.user.id })).errors).toBeUndefined();
    await sub.done;
    expect(sub.errors.flat()[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect((await viewer.gql(SceneDocument, { id: sceneId })).errors?.[0]?.extensions?.['code']).toBe('NOT_FOUND');
  });
});

describe('identity and API tokens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: { STRATA_RATE_MUTATIONS: '5' } });
  });
  afterAll(() => server?.stop());

  it('gives a browser a guest identity as a cookie on its first visit', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id displayName color } }' }),
    });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^strata_session=.+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax/);
    const again = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookie.split(';')[0]! },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(((await again.json()) as { data: { me: { id: string } } }).data.me.id).toBe(
      ((await res.json()) as { data: { me: { id: string } } }).data.me.id,
    );
  });

  it('lets a third-party client act with a personal API token on HTTP and WebSocket until it is revoked', async () => {
    const created = (await server.gql(CreateApiTokenDocument, { name: 'script' })).data!.createApiToken;
    expect(created.token).toMatch(/^strata_pat_/);
    const bot = server.as(created.token);
    expect((await bot.gql(MeDocument, {})).data!.me!.id).toBe(server.user!.id);
    const sceneId = (await bot.gql(CreateSceneDocument, { input: { title: 'By token', seed: 1 } })).data!.createScene.id;
    const sub = collect(bot.ws(), SceneEventsDocument, { sceneId, after: 0 }, (items) =>
      items.some((i) => i.sceneEvents.__typename === 'RenderCompleted'),
    );
    await sub.done;
    expect(sub.errors).toEqual([]);
    await server.gql(RevokeApiTokenDocument, { id: created.apiToken.id });
    expect((await bot.gql(MeDocument, {})).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    const refused = collect(bot.ws(), SceneEventsDocument, { sceneId }, () => true, 5000);
    await refused.done.catch(() => undefined);
    expect(refused.errors.length).toBeGreaterThan(0);
    await server.app.coordinator.idle(sceneId);
  });

  it('refuses a forged token with UNAUTHENTICATED', async () => {
    const forged = server.token!.slice(0, -4) + 'AAAA';
    expect((await server.as(forged).gql(MeDocument, {})).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
    expect((await server.as('strata_pat_nope').gql(MeDocument, {})).errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('limits mutations per person with RATE_LIMITED saying when to retry', async () => {
    const user = await server.newUser('Speedy');
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) => user.gql(CreateSceneDocument, { input: { title: `fast ${i}`, seed: i } })),
    );
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.['code'] === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.errors![0]!.extensions!['retryAfterMs']).toBeGreaterThan(0);
    const ids = results.flatMap((r) => (r.data ? [r.data.createScene.id] : []));
    await Promise.all(ids.map((id) => server.app.coordinator.idle(id)));
  });

  it('needs an identity to change anything', async () => {
    const ws = await new Promise<{ errors?: unknown }>((resolve) => {
      server
        .as(null)
        .ws()
        .subscribe(
          { query: 'mutation { createScene(input: { title: "x" }) { id } }' },
          { next: (v) => resolve(v as never), error: (e) => resolve({ errors: e }), complete: () => {} },
        );
    });
    expect(ws.errors).toMatchObject([{ extensions: { code: 'UNAUTHENTICATED' } }]);
  });
});
