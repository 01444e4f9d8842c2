import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddObjectDocument, CreateSceneDocument, SceneDocument, SceneEventsDocument, UpdateObjectDocument } from '@strata/schema/client';
import { parse, validate } from 'graphql';
import { buildContractSchema } from '@strata/schema';
import { MemorySceneStore } from '../src/infrastructure/memory/memory-store.js';
import { depthLimitRule } from '../src/graphql/limits.js';
import { collect, startServer, type TestServer } from './harness.js';

const BOX = { x: 0.1, y: 0.4, w: 0.3, h: 0.4 };

describe('bad input', () => {
  let server: TestServer;
  let sceneId = '';

  beforeAll(async () => {
    server = await startServer();
    sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Errors', style: 'night', seed: 1 } })).data!.createScene.id;
    await server.app.coordinator.idle(sceneId);
  });
  afterAll(() => server?.stop());

  const cases: [string, Record<string, unknown>, string, string][] = [
    ['an unknown category', { category: 'dragon', box: BOX }, 'BAD_USER_INPUT', 'input.category'],
    ['a zero-width box', { category: 'tree', box: { ...BOX, w: 0 } }, 'BAD_USER_INPUT', 'input.box.w'],
    ['a negative x', { category: 'tree', box: { ...BOX, x: -0.2 } }, 'BAD_USER_INPUT', 'input.box.x'],
    ['a box past the right edge', { category: 'tree', box: { ...BOX, x: 0.9 } }, 'BAD_USER_INPUT', 'input.box.w'],
    ['a huge number', { category: 'tree', box: { ...BOX, h: 1e308 } }, 'BAD_USER_INPUT', 'input.box.h'],
    ['a non-numeric box field', { category: 'tree', box: { ...BOX, y: 'NaN' } }, 'BAD_USER_INPUT', 'input.box.y'],
    ['a negative seed', { category: 'tree', box: BOX, appearanceSeed: -1 }, 'BAD_USER_INPUT', 'input.appearanceSeed'],
    [
      'an unknown preset',
      { category: 'tree', box: BOX, shape: { kind: 'PRESET', preset: 'spaceship' } },
      'BAD_USER_INPUT',
      'input.shape.preset',
    ],
    ['a drawn shape without a mask', { category: 'tree', box: BOX, shape: { kind: 'DRAWN' } }, 'BAD_USER_INPUT', 'input.shape.mask'],
    [
      'a malformed mask',
      { category: 'tree', box: BOX, shape: { kind: 'DRAWN', mask: { format: 'PNG', data: 'bm90IGEgcG5n' } } },
      'BAD_USER_INPUT',
      'input.shape.mask.data',
    ],
    [
      'an oversized mask',
      {
        category: 'tree',
        box: BOX,
        shape: { kind: 'DRAWN', mask: { format: 'A8', width: 512, height: 512, data: Buffer.alloc(512 * 512, 255).toString('base64') } },
      },
      'LIMIT_EXCEEDED',
      'input.shape.mask.data',
    ],
    [
      'an A8 mask of the wrong length',
      {
        category: 'tree',
        box: BOX,
        shape: { kind: 'DRAWN', mask: { format: 'A8', width: 8, height: 8, data: Buffer.alloc(10, 255).toString('base64') } },
      },
      'BAD_USER_INPUT',
      'input.shape.mask.data',
    ],
    [
      'an empty mask',
      {
        category: 'tree',
        box: BOX,
        shape: { kind: 'DRAWN', mask: { format: 'A8', width: 4, height: 4, data: Buffer.alloc(16, 0).toString('base64') } },
      },
      'BAD_USER_INPUT',
      'input.shape.mask.data',
    ],
  ];

  it.each(cases)('refuses %s with a typed error naming the field, and changes nothing', async (_name, input, code, field) => {
    const before = (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
    const result = await server.gql(AddObjectDocument, { sceneId, input: input as never });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code, field });
    const after = (await server.gql(SceneDocument, { id: sceneId })).data!.scene;
    expect(after.revision).toBe(before.revision);
    expect(after.lastSeq).toBe(before.lastSeq);
  });

  it('refuses unknown ids with NOT_FOUND', async () => {
    const scene = await server.gql(SceneDocument, { id: 'no-such-scene' });
    expect(scene.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    const layer = await server.gql(UpdateObjectDocument, { sceneId, layerId: 'no-such-layer', input: { appearanceSeed: 1 } });
    expect(layer.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'layerId' });
  });

  it('refuses an unknown style and an empty title', async () => {
    const style = await server.gql(CreateSceneDocument, { input: { title: 'x', style: 'noon' } });
    expect(style.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.style' });
    const title = await server.gql(CreateSceneDocument, { input: { title: '   ' } });
    expect(title.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });
  });

  it('refuses too many layers with LIMIT_EXCEEDED', async () => {
    const small = await startServer({ env: { STRATA_MAX_LAYERS: '2' } });
    try {
      const id = (await small.gql(CreateSceneDocument, { input: { title: 'Full', seed: 2 } })).data!.createScene.id;
      for (let i = 0; i < 2; i++)
        expect((await small.gql(AddObjectDocument, { sceneId: id, input: { category: 'rock', box: BOX } })).errors).toBeUndefined();
      const third = await small.gql(AddObjectDocument, { sceneId: id, input: { category: 'rock', box: BOX } });
      expect(third.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 2 });
    } finally {
      await small.stop();
    }
  });

  it('gives the same typed errors over WebSocket', async () => {
    const client = server.ws();
    const result = await new Promise<{ errors?: readonly { extensions?: Record<string, unknown> }[] }>((resolve) => {
      client.subscribe(
        {
          query:
            'mutation($s: ID!) { addObject(sceneId: $s, input: { category: "dragon", box: { x: 0, y: 0, w: 0.5, h: 0.5 } }) { revision } }',
          variables: { s: sceneId },
        },
        { next: (v) => resolve(v as never), error: (e) => resolve({ errors: e as never }), complete: () => {} },
      );
    });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.category' });
    const sub = collect(server.ws(), SceneEventsDocument, { sceneId: 'missing' }, () => true);
    await sub.done;
    expect(sub.errors[0]).toMatchObject({ extensions: { code: 'NOT_FOUND', field: 'sceneId' } });
  });

  it('answers malformed JSON with a 400, and the server keeps serving', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": ',
    });
    expect(res.status).toBe(400);
    const ok = await server.gql('{ model { version } }');
    expect(ok.errors).toBeUndefined();
  });

  it('refuses operations that cost too much, on both transports', async () => {
    const fields = Array.from({ length: 1000 }, (_, i) => `f${i}: model { version }`).join(' ');
    const http = await server.gql(`{ ${fields} }`);
    expect(http.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    const ws = collect(server.ws(), parse(`{ ${fields} }`), {}, () => true);
    await ws.done;
    expect(ws.errors[0]).toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX' } });
  });

  it('refuses operations nested too deep', async () => {
    const schema = buildContractSchema();
    const query = parse('{ scenes { nodes { layers { object { box { x } } } } } }');
    expect(validate(schema, query, [depthLimitRule(5)])[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    expect(validate(schema, query, [depthLimitRule(6)])).toEqual([]);
  });
});

describe('unexpected errors', () => {
  it('are masked and logged on HTTP and WebSocket alike, and the server keeps serving', async () => {
    class BrokenStore extends MemorySceneStore {
      override listScenes(): never {
        throw new Error('disk on fire: /secret/path');
      }
    }
    const server = await startServer({ overrides: { store: new BrokenStore() } });
    try {
      const http = await server.gql('{ scenes { totalCount } }');
      expect(http.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(http)).not.toContain('secret');

      const client = server.ws();
      const ws = await new Promise<{ errors?: unknown }>((resolve) => {
        client.subscribe(
          { query: '{ scenes { totalCount } }' },
          { next: (v) => resolve(v as never), error: (e) => resolve({ errors: e }), complete: () => {} },
        );
      });
      expect(ws.errors).toMatchObject([{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
      expect(JSON.stringify(ws)).not.toContain('secret');

      expect(server.log.lines.filter((l) => l.level === 'error' && JSON.stringify(l).includes('disk on fire'))).toHaveLength(2);
      expect((await server.gql('{ model { version } }')).errors).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});
