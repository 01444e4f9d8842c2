import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as documents from '@strata/schema/client';
import { CreateSceneDocument, SceneDocument, SceneEventsDocument, ScenesDocument } from '@strata/schema/client';
import { buildContractSchema } from '@strata/schema';
import type { Client } from 'graphql-ws';
import {
  Kind,
  getIntrospectionQuery,
  getNamedType,
  getVariableValues,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  parse,
  print,
  typeFromAST,
  validate,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { operationCost, strataCostModel } from '../src/graphql/cost.js';
import { OperationGuard } from '../src/graphql/guard.js';
import { DEFAULT_QUERY_LIMITS, depthLimitRule } from '../src/graphql/limits.js';
import { DEFAULT_LIMITS } from '../src/domain/scenes/limits.js';
import { collect, startServer, type TestServer } from './harness.js';

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  bytes: number;
}

/** POST an operation and read the status as well as the answer. */
async function post(server: TestServer, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Answer['body'], bytes: Buffer.byteLength(text) };
}

/** Run one operation over graphql-ws: its first result, or the errors of an `error` message. */
function overWs(client: Client, query: string, variables?: Record<string, unknown>): Promise<Answer['body']> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: Answer['body']) => {
      if (done) return;
      done = true;
      resolve(value);
      cancel();
    };
    const cancel = client.subscribe(
      { query, ...(variables ? { variables } : {}) },
      {
        next: (value) => finish(value as Answer['body']),
        error: (error) => finish({ errors: (Array.isArray(error) ? error : [error]) as never }),
        complete: () => finish({}),
      },
    );
  });
}

const aliases = (n: number, field: string) => Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
const ATTACK = '{ scenes(first: 100) { nodes { layers { frame { pngBase64 } } } } }';
const refusal = (reason: string, limit?: number) => ({
  code: 'QUERY_TOO_COMPLEX',
  reason,
  ...(limit !== undefined ? { limit } : {}),
});

/** Values for an operation's variables, from their types: a string for IDs and strings, the first enum value, ... */
function sampleVariables(schema: GraphQLSchema, operation: OperationDefinitionNode): Record<string, unknown> {
  const sample = (type: GraphQLInputType): unknown => {
    if (isNonNullType(type)) return sample(type.ofType);
    if (isListType(type)) return [sample(type.ofType)];
    const named = getNamedType(type);
    if (isEnumType(named)) return named.getValues()[0]!.value;
    if (isInputObjectType(named))
      return Object.fromEntries(
        Object.values(named.getFields())
          .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
          .map((f) => [f.name, sample(f.type)]),
      );
    return { Int: 1, Float: 0.5, Boolean: true, JSONObject: {} }[named.name] ?? 'x';
  };
  const values: Record<string, unknown> = {};
  for (const def of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, def.type as never) as GraphQLInputType;
    if (isNonNullType(type) || def.variable.name.value === 'first') values[def.variable.name.value] = sample(type);
  }
  if ('first' in values) values['first'] = 100;
  return values;
}

describe('query limits (defaults, as under `npm start`)', () => {
  let server: TestServer;
  let sceneId = '';

  beforeAll(async () => {
    // `npm start` runs Next's prepare(), which sets NODE_ENV=production: the API must not change with it.
    const before = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      server = await startServer();
    } finally {
      process.env['NODE_ENV'] = before;
    }
    sceneId = (await server.gql(CreateSceneDocument, { input: { title: 'Limits', seed: 5 } })).data!.createScene.id;
    await server.app.coordinator.idle(sceneId);
  });
  afterAll(() => server?.stop());

  it('refuses an operation with a required variable and 20,000 aliases, on HTTP and WebSocket', async () => {
    const query = `query($id: ID!) { scene(id: $id) { id } ${aliases(20_000, 'model { version }')} }`;
    const http = await post(server, query, { id: sceneId });
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    expect(http.body.data).toBeUndefined();
    const ws = await overWs(server.ws(), query, { id: sceneId });
    expect(ws.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
  });

  it('costs an operation with its real variables: a required variable does not switch the cost limit off', async () => {
    // Under every ceiling (2 aliases), over the cost: 2 x 32 layers x an inline PNG.
    const query = `query($id: ID!) { a: scene(id: $id) { layers { frame { pngBase64 } } } b: scene(id: $id) { layers { frame { pngBase64 } } } }`;
    const http = await post(server, query, { id: sceneId });
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY', DEFAULT_QUERY_LIMITS.maxCost));
    const ws = await overWs(server.ws(), query, { id: sceneId });
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY', DEFAULT_QUERY_LIMITS.maxCost));
  });

  it('costs lists by their size: scenes(first: 100) { nodes { layers { frame { pngBase64 } } } } is refused on both transports', async () => {
    const http = await post(server, ATTACK);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY', DEFAULT_QUERY_LIMITS.maxCost));
    const ws = await overWs(server.ws(), ATTACK);
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY', DEFAULT_QUERY_LIMITS.maxCost));
    // The page size comes from the variables: one scene per page fits.
    const paged = 'query($n: Int!) { scenes(first: $n) { nodes { layers { frame { pngBase64 } } } } }';
    expect((await post(server, paged, { n: 100 })).body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY'));
    const one = await post(server, paged, { n: 1 });
    expect(one.body.errors).toBeUndefined();
    expect(one.status).toBe(200);
  });

  it('refuses an oversized document before parsing it, on both transports', async () => {
    const query = `# ${'x'.repeat(DEFAULT_QUERY_LIMITS.maxDocumentBytes)}\n{ __typename }`;
    const http = await post(server, query);
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('DOCUMENT_TOO_LARGE', DEFAULT_QUERY_LIMITS.maxDocumentBytes));
    const ws = await overWs(server.ws(), query);
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('DOCUMENT_TOO_LARGE', DEFAULT_QUERY_LIMITS.maxDocumentBytes));
  });

  it('refuses a document with too many tokens before parsing it, on both transports', async () => {
    // Also a syntax error at its end: the ceiling answers first, the parser never runs.
    const query = `{ ${'__typename '.repeat(DEFAULT_QUERY_LIMITS.maxTokens)} `;
    const http = await post(server, query);
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_MANY_TOKENS', DEFAULT_QUERY_LIMITS.maxTokens));
    const ws = await overWs(server.ws(), query);
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('TOO_MANY_TOKENS', DEFAULT_QUERY_LIMITS.maxTokens));
  });

  it('refuses a document with too many aliases before validating it, on both transports', async () => {
    // Also invalid (an unknown field): the ceiling answers first, validation never runs.
    const query = `{ nope ${aliases(DEFAULT_QUERY_LIMITS.maxAliases + 1, '__typename')} }`;
    const http = await post(server, query);
    expect(http.status).toBe(400);
    expect(http.body.errors).toHaveLength(1);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_MANY_ALIASES', DEFAULT_QUERY_LIMITS.maxAliases));
    const ws = await overWs(server.ws(), query);
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('TOO_MANY_ALIASES', DEFAULT_QUERY_LIMITS.maxAliases));
  });

  it('refuses a field repeated too often in one selection before validating it, on both transports', async () => {
    const query = `{ ${'me { id } '.repeat(DEFAULT_QUERY_LIMITS.maxRepeatedFields + 1)} }`;
    const http = await post(server, query);
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_MANY_REPEATED_FIELDS', DEFAULT_QUERY_LIMITS.maxRepeatedFields));
    const ws = await overWs(server.ws(), query);
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('TOO_MANY_REPEATED_FIELDS', DEFAULT_QUERY_LIMITS.maxRepeatedFields));
  });

  it('answers the standard introspection query by default on both transports, with NODE_ENV=production', async () => {
    const query = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      inputValueDeprecation: true,
    });
    const http = await post(server, query);
    expect(http.body.errors).toBeUndefined();
    expect((http.body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
    const ws = await overWs(server.ws(), query);
    expect(ws.errors).toBeUndefined();
    expect((ws.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(20);
  });

  it('costs introspection by the schema: many aliased introspections are refused on both transports', async () => {
    // (Recursive introspection, `types { fields { type { fields ...`, is refused by graphql-js's own MaxIntrospectionDepthRule.)
    const introspection =
      '__schema { types { fields { type { name kind ofType { name kind ofType { name kind } } } args { name type { name kind } } } } }';
    const query = `{ ${aliases(30, introspection)} }`;
    const http = await post(server, query);
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('INTROSPECTION_TOO_COSTLY'));
    const ws = await overWs(server.ws(), query);
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('INTROSPECTION_TOO_COSTLY'));
    expect((await post(server, `{ ${aliases(2, introspection)} }`)).body.errors).toBeUndefined();
  });

  it('answers a subscription sent over HTTP with a typed 400 pointing to the WebSocket, and logs no error', async () => {
    const errorsBefore = server.log.lines.filter((l) => l.level === 'error').length;
    const http = await post(server, print(SceneEventsDocument), { sceneId });
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'SUBSCRIPTION_OVER_HTTP' });
    expect(http.body.errors?.[0]?.message).toMatch(/WebSocket/);
    expect(JSON.stringify(http.body)).not.toMatch(/stack|\bat \//);
    expect(server.log.lines.filter((l) => l.level === 'error')).toHaveLength(errorsBefore);
  });

  it("still runs the app's own operations with their variables, on both transports", async () => {
    const scene = await server.gql(SceneDocument, { id: sceneId });
    expect(scene.errors).toBeUndefined();
    expect(scene.data?.scene.id).toBe(sceneId);
    const gallery = await server.gql(ScenesDocument, { first: 100 });
    expect(gallery.errors).toBeUndefined();
    expect(gallery.data?.scenes.nodes.map((n) => n.id)).toContain(sceneId);
    const ws = await overWs(server.ws(), print(SceneDocument), { id: sceneId });
    expect(ws.errors).toBeUndefined();
    const stream = collect(server.ws(), SceneEventsDocument, { sceneId, after: 0 }, (items) => items.length >= 2);
    const events = await stream.done;
    expect(stream.errors).toEqual([]);
    expect(events[0]).toMatchObject({ sceneEvents: { seq: 1, sceneId } });
  });
});

describe('query limits (configured: ceilings opened, small answers, introspection off)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({
      env: {
        STRATA_MAX_DOCUMENT_BYTES: String(4 * 1024 * 1024),
        STRATA_MAX_TOKENS: '1000000',
        STRATA_MAX_ALIASES: '1000000',
        STRATA_MAX_RESPONSE_BYTES: '2048',
        STRATA_INTROSPECTION: 'off',
      },
    });
  });
  afterAll(() => server?.stop());

  it('refuses 20,000 aliases with a required variable by their cost when every ceiling is open, on HTTP and WebSocket', async () => {
    const query = `query($id: ID!) { scene(id: $id) { id } ${aliases(20_000, 'model { version }')} }`;
    const http = await post(server, query, { id: 'none' });
    expect(http.status).toBe(400);
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY', DEFAULT_QUERY_LIMITS.maxCost));
    const ws = await overWs(server.ws(), query, { id: 'none' });
    expect(ws.errors?.[0]?.extensions).toMatchObject(refusal('TOO_COSTLY', DEFAULT_QUERY_LIMITS.maxCost));
  });

  it('replaces an answer over the size ceiling with a typed error', async () => {
    const query = `{ ${aliases(10, 'model { version resolution categories { id label } styles { id label } shapePresets { id label url } }')} }`;
    const http = await post(server, query);
    expect(http.bytes).toBeLessThanOrEqual(2048);
    expect(http.body.data).toBeNull();
    expect(http.body.errors?.[0]?.extensions).toMatchObject(refusal('RESPONSE_TOO_LARGE', 2048));
    // A small answer passes.
    expect((await post(server, '{ model { version } }')).body.errors).toBeUndefined();
  });

  it('refuses introspection on both transports with STRATA_INTROSPECTION=off; __typename still answers', async () => {
    const query = '{ __schema { queryType { name } } }';
    const expected = { code: 'BAD_USER_INPUT', reason: 'INTROSPECTION_DISABLED' };
    const http = await post(server, query);
    expect(http.status).toBe(400);
    expect(http.body.errors).toHaveLength(1);
    expect(http.body.errors?.[0]?.extensions).toEqual(expected);
    const ws = await overWs(server.ws(), '{ __type(name: "Scene") { name } }');
    expect(ws.errors?.[0]?.extensions).toEqual(expected);
    expect(ws.errors?.[0]?.message).toBe(http.body.errors?.[0]?.message);
    expect((await post(server, '{ __typename }')).body).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('the cost model', () => {
  const schema = buildContractSchema();
  const sizes = { maxLayers: DEFAULT_LIMITS.maxLayers, maxPageSize: DEFAULT_LIMITS.maxPageSize, categories: 8, styles: 4, presets: 6 };
  const guard = new OperationGuard({
    schema,
    limits: DEFAULT_QUERY_LIMITS,
    introspection: true,
    sceneLimits: DEFAULT_LIMITS,
    model: { categories: new Array(8).fill({ id: 'c', label: 'C' }), styles: new Array(4).fill({ id: 's', label: 'S' }) },
  });
  const operationOf = (document: DocumentNode) =>
    document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;

  it('gives every list field of the schema a size', () => {
    expect(strataCostModel(schema, sizes).unsized).toEqual([]);
  });

  it("lets every one of the app's typed documents through with its variables", () => {
    const typed = Object.entries(documents).filter(([name, value]) => name.endsWith('Document') && typeof value === 'object');
    expect(typed.length).toBeGreaterThan(20);
    for (const [name, document] of typed) {
      const doc = document as DocumentNode;
      const operation = operationOf(doc);
      const variables = sampleVariables(schema, operation);
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
      expect(coerced.errors, name).toBeUndefined();
      const cost = operationCost(schema, doc, operation, coerced.coerced!, guard.costModel);
      expect(cost.data, name).toBeLessThanOrEqual(DEFAULT_QUERY_LIMITS.maxCost);
      expect(validate(schema, doc, guard.rules), name).toEqual([]);
      expect(guard.checkOperation(doc, operation, variables), name).toBeUndefined();
    }
  });

  it('refuses an operation whose cost cannot be computed', () => {
    const doc = parse('{ nope }');
    expect(guard.checkOperation(doc, operationOf(doc), {})?.extensions).toMatchObject(refusal('COST_UNKNOWN'));
  });

  it('measures fragment-heavy documents once per fragment (depth and cost), not once per path', () => {
    const levels = 28;
    const fragments = Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join('\n');
    const doc = parse(`{ ...F0 }\n${fragments}\nfragment F${levels} on Query { me { id } }`);
    const started = performance.now();
    expect(validate(schema, doc, [depthLimitRule(DEFAULT_QUERY_LIMITS.maxDepth)])).toEqual([]);
    expect(operationCost(schema, doc, operationOf(doc), {}, guard.costModel).data).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
