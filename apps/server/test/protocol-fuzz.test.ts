/**
 * Seeded protocol fuzz over both transports, against the real server (real models, real HTTP, raw
 * WebSocket frames spoken by hand in the graphql-transport-ws protocol, so they can be out of order
 * or malformed). Every case is built from one 32-bit seed; a failing case prints its seed, which is
 * then pinned below as a test of its own.
 *
 * Cases: random operations built from the schema (fields, arguments, selections) and the app's
 * typed documents, both mutated (wrong types, NaN/Infinity/-0, huge numbers and strings, deep
 * nesting, unknown fields and arguments, duplicated arguments, null where non-null, arrays where
 * objects); drawn masks with bad base64 and PNG bombs; malformed HTTP bodies, content types, GET,
 * batches; and WebSocket sessions with non-JSON and binary frames, subscribe before
 * connection_init, duplicate and huge ids, unknown message types, ping/pong storms, complete for
 * unknown ids.
 *
 * Invariants, per case: the server answers /health afterwards; no HTTP 5xx; every GraphQL error
 * (HTTP answer, `next` or `error` message) carries an `extensions.code` from ERROR_CODES; no close
 * code that says the server failed (4500, 1011) and no dropped connection; a refused mutation changes
 * nothing (the pool scenes' revision and lastSeq); no server log line at level error and no
 * console.error; and, over the whole run, /health (polled in the background) answers within
 * HEALTH_BUDGET_MS.
 *
 * `npm test`: CASES cases (STRATA_FUZZ_CASES) from a fixed seed. `npm run fuzz -w @strata/server`:
 * 10,000 cases, seeded from STRATA_FUZZ_SEED (a new one each run unless given).
 */
import { readFileSync } from 'node:fs';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  print,
  typeFromAST,
  type DocumentNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type OperationDefinitionNode,
} from 'graphql';
import * as documents from '@strata/schema/client';
import { AddObjectDocument, CreateInviteDocument, CreateSceneDocument, SceneDocumentDocument } from '@strata/schema/client';
import { ERROR_CODES } from '@strata/schema';
import { encodePng } from '../src/lib/png.js';
import { startServer, type TestServer } from './harness.js';

const CASES = Number(process.env['STRATA_FUZZ_CASES'] ?? 2000);
const BASE_SEED = Number(process.env['STRATA_FUZZ_SEED'] ?? 20_261_126) >>> 0;
/** /health must answer within this, during the whole run (a loose bound: the machine is shared). */
const HEALTH_BUDGET_MS = Number(process.env['STRATA_FUZZ_HEALTH_MS'] ?? 1000);
const CODES = new Set<string>(ERROR_CODES);
/** Close codes a server may use for a client's fault or a normal end (never 4500/1011: its own failure). */
const CLIENT_CLOSE_CODES = new Set([1000, 1001, 1005, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429]);

// ---------------------------------------------------------------------------------------------
// A small deterministic PRNG (mulberry32), seeded per case.

type Rng = {
  (): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
};

function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Rng;
  next.int = (n) => Math.floor(next() * n);
  next.pick = (xs) => xs[Math.floor(next() * xs.length)]!;
  next.chance = (p) => next() < p;
  return next;
}

/** The seed of case `i` of a run seeded with `base`. */
const caseSeed = (base: number, i: number) => (Math.imul(base ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(i + 1, 0xc2b2ae35)) >>> 0;

// ---------------------------------------------------------------------------------------------
// Values: valid ones from the schema's types and the server's real ids, and hostile ones.

/** Printed as is into a JSON body or a GraphQL literal (NaN, -0, 1e999, an enum name). */
class Raw {
  constructor(readonly text: string) {}
}

interface Pools {
  scenes: string[];
  layers: string[];
  foreignScene: string;
  inviteToken: string;
  document: Record<string, unknown>;
  categories: string[];
  styles: string[];
}

const JUNK_IDS = [
  '',
  ' ',
  'no-such-id',
  '../../etc/passwd',
  '\u0000',
  '🎨'.repeat(50),
  "' OR 1=1 --",
  'x'.repeat(5000),
  '1e999',
  '-1',
  '__proto__',
];

const HUGE_NUMBERS: unknown[] = [
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 1,
  Number.MAX_SAFE_INTEGER,
  1e308,
  -1e308,
  5e-324,
  0.1 + 0.2,
  new Raw('-0'),
  new Raw('1e999'),
  new Raw('-1e999'),
  new Raw('123456789012345678901234567890'),
];

/** A value no field of this type accepts (or only at the edge), or an odd shape. */
function hostile(r: Rng, depthHint = 0): unknown {
  switch (r.int(16)) {
    case 0:
      return null;
    case 1:
      return r.pick(HUGE_NUMBERS);
    case 2:
      return r.pick(['NaN', 'Infinity', '-Infinity', '-0', '1e999', '0x10', '']);
    case 3:
      return r.pick([new Raw('NaN'), new Raw('Infinity'), new Raw('-Infinity')]);
    case 4:
      return 'x'.repeat(r.pick([1000, 70_000, 300_000]));
    case 5:
      return [r.pick([1, 'a', null, {}])];
    case 6:
      return { unexpected: 1, nested: { deeper: [1, 2] } };
    case 7:
      return r.pick([true, false]);
    case 8:
      return nest(r.pick([50, 500, 1500]), r.chance(0.5));
    case 9:
      return r.pick(JUNK_IDS);
    case 10:
      return -r.int(1000) - 1;
    case 11:
      return r() * 10 - 5;
    case 12:
      return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
    case 13:
      return '\uD800\uDFFF\uFFFE\u0000';
    case 14:
      return depthHint > 2 ? [] : [hostile(r, depthHint + 1), hostile(r, depthHint + 1)];
    default:
      return r.int(2 ** 31);
  }
}

/** Arrays (or objects) nested `depth` deep. */
function nest(depth: number, objects: boolean): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
}

function validBox(r: Rng): Record<string, number> {
  const w = 0.05 + r() * 0.4;
  const h = 0.05 + r() * 0.4;
  return { x: r() * (1 - w), y: r() * (1 - h), w, h };
}

/** A plausible value of `type`, named `name`, with real ids; `p` is the chance of a hostile value at each level. */
function valueOf(r: Rng, type: GraphQLInputType, name: string, pools: Pools, p: number, depth = 0): unknown {
  if (r.chance(p)) return hostile(r, depth);
  if (isNonNullType(type)) return valueOf(r, type.ofType, name, pools, p, depth);
  if (isListType(type)) return Array.from({ length: r.int(3) }, () => valueOf(r, type.ofType, name, pools, p, depth + 1));
  const named = getNamedType(type);
  if (isEnumType(named)) return r.pick(named.getValues()).value;
  if (isInputObjectType(named)) {
    if (named.name === 'BoxInput' && !r.chance(p)) return validBox(r);
    if (named.name === 'MaskInput') return r.pick(MASKS)[1];
    const out: Record<string, unknown> = {};
    for (const field of Object.values(named.getFields())) {
      if (isNonNullType(field.type) || r.chance(0.4)) out[field.name] = valueOf(r, field.type, field.name, pools, p, depth + 1);
    }
    if (named.name === 'ShapeInput' && out['kind'] === 'DRAWN' && r.chance(0.7)) out['mask'] = r.pick(MASKS)[1];
    if (r.chance(p)) out[r.pick(['unknownField', 'id', '__typename', 'constructor'])] = 1;
    return out;
  }
  switch (named.name) {
    case 'Int':
      return /seed/i.test(name) ? r.int(2 ** 31) : /index/i.test(name) ? r.int(4) : r.pick([0, 1, 2, 5, 20, 100]);
    case 'Float':
      return r();
    case 'Boolean':
      return r.chance(0.5);
    case 'JSONObject':
      return r.chance(0.6) ? mutateDeep(r, structuredClone(pools.document), p + 0.3) : { format: 'strata-scene/1' };
    case 'ID':
    case 'String':
      return stringFor(r, name, pools);
    default:
      return 'x';
  }
}

function stringFor(r: Rng, name: string, pools: Pools): string {
  if (/^(sceneId|id)$/.test(name)) return r.chance(0.85) ? r.pick([...pools.scenes, pools.foreignScene]) : r.pick(JUNK_IDS);
  if (/layer/i.test(name)) return r.chance(0.85) && pools.layers.length ? r.pick(pools.layers) : r.pick(JUNK_IDS);
  if (name === 'category') return r.chance(0.8) ? r.pick(pools.categories) : 'dragon';
  if (name === 'style') return r.chance(0.8) ? r.pick(pools.styles) : 'noon';
  if (name === 'token') return r.chance(0.5) ? pools.inviteToken : 'strata_inv_nope';
  if (name === 'preset') return r.pick(['ellipse', 'house', 'spaceship', '']);
  if (name === 'color') return r.pick(['#ff0000', 'red', '#zzzzzz', '']);
  if (name === 'after') return r.pick(['', 'bm90IGEgY3Vyc29y', 'MTAw', '!!!', 'x'.repeat(2000)]);
  return r.pick(['fuzz', 'a title', '   ', 'ünïcödé ✓', 'x'.repeat(121), '<script>alert(1)</script>']);
}

/** Replace one random node of a JSON value with a hostile value (or add an unknown key, or wrap it). */
function mutateDeep(r: Rng, value: unknown, p: number): unknown {
  if (!r.chance(p)) return value;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (paths.length > 400 || path.length > 40) return;
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, []);
  const path = r.pick(paths);
  if (path.length === 0) return r.chance(0.5) ? hostile(r) : [value];
  let parent = value as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  const op = r.int(4);
  if (op === 0) delete parent[last];
  else if (op === 1 && parent[last] && typeof parent[last] === 'object')
    (parent[last] as Record<string, unknown>)['unknownKey'] = hostile(r);
  else if (op === 2) parent[last] = [parent[last]];
  else parent[last] = hostile(r);
  return value;
}

/** JSON with Raw values printed as is. */
function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `\u0001RAW${raws.length - 1}\u0001`;
    }
    return v;
  });
  return text.replace(/"\\u0001RAW(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

/** A GraphQL literal for any value (enum values bare when `enumNames` is set). */
function literal(value: unknown, enumNames = false, depth = 0): string {
  if (value instanceof Raw) return value.text;
  if (depth > 200) return '[]';
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return enumNames && /^[A-Z_]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : Number.isFinite(value) ? String(value) : 'NaN';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => literal(v, enumNames, depth + 1)).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'bad_key'}: ${literal(v, enumNames, depth + 1)}`)
    .join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// Drawn masks: valid, malformed, and bombs.

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  let c = 0xffffffff;
  for (let i = 4; i < 8 + data.length; i++) {
    c ^= out[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** A PNG whose header says `width` x `height` and whose IDAT is `idat` (already compressed). */
function craftedPng(
  width: number,
  height: number,
  idat: Buffer,
  options: { interlace?: boolean; colorType?: number; depth?: number } = {},
): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = options.depth ?? 8;
  ihdr[9] = options.colorType ?? 0;
  ihdr[12] = options.interlace ? 1 : 0;
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

let MASKS: [string, Record<string, unknown>][] = [];

function buildMasks(): void {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  const disc = new Uint8Array(32 * 32).map((_, i) => (((i % 32) - 16) ** 2 + (Math.floor(i / 32) - 16) ** 2 < 150 ? 255 : 0));
  const good = encodePng(disc, 32, 32, 1);
  // A zlib bomb: ~200 KB of deflate that inflates to 200 MB (the upload limit is 256 KiB).
  const bomb = deflateSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 });
  const corrupt = Buffer.from(good);
  corrupt[40] = corrupt[40]! ^ 0xff;
  MASKS = [
    ['a valid PNG', { format: 'PNG', data: b64(good) }],
    ['a valid A8', { format: 'A8', width: 32, height: 32, data: b64(disc) }],
    ['not base64', { format: 'PNG', data: '!!!not base64!!!' }],
    ['base64 of length 4n+1', { format: 'PNG', data: 'QUJDRA' + 'A' }],
    ['base64url', { format: 'PNG', data: b64(good).replace(/\+/g, '-').replace(/\//g, '_') }],
    ['a data URL', { format: 'PNG', data: `data:image/png;base64,${b64(good)}` }],
    ['base64 with newlines', { format: 'PNG', data: b64(good).replace(/(.{60})/g, '$1\n') }],
    ['empty', { format: 'PNG', data: '' }],
    ['padding only', { format: 'PNG', data: '====' }],
    ['a PNG header claiming 65535x65535', { format: 'PNG', data: b64(craftedPng(65535, 65535, deflateSync(Buffer.alloc(100)))) }],
    ['a PNG header claiming 2^31x1', { format: 'PNG', data: b64(craftedPng(2 ** 31, 1, deflateSync(Buffer.alloc(100)))) }],
    ['a PNG of 0x0', { format: 'PNG', data: b64(craftedPng(0, 0, deflateSync(Buffer.alloc(1)))) }],
    ['a zlib bomb (256x256)', { format: 'PNG', data: b64(craftedPng(256, 256, bomb)) }],
    ['an interlaced zlib bomb (256x256)', { format: 'PNG', data: b64(craftedPng(256, 256, bomb, { interlace: true })) }],
    [
      'an interlaced zlib bomb (16-bit RGBA)',
      { format: 'PNG', data: b64(craftedPng(64, 64, bomb, { interlace: true, colorType: 6, depth: 16 })) },
    ],
    ['a truncated PNG', { format: 'PNG', data: b64(good.subarray(0, 30)) }],
    ['a PNG with a bad CRC', { format: 'PNG', data: b64(corrupt) }],
    ['a palette PNG without a palette', { format: 'PNG', data: b64(craftedPng(8, 8, deflateSync(Buffer.alloc(8 * 9)), { colorType: 3 })) }],
    ['a bad bit depth', { format: 'PNG', data: b64(craftedPng(8, 8, deflateSync(Buffer.alloc(8 * 9)), { depth: 7 })) }],
    ['garbage IDAT', { format: 'PNG', data: b64(craftedPng(8, 8, Buffer.from('not zlib at all'))) }],
    ['A8 of the wrong length', { format: 'A8', width: 32, height: 32, data: b64(disc.subarray(0, 100)) }],
    ['A8 without a size', { format: 'A8', data: b64(disc) }],
    ['A8 of width 0', { format: 'A8', width: 0, height: 32, data: b64(disc) }],
    ['A8 of negative width', { format: 'A8', width: -32, height: -32, data: b64(disc) }],
    ['A8 of 65536x65536', { format: 'A8', width: 65536, height: 65536, data: b64(disc) }],
    ['A8 with a width over Int', { format: 'A8', width: 2 ** 31, height: 1, data: b64(disc) }],
    ['A8 with a fractional width', { format: 'A8', width: 3.5, height: 1, data: b64(disc) }],
    ['an unknown format', { format: 'JPEG', data: b64(good) }],
    ['a number as data', { format: 'PNG', data: 12345 }],
    ['an array as data', { format: 'PNG', data: [b64(good)] }],
    ['an oversized upload', { format: 'A8', width: 256, height: 256, data: 'A'.repeat(400_000) }],
  ];
}

// ---------------------------------------------------------------------------------------------
// Operations from the schema.

const SCHEMA = buildSchema(readFileSync(new URL('../../../packages/schema/schema.graphql', import.meta.url), 'utf8'));
/** Root fields never fuzzed with the suite's own credentials: they would end its session. */
const NOT_FUZZED = new Set(['signOut']);

interface Built {
  query: string;
  variables?: Record<string, unknown>;
  operation: 'query' | 'mutation' | 'subscription';
  /** Root fields selected (a mutation's fields run one after another: one failing nulls the answer). */
  rootFields: number;
}

/** A random operation: root fields, arguments (as variables or literals), a random selection. */
function randomOperation(r: Rng, pools: Pools, p: number): Built {
  const operation = r.pick(['query', 'query', 'mutation', 'mutation', 'mutation', 'subscription'] as const);
  const root = (
    operation === 'query' ? SCHEMA.getQueryType() : operation === 'mutation' ? SCHEMA.getMutationType() : SCHEMA.getSubscriptionType()
  )!;
  const fields = Object.values(root.getFields()).filter((f) => !NOT_FUZZED.has(f.name));
  const declarations: string[] = [];
  const variables: Record<string, unknown> = {};
  const selections: string[] = [];
  const count = operation === 'subscription' ? 1 : 1 + (r.chance(0.2) ? r.int(3) : 0);
  for (let i = 0; i < count; i++) {
    const field = r.chance(0.03) ? null : r.pick(fields);
    if (!field) {
      selections.push(r.pick(['nope', 'scene', '__schema { types { name } }', '__type(name: "Scene") { fields { name } }', '__typename']));
      continue;
    }
    const alias = count > 1 || r.chance(0.1) ? `f${i}: ` : '';
    selections.push(
      `${alias}${field.name}${argsOf(r, field, pools, p, declarations, variables)}${selectionOf(r, field.type, pools, p, 0)}`,
    );
  }
  const header = declarations.length ? `(${declarations.join(', ')})` : '';
  return { query: `${operation}${header} { ${selections.join(' ')} }`, variables, operation, rootFields: selections.length };
}

function argsOf(
  r: Rng,
  field: GraphQLField<unknown, unknown>,
  pools: Pools,
  p: number,
  declarations: string[] | null,
  variables: Record<string, unknown>,
): string {
  const parts: string[] = [];
  for (const arg of field.args) {
    if (!isNonNullType(arg.type) && !r.chance(0.5)) continue;
    if (isNonNullType(arg.type) && r.chance(p / 3)) continue; // a required argument left out
    const value = valueOf(r, arg.type, arg.name, pools, p);
    if (declarations && r.chance(0.6)) {
      const name = `v${declarations.length}`;
      const declared = r.chance(p / 3) ? r.pick(['Int', 'String!', '[ID!]!', 'NoSuchType', 'BoxInput', 'JSONObject']) : String(arg.type);
      declarations.push(`$${name}: ${declared}`);
      if (!(value === undefined || (value === null && r.chance(0.3)))) variables[name] = value;
      parts.push(`${arg.name}: $${name}`);
    } else {
      parts.push(`${arg.name}: ${literal(value, true)}`);
    }
  }
  if (r.chance(p / 4)) parts.push(`unknownArgument: ${literal(hostile(r))}`);
  if (r.chance(p / 6) && parts.length) parts.push(parts[0]!); // a duplicated argument
  return parts.length ? `(${parts.join(', ')})` : '';
}

function selectionOf(r: Rng, type: GraphQLOutputType, pools: Pools, p: number, depth: number): string {
  const named = getNamedType(type) as GraphQLNamedType;
  if (isLeafType(named)) return r.chance(p / 5) ? ' { id }' : '';
  const inner: string[] = [];
  if (isObjectType(named) || isInterfaceType(named)) {
    const fields = Object.values((named as GraphQLObjectType).getFields());
    const n = 1 + r.int(depth > 4 ? 2 : 4);
    for (let i = 0; i < n; i++) {
      const field = r.pick(fields);
      const goDeeper = depth < 14 && r.chance(depth > 3 ? 0.5 : 0.85);
      const sub = isLeafType(getNamedType(field.type))
        ? ''
        : goDeeper
          ? selectionOf(r, field.type, pools, p, depth + 1)
          : ' { __typename }';
      inner.push(`${i > 0 ? `a${depth}_${i}: ` : ''}${field.name}${argsOf(r, field, pools, p, null, {})}${sub}`);
    }
  }
  if (isInterfaceType(named) || isUnionType(named)) {
    const members = SCHEMA.getPossibleTypes(named);
    for (const member of members) if (r.chance(0.4)) inner.push(`... on ${member.name}${selectionOf(r, member, pools, p, depth + 1)}`);
  }
  if (r.chance(0.1)) inner.push('__typename');
  if (r.chance(p / 5)) inner.push(r.pick(['noSuchField', 'id(x: 1)', '... on Query { __typename }']));
  return ` { ${inner.join(' ') || '__typename'} }`;
}

/** One of the app's typed documents with plausible variables, maybe mutated. */
function typedOperation(r: Rng, pools: Pools, p: number): Built {
  const doc = r.pick(TYPED);
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  const variables: Record<string, unknown> = {};
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(SCHEMA, def.type as never) as GraphQLInputType | undefined;
    if (!type) continue;
    if (isNonNullType(type) || r.chance(0.5)) variables[name] = valueOf(r, type, name, pools, 0);
  }
  const mutated = r.chance(0.4 + p) ? (mutateDeep(r, variables, 1) as Record<string, unknown>) : variables;
  const variablesOut = mutated && typeof mutated === 'object' ? mutated : { v: mutated };
  return { query: print(doc), variables: variablesOut, operation: operation.operation, rootFields: 1 };
}

const TYPED: DocumentNode[] = Object.entries(documents)
  .filter(([name, value]) => name.endsWith('Document') && typeof value === 'object' && name !== 'SignOutDocument')
  .map(([, value]) => value as DocumentNode);

/** addObject with the named mask. */
function maskOperationOf(pools: Pools, name: string): Built {
  const upload = MASKS.find(([n]) => n === name)![1];
  return {
    operation: 'mutation',
    rootFields: 1,
    query: 'mutation($s: ID!, $i: AddObjectInput!) { addObject(sceneId: $s, input: $i) { revision lastSeq } }',
    variables: {
      s: pools.scenes[0],
      i: { category: pools.categories[0], box: { x: 0.1, y: 0.1, w: 0.5, h: 0.5 }, shape: { kind: 'DRAWN', mask: upload } },
    },
  };
}

/** A mask upload in addObject or updateObject. */
function maskOperation(r: Rng, pools: Pools): Built & { mask: string } {
  const [mask, upload] = r.pick(MASKS);
  const shape = { kind: 'DRAWN', mask: upload };
  if (r.chance(0.6) || pools.layers.length === 0)
    return {
      mask,
      operation: 'mutation',
      rootFields: 1,
      query:
        'mutation($s: ID!, $i: AddObjectInput!) { addObject(sceneId: $s, input: $i) { revision lastSeq layers { id object { shape { kind maskWidth maskHeight } } } } }',
      variables: { s: pools.scenes[0], i: { category: r.pick(pools.categories), box: validBox(r), shape } },
    };
  return {
    mask,
    operation: 'mutation',
    rootFields: 1,
    query: 'mutation($s: ID!, $l: ID!, $i: UpdateObjectInput!) { updateObject(sceneId: $s, layerId: $l, input: $i) { revision lastSeq } }',
    variables: { s: pools.scenes[0], l: r.pick(pools.layers), i: { shape } },
  };
}

// ---------------------------------------------------------------------------------------------
// The checks.

interface Failure {
  seed: number;
  what: string;
  problem: string;
}

type GqlError = { message?: unknown; extensions?: { code?: unknown } };

/** Problems with the errors of one GraphQL answer (untyped or unknown codes, masked internals). */
function errorProblems(body: unknown): string[] {
  const problems: string[] = [];
  if (!body || typeof body !== 'object') return problems;
  const errors = (body as { errors?: unknown }).errors;
  if (errors === undefined) return problems;
  if (!Array.isArray(errors)) return [`errors is not a list: ${JSON.stringify(errors).slice(0, 200)}`];
  for (const e of errors as GqlError[]) {
    const code = e?.extensions?.code;
    if (typeof code !== 'string' || !CODES.has(code)) problems.push(`error without a known code: ${JSON.stringify(e).slice(0, 300)}`);
    else if (code === 'INTERNAL_SERVER_ERROR') problems.push(`internal error: ${JSON.stringify(e).slice(0, 300)}`);
  }
  return problems;
}

interface HttpResult {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

async function send(url: string, init: RequestInit): Promise<HttpResult> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body, text };
}

/** An HTTP answer's problems: 5xx, untyped errors, an answer on /graphql that is not JSON. */
function httpProblems(result: HttpResult): string[] {
  const problems: string[] = [];
  if (result.status >= 500) problems.push(`HTTP ${result.status}: ${result.text.slice(0, 300)}`);
  if (result.body === undefined) {
    if (result.status !== 200 || result.text.length > 0)
      problems.push(`not JSON (HTTP ${result.status}, ${result.contentType}): ${result.text.slice(0, 200)}`);
  } else {
    const bodies = Array.isArray(result.body) ? result.body : [result.body];
    for (const b of bodies) problems.push(...errorProblems(b));
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket sessions.

type Frame =
  { text: string } | { binary: Buffer } | { wait: number } | { awaitAck: true } | { wsPing: true } | { awaitDone: string; ms: number };

interface WsResult {
  messages: Record<string, unknown>[];
  unparsable: string[];
  closeCode: number | null;
  closeReason: string;
  errored: string | null;
}

async function wsSession(url: string, protocol: string | null, frames: Frame[], quietMs = 120, maxMs = 4000): Promise<WsResult> {
  const socket = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
  const result: WsResult = { messages: [], unparsable: [], closeCode: null, closeReason: '', errored: null };
  let lastActivity = Date.now();
  let ackWaiter: (() => void) | null = null;
  const doneWaiters = new Map<string, () => void>();
  const closed = new Promise<void>((resolve) => {
    socket.on('close', (code, reason) => {
      result.closeCode = code;
      result.closeReason = String(reason);
      ackWaiter?.();
      for (const w of doneWaiters.values()) w();
      resolve();
    });
  });
  socket.on('error', (error) => {
    result.errored = error.message;
  });
  socket.on('message', (data) => {
    lastActivity = Date.now();
    const text = Buffer.isBuffer(data) ? data.toString() : Buffer.from(data as ArrayBuffer).toString();
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      result.unparsable.push(text.slice(0, 200));
      return;
    }
    result.messages.push(message);
    if (message['type'] === 'connection_ack') ackWaiter?.();
    if ((message['type'] === 'complete' || message['type'] === 'error') && typeof message['id'] === 'string')
      doneWaiters.get(message['id'])?.();
  });
  const opened = await new Promise<boolean>((resolve) => {
    socket.once('open', () => resolve(true));
    socket.once('close', () => resolve(false));
    socket.once('unexpected-response', (_req, res) => {
      result.errored = `unexpected response ${res.statusCode}`;
      resolve(false);
    });
  });
  const started = Date.now();
  if (opened) {
    for (const frame of frames) {
      if (socket.readyState !== WebSocket.OPEN) break;
      if ('text' in frame) socket.send(frame.text);
      else if ('binary' in frame) socket.send(frame.binary, { binary: true });
      else if ('wsPing' in frame) socket.ping();
      else if ('wait' in frame) await new Promise((r) => setTimeout(r, frame.wait));
      else if ('awaitAck' in frame) {
        if (!result.messages.some((m) => m['type'] === 'connection_ack'))
          await Promise.race([new Promise<void>((r) => (ackWaiter = r)), new Promise((r) => setTimeout(r, 2000))]);
      } else if ('awaitDone' in frame) {
        if (!result.messages.some((m) => m['id'] === frame.awaitDone && (m['type'] === 'complete' || m['type'] === 'error')))
          await Promise.race([new Promise<void>((r) => doneWaiters.set(frame.awaitDone, r)), new Promise((r) => setTimeout(r, frame.ms))]);
      }
    }
    while (socket.readyState === WebSocket.OPEN && Date.now() - lastActivity < quietMs && Date.now() - started < maxMs) {
      await new Promise((r) => setTimeout(r, 20));
    }
    if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000, 'done');
  }
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  if (socket.readyState !== WebSocket.CLOSED) socket.terminate();
  return result;
}

function wsProblems(result: WsResult, expectOpen: boolean): string[] {
  const problems: string[] = [];
  if (result.unparsable.length) problems.push(`non-JSON messages from the server: ${result.unparsable.join(' | ')}`);
  if (expectOpen && result.errored && result.closeCode === null) problems.push(`socket error: ${result.errored}`);
  if (result.closeCode !== null && !CLIENT_CLOSE_CODES.has(result.closeCode))
    problems.push(`closed with ${result.closeCode} ${result.closeReason} (client saw: ${result.errored ?? 'no error'})`);
  for (const m of result.messages) {
    const type = m['type'];
    if (!['connection_ack', 'next', 'error', 'complete', 'ping', 'pong'].includes(String(type)))
      problems.push(`unknown message from the server: ${JSON.stringify(m).slice(0, 200)}`);
    if (type === 'next') problems.push(...errorProblems(m['payload']));
    if (type === 'error') problems.push(...errorProblems({ errors: m['payload'] }));
  }
  return problems;
}

const msg = (value: unknown) => ({ text: toJson(value) });

// ---------------------------------------------------------------------------------------------
// The cases.

interface Ctx {
  server: TestServer;
  pools: Pools;
}

interface CaseOutcome {
  what: string;
  problems: string[];
  /** A mutation that may have been refused as a whole (the pool scenes must be unchanged then). */
  mutation?: { refused: boolean };
}

/**
 * Whether an answer refused the whole operation: refused before it ran (errors without a path), or
 * its only root field failed as a whole (an error at that field, none inside its selection, which
 * would mean it ran). With several root fields, one that failed nulls the answer of those that ran.
 */
function refusedWhole(body: unknown, rootFields: number): boolean {
  if (!body || typeof body !== 'object') return true;
  const { data, errors } = body as {
    data?: Record<string, unknown> | null;
    errors?: { path?: unknown[]; extensions?: Record<string, unknown> }[];
  };
  if (!errors?.length) return false;
  if (errors.some((e) => e.extensions?.['reason'] === 'RESPONSE_TOO_LARGE')) return false;
  if (errors.every((e) => !Array.isArray(e.path))) return true;
  if (rootFields !== 1 || errors.some((e) => Array.isArray(e.path) && e.path.length > 1)) return false;
  return !data || Object.values(data).every((v) => v === null || v === undefined);
}

async function httpOperation(ctx: Ctx, built: Built, r: Rng): Promise<CaseOutcome> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (r.chance(0.95)) headers['authorization'] = `Bearer ${ctx.server.token}`;
  const result = await send(`${ctx.server.url}/graphql`, {
    method: 'POST',
    headers,
    body: toJson({ query: built.query, variables: built.variables }),
  });
  return {
    what: `HTTP ${built.operation}: ${built.query.slice(0, 300)} ${toJson(built.variables ?? {}).slice(0, 300)}`,
    problems: httpProblems(result),
    ...(built.operation === 'mutation' ? { mutation: { refused: refusedWhole(result.body, built.rootFields) } } : {}),
  };
}

async function wsOperation(ctx: Ctx, built: Built, r: Rng): Promise<CaseOutcome> {
  const payload: Record<string, unknown> = { query: built.query };
  if (built.variables && Object.keys(built.variables).length) payload['variables'] = built.variables;
  const subscribe = msg({ id: '1', type: 'subscribe', payload });
  // Raw NaN/Infinity in the variables: not JSON, which the protocol answers by closing with 4400.
  // So is a payload whose variables are not an object (graphql-ws checks the message's shape).
  const malformed = (() => {
    try {
      const variables = (JSON.parse(subscribe.text) as { payload: { variables?: unknown } }).payload.variables;
      return variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables));
    } catch {
      return true;
    }
  })();
  const frames: Frame[] = [
    msg({ type: 'connection_init', payload: r.chance(0.9) ? { authorization: `Bearer ${ctx.server.token}` } : {} }),
    { awaitAck: true },
    subscribe,
    { awaitDone: '1', ms: built.operation === 'subscription' ? 300 : 3000 },
    msg({ id: '1', type: 'complete' }),
  ];
  const result = await wsSession(ctx.server.wsUrl, 'graphql-transport-ws', frames, 10);
  const problems = wsProblems(result, true);
  const first = result.messages.find((m) => m['id'] === '1' && (m['type'] === 'next' || m['type'] === 'error'));
  const body = first?.['type'] === 'error' ? { errors: first['payload'] } : first?.['payload'];
  if (malformed) {
    if (result.closeCode !== 4400) problems.push(`a message that is not JSON was not closed with 4400 but ${result.closeCode}`);
  } else {
    if (result.closeCode !== 1000 && result.closeCode !== 1005)
      problems.push(`a valid session was closed with ${result.closeCode} ${result.closeReason}`);
    if (built.operation !== 'subscription' && !first) problems.push('no answer to the operation');
  }
  return {
    what: `WS ${built.operation}: ${built.query.slice(0, 300)} ${toJson(built.variables ?? {}).slice(0, 300)}`,
    problems,
    ...(built.operation === 'mutation' ? { mutation: { refused: refusedWhole(body, built.rootFields) } } : {}),
  };
}

/** Malformed or unusual HTTP requests. */
async function httpBody(ctx: Ctx, r: Rng): Promise<CaseOutcome> {
  const url = `${ctx.server.url}/graphql`;
  const auth = { authorization: `Bearer ${ctx.server.token}` };
  const json = { 'content-type': 'application/json', ...auth };
  const small = '{ model { version } }';
  const variants: [string, () => RequestInit & { url?: string }][] = [
    ['truncated JSON', () => ({ method: 'POST', headers: json, body: '{"query": ' })],
    ['NaN in JSON', () => ({ method: 'POST', headers: json, body: `{"query": "${small}", "variables": {"x": NaN}}` })],
    ['JSON null', () => ({ method: 'POST', headers: json, body: 'null' })],
    ['a JSON string', () => ({ method: 'POST', headers: json, body: '"{ __typename }"' })],
    ['a JSON number', () => ({ method: 'POST', headers: json, body: '123' })],
    ['an empty object', () => ({ method: 'POST', headers: json, body: '{}' })],
    ['an empty body', () => ({ method: 'POST', headers: json, body: '' })],
    ['query is a number', () => ({ method: 'POST', headers: json, body: '{"query": 1}' })],
    ['query is null', () => ({ method: 'POST', headers: json, body: '{"query": null}' })],
    ['query is an object', () => ({ method: 'POST', headers: json, body: '{"query": {"a": 1}}' })],
    ['variables is a string', () => ({ method: 'POST', headers: json, body: toJson({ query: small, variables: 'x' }) })],
    ['variables is a list', () => ({ method: 'POST', headers: json, body: toJson({ query: small, variables: [1] }) })],
    ['operationName is a number', () => ({ method: 'POST', headers: json, body: toJson({ query: small, operationName: 5 }) })],
    [
      'an unknown operationName',
      () => ({ method: 'POST', headers: json, body: toJson({ query: 'query A { me { id } } query B { me { id } }', operationName: 'C' }) }),
    ],
    [
      'two operations, no name',
      () => ({ method: 'POST', headers: json, body: toJson({ query: 'query A { me { id } } query B { me { id } }' }) }),
    ],
    ['extensions is a string', () => ({ method: 'POST', headers: json, body: toJson({ query: small, extensions: 'x' }) })],
    [
      'a persisted query hash',
      () => ({
        method: 'POST',
        headers: json,
        body: toJson({ extensions: { persistedQuery: { version: 1, sha256Hash: 'ab'.repeat(32) } } }),
      }),
    ],
    ['trailing garbage', () => ({ method: 'POST', headers: json, body: `{"query": "${small}"} trailing` })],
    ['a BOM', () => ({ method: 'POST', headers: json, body: `\uFEFF{"query": "${small}"}` })],
    [
      '__proto__ keys',
      () => ({
        method: 'POST',
        headers: json,
        body: `{"__proto__": {"query": "{ me { id } }"}, "query": "${small}", "variables": {"__proto__": {"a": 1}}}`,
      }),
    ],
    ['duplicate keys', () => ({ method: 'POST', headers: json, body: `{"query": "{ nope }", "query": "${small}"}` })],
    [
      'deeply nested variables',
      () => ({
        method: 'POST',
        headers: json,
        body: `{"query": "${small}", "variables": {"a": ${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
      }),
    ],
    [
      'a 2 MB body',
      () => ({ method: 'POST', headers: json, body: toJson({ query: small, variables: { a: 'x'.repeat(2 * 1024 * 1024) } }) }),
    ],
    [
      'a gzip bomb',
      () => ({
        method: 'POST',
        headers: { ...json, 'content-encoding': 'gzip' },
        body: gzipSync(Buffer.from(toJson({ query: small, variables: { a: 'x'.repeat(20 * 1024 * 1024) } }))),
      }),
    ],
    [
      'a lying content-encoding',
      () => ({
        method: 'POST',
        headers: { ...json, 'content-encoding': r.pick(['gzip', 'br', 'deflate', 'identity, gzip', 'zstd']) },
        body: `{"query": "${small}"}`,
      }),
    ],
    [
      'invalid UTF-8',
      () => ({
        method: 'POST',
        headers: json,
        body: Buffer.concat([Buffer.from('{"query": "{ model { version } } #'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
      }),
    ],
    [
      'charset utf-16',
      () => ({ method: 'POST', headers: { ...auth, 'content-type': 'application/json; charset=utf-16' }, body: `{"query": "${small}"}` }),
    ],
    [
      'charset nonsense',
      () => ({ method: 'POST', headers: { ...auth, 'content-type': 'application/json; charset=nope' }, body: `{"query": "${small}"}` }),
    ],
    ['text/plain', () => ({ method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: `{"query": "${small}"}` })],
    [
      'form encoded',
      () => ({
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${encodeURIComponent(small)}`,
      }),
    ],
    [
      'multipart',
      () => ({
        method: 'POST',
        headers: { ...auth, 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{}\r\n--x--',
      }),
    ],
    ['application/graphql', () => ({ method: 'POST', headers: { ...auth, 'content-type': 'application/graphql' }, body: small })],
    ['no content type', () => ({ method: 'POST', headers: auth, body: `{"query": "${small}"}` })],
    [
      'graphql-response+json',
      () => ({
        method: 'POST',
        headers: { ...json, accept: 'application/graphql-response+json' },
        body: toJson({ query: r.pick([small, '{ nope }', '{']) }),
      }),
    ],
    ['accept nothing we serve', () => ({ method: 'POST', headers: { ...json, accept: 'image/png' }, body: toJson({ query: small }) })],
    ['a batch', () => ({ method: 'POST', headers: json, body: toJson([{ query: small }, { query: '{ me { id } }' }]) })],
    ['a batch of 1000', () => ({ method: 'POST', headers: json, body: toJson(Array.from({ length: 1000 }, () => ({ query: small }))) })],
    ['an empty batch', () => ({ method: 'POST', headers: json, body: '[]' })],
    [
      'GET with a query',
      () => ({ url: `${url}?query=${encodeURIComponent(small)}`, method: 'GET', headers: { ...auth, 'apollo-require-preflight': 'true' } }),
    ],
    ['GET without a preflight header', () => ({ url: `${url}?query=${encodeURIComponent(small)}`, method: 'GET', headers: auth })],
    [
      'GET with bad variables',
      () => ({
        url: `${url}?query=${encodeURIComponent(small)}&variables=%7Bnot%20json`,
        method: 'GET',
        headers: { ...auth, 'apollo-require-preflight': 'true' },
      }),
    ],
    [
      'GET with repeated query params',
      () => ({
        url: `${url}?query=a&query=b&operationName=x&operationName=y`,
        method: 'GET',
        headers: { ...auth, 'apollo-require-preflight': 'true' },
      }),
    ],
    [
      'GET of a mutation',
      () => ({
        url: `${url}?query=${encodeURIComponent(`mutation { createScene(input: {title: "via GET"}) { id } }`)}`,
        method: 'GET',
        headers: { ...auth, 'apollo-require-preflight': 'true' },
      }),
    ],
    ['GET without a query', () => ({ url, method: 'GET', headers: { ...auth, 'apollo-require-preflight': 'true' } })],
    [
      'GET with a bad percent-encoding',
      () => ({ url: `${url}?query=%E0%A4%A`, method: 'GET', headers: { ...auth, 'apollo-require-preflight': 'true' } }),
    ],
    ['PUT', () => ({ method: 'PUT', headers: json, body: toJson({ query: small }) })],
    ['DELETE', () => ({ method: 'DELETE', headers: json })],
    ['PATCH', () => ({ method: 'PATCH', headers: json, body: toJson({ query: small }) })],
    ['OPTIONS', () => ({ method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })],
    [
      'a malformed bearer',
      () => ({
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: r.pick(['Bearer', 'Bearer ', 'Bearer a b', 'Basic YTpi', `Bearer ${'x'.repeat(8000)}`, 'Bearer strata_pat_nope']),
        },
        body: toJson({ query: small }),
      }),
    ],
    [
      'a junk cookie',
      () => ({
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: r.pick([
            'strata_session=%E0%A4%A',
            'strata_session=',
            `strata_session=${'a'.repeat(4000)}`,
            'strata_session=a.b.c; strata_session=d',
          ]),
        },
        body: toJson({ query: small }),
      }),
    ],
    ['a huge header', () => ({ method: 'POST', headers: { ...json, 'x-junk': 'x'.repeat(12_000) }, body: toJson({ query: small }) })],
    ['a null byte in the query', () => ({ method: 'POST', headers: json, body: toJson({ query: '{ model { version } }\u0000' }) })],
    [
      'deep inline fragments',
      () => ({
        method: 'POST',
        headers: json,
        body: toJson({ query: `{ ${'... on Query { '.repeat(1200)} __typename ${'}'.repeat(1200)} }` }),
      }),
    ],
    [
      'deep list literal',
      () => ({ method: 'POST', headers: json, body: toJson({ query: `{ scene(id: ${'['.repeat(2000)}"a"${']'.repeat(2000)}) { id } }` }) }),
    ],
    [
      'deep object literal',
      () => ({
        method: 'POST',
        headers: json,
        body: toJson({ query: `mutation { importScene(document: ${'{a: '.repeat(1500)}1${'}'.repeat(1500)}) { id } }` }),
      }),
    ],
    [
      'deep JSON document',
      () => {
        const depth = r.pick([1000, 8000, 50_000]);
        const document = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        return {
          method: 'POST',
          headers: json,
          body: `{"query": "mutation($d: JSONObject!) { importScene(document: $d) { id } }", "variables": {"d": ${document}}}`,
        };
      },
    ],
    [
      'a fragment cycle',
      () => ({
        method: 'POST',
        headers: json,
        body: toJson({ query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }' }),
      }),
    ],
    [
      'many directives',
      () => ({ method: 'POST', headers: json, body: toJson({ query: `{ model ${'@include(if: true) '.repeat(400)} { version } }` }) }),
    ],
    ['an unknown directive', () => ({ method: 'POST', headers: json, body: toJson({ query: '{ model @nope { version } }' }) })],
    [
      'a long string literal',
      () => ({
        method: 'POST',
        headers: json,
        body: toJson({ query: `mutation { renameScene(sceneId: "${ctx.pools.scenes[0]}", title: "${'x'.repeat(60_000)}") { revision } }` }),
      }),
    ],
    [
      'a block string',
      () => ({
        method: 'POST',
        headers: json,
        body: toJson({ query: `mutation { createScene(input: {title: """${'\n'.repeat(3000)}x"""}) { id } }` }),
      }),
    ],
  ];
  const [name, make] = r.pick(variants);
  const init = make();
  const result = await send(init.url ?? url, init);
  const problems = httpProblems(result);
  return { what: `HTTP request: ${name}`, problems: problems.filter((p) => !(result.status === 204 && p.startsWith('not JSON'))) };
}

/** Hand-made WebSocket sessions: out-of-order and malformed protocol messages. */
async function wsFrames(ctx: Ctx, r: Rng): Promise<CaseOutcome> {
  const init = msg({ type: 'connection_init', payload: { authorization: `Bearer ${ctx.server.token}` } });
  const sub = (id: unknown, query = '{ model { version } }', extra: Record<string, unknown> = {}) =>
    msg({ id, type: 'subscribe', payload: { query, ...extra } });
  const stream = (id: string) =>
    sub(id, 'subscription($s: ID!) { sceneEvents(sceneId: $s) { seq } }', { variables: { s: ctx.pools.scenes[0] } });
  const variants: [string, () => Frame[], string?][] = [
    ['non-JSON text', () => [{ text: r.pick(['hello', '{', '[]', 'null', '"x"', '1', '{"type":', '\u0000']) }]],
    ['non-JSON after init', () => [init, { awaitAck: true }, { text: '{not json' }]],
    [
      'a binary frame',
      () => [{ binary: Buffer.from(r.pick([[0, 1, 2, 255], [0xff, 0xfe], Array.from(Buffer.from('{"type":"connection_init"}'))])) }],
    ],
    ['a binary connection_init', () => [{ binary: Buffer.from(toJson({ type: 'connection_init' })) }, { awaitAck: true }, sub('1')]],
    ['subscribe before connection_init', () => [sub('1')]],
    ['subscribe without waiting for the ack', () => [init, sub('1')]],
    ['two connection_inits', () => [init, init]],
    ['connection_init with a list payload', () => [msg({ type: 'connection_init', payload: [1, 2] })]],
    ['connection_init with a string payload', () => [msg({ type: 'connection_init', payload: 'x' })]],
    [
      'connection_init with odd credentials',
      () => [
        msg({
          type: 'connection_init',
          payload: r.pick([
            { authorization: 12345 },
            { authorization: { a: 1 } },
            { token: [] },
            { authorization: 'Bearer' },
            { authorization: 'Bearer nope' },
            { Authorization: `Bearer ${'x'.repeat(100_000)}` },
          ]),
        }),
        { awaitAck: true },
        sub('1'),
      ],
    ],
    ['duplicate ids', () => [init, { awaitAck: true }, stream('same'), stream('same')]],
    [
      'a reused id after complete',
      () => [init, { awaitAck: true }, sub('a'), { awaitDone: 'a', ms: 2000 }, sub('a'), { awaitDone: 'a', ms: 2000 }],
    ],
    ['a huge id', () => [init, { awaitAck: true }, sub('i'.repeat(r.pick([10_000, 500_000])))]],
    ['an over-limit message', () => [init, { awaitAck: true }, sub('1', `{ model { version } } # ${'x'.repeat(1_100_000)}`)]],
    ['non-string ids', () => [init, { awaitAck: true }, sub(r.pick([1, null, {}, [], true, '']))]],
    [
      'an unknown message type',
      () => [
        init,
        { awaitAck: true },
        msg({ type: r.pick(['start', 'stop', 'connection_terminate', 'ka', 'data', 'SUBSCRIBE', '']), id: '1', payload: {} }),
      ],
    ],
    ['a message without a type', () => [init, { awaitAck: true }, msg({ id: '1', payload: { query: '{ __typename }' } })]],
    [
      'a ping storm',
      () => [
        init,
        { awaitAck: true },
        ...Array.from({ length: 300 }, () => msg({ type: 'ping', ...(r.chance(0.5) ? { payload: { n: 1 } } : {}) })),
      ],
    ],
    ['a pong storm', () => [init, ...Array.from({ length: 300 }, () => msg({ type: 'pong' }))]],
    // (Past ~70 unanswered ping frames, ws itself stalls that connection, both ends being ws: the peer
    // that floods only stalls itself, and the keepalive ends it. Not a server fault: kept under that.)
    ['WebSocket ping frames', () => [init, { awaitAck: true }, ...Array.from({ length: 40 }, () => ({ wsPing: true as const }))]],
    ['ping before init', () => [msg({ type: 'ping' }), init, { awaitAck: true }, sub('1')]],
    [
      'complete for unknown ids',
      () => [init, { awaitAck: true }, ...Array.from({ length: 50 }, (_, i) => msg({ type: 'complete', id: `nope${i}` }))],
    ],
    ['complete before init', () => [msg({ type: 'complete', id: '1' })]],
    [
      'complete twice',
      () => [init, { awaitAck: true }, stream('s'), { wait: 30 }, msg({ type: 'complete', id: 's' }), msg({ type: 'complete', id: 's' })],
    ],
    [
      'a subscribe payload that is not an object',
      () => [
        init,
        { awaitAck: true },
        msg({
          id: '1',
          type: 'subscribe',
          payload: r.pick([
            null,
            'x',
            1,
            [],
            { query: 1 },
            { query: null },
            { query: '{ __typename }', variables: 'x' },
            { query: '{ __typename }', variables: [1] },
            { query: '{ __typename }', extensions: 'x' },
            { query: '{ __typename }', operationName: 5 },
          ]),
        }),
      ],
    ],
    ['many streams at once', () => [init, { awaitAck: true }, ...Array.from({ length: 40 }, (_, i) => stream(`s${i}`))]],
    [
      'a stream of a scene that is not there',
      () => [
        init,
        { awaitAck: true },
        msg({
          id: '1',
          type: 'subscribe',
          payload: {
            query: 'subscription($s: ID!, $a: Int) { sceneEvents(sceneId: $s, after: $a) { seq } }',
            variables: { s: r.pick([...JUNK_IDS, ctx.pools.foreignScene]), a: r.pick([null, -1, 2 ** 31 - 1, 999_999]) },
          },
        }),
        { awaitDone: '1', ms: 1000 },
      ],
    ],
    [
      'a cursor past the end',
      () => [
        init,
        { awaitAck: true },
        msg({
          id: '1',
          type: 'subscribe',
          payload: {
            query: 'subscription($s: ID!, $a: Int) { sceneEvents(sceneId: $s, after: $a) { seq } }',
            variables: { s: ctx.pools.scenes[0], a: r.pick([999_999, 2 ** 31 - 1]) },
          },
        }),
        { awaitDone: '1', ms: 1000 },
      ],
    ],
    ['a wrong subprotocol', () => [init], 'graphql-ws'],
    ['no subprotocol', () => [init], ''],
    ['close right after subscribe', () => [init, { awaitAck: true }, stream('1')]],
  ];
  const [name, make, protocol] = r.pick(variants);
  const frames = make();
  const result = await wsSession(ctx.server.wsUrl, protocol === '' ? null : (protocol ?? 'graphql-transport-ws'), frames, 50);
  const problems = wsProblems(result, protocol === undefined);
  // A subprotocol the server does not speak: it answers without one, and the client (ws) gives up
  // on its own (1006) before the server's 4406 can arrive.
  if (protocol === 'graphql-ws' && result.closeCode === 1006 && /subprotocol/i.test(result.errored ?? ''))
    return { what: `WS frames: ${name}`, problems: problems.filter((p) => !p.startsWith('closed with 1006')) };
  return { what: `WS frames: ${name}`, problems };
}

async function runCase(ctx: Ctx, seed: number): Promise<CaseOutcome> {
  const r = rng(seed);
  const kind = r();
  const p = r.pick([0.05, 0.15, 0.35]);
  if (kind < 0.25) return httpOperation(ctx, randomOperation(r, ctx.pools, p), r);
  if (kind < 0.45) return httpOperation(ctx, typedOperation(r, ctx.pools, p), r);
  if (kind < 0.6) return httpBody(ctx, r);
  if (kind < 0.7) return wsOperation(ctx, r.chance(0.5) ? randomOperation(r, ctx.pools, p) : typedOperation(r, ctx.pools, p), r);
  if (kind < 0.85) return wsFrames(ctx, r);
  const built = maskOperation(r, ctx.pools);
  const outcome = await (r.chance(0.7) ? httpOperation(ctx, built, r) : wsOperation(ctx, built, r));
  return { ...outcome, what: `mask (${built.mask}): ${outcome.what}` };
}

// ---------------------------------------------------------------------------------------------
// The harness around the cases: pools, state checks, health.

interface SceneState {
  revision: number;
  lastSeq: number;
  layers: { id: string }[];
}

/** The pool scenes as stored, once their renders are done (null for one that is gone). */
async function poolState(ctx: Ctx): Promise<(SceneState | null)[]> {
  const { store, coordinator } = ctx.server.app;
  await Promise.all(ctx.pools.scenes.map((id) => coordinator.idle(id)));
  return Promise.all(
    ctx.pools.scenes.map(async (id) => {
      const scene = await store.getScene(id);
      return scene ? { revision: scene.revision, lastSeq: await store.lastSeq(id), layers: scene.layers.map((l) => ({ id: l.id })) } : null;
    }),
  );
}

async function newPoolScene(server: TestServer, title: string, withLayers: boolean): Promise<{ id: string; layers: string[] }> {
  const created = await server.gql(CreateSceneDocument, { input: { title, seed: 7 } });
  const id = created.data!.createScene.id;
  const layers: string[] = [];
  if (withLayers) {
    for (const category of ['tree', 'rock']) {
      const added = await server.gql(AddObjectDocument, { sceneId: id, input: { category, box: { x: 0.1, y: 0.3, w: 0.3, h: 0.4 } } });
      layers.push(added.data!.addObject.layers.at(-1)!.id);
    }
  }
  await server.app.coordinator.idle(id);
  return { id, layers };
}

async function health(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}/health`);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
  return performance.now() - started;
}

/** Run one case and check every invariant; the problems found (empty when it passed). */
async function checkedCase(ctx: Ctx, seed: number): Promise<Failure[]> {
  const errorsBefore = ctx.server.log.lines.filter((l) => l.level === 'error').length;
  const before = await poolState(ctx);
  let outcome: CaseOutcome;
  try {
    outcome = await runCase(ctx, seed);
  } catch (error) {
    outcome = { what: 'the case itself threw', problems: [error instanceof Error ? (error.stack ?? error.message) : String(error)] };
  }
  const problems = [...outcome.problems];
  try {
    await health(ctx.server.url);
  } catch (error) {
    problems.push(`/health failed after the case: ${String(error)}`);
  }
  const after = await poolState(ctx);
  if (outcome.mutation?.refused) {
    before.forEach((state, i) => {
      const now = after[i];
      if (state && (now?.revision !== state.revision || now.lastSeq !== state.lastSeq))
        problems.push(`a refused mutation changed pool scene ${i}: ${JSON.stringify(state)} -> ${JSON.stringify(now)}`);
    });
  }
  const newErrors = ctx.server.log.lines.filter((l) => l.level === 'error').slice(errorsBefore);
  for (const line of newErrors) problems.push(`server logged an error: ${JSON.stringify(line).slice(0, 500)}`);
  // A pool scene deleted by an accepted mutation is replaced; the layer pool follows scene 0.
  for (let i = 0; i < after.length; i++) {
    if (after[i]) continue;
    const fresh = await newPoolScene(ctx.server, `fuzz pool ${i}`, i === 0);
    ctx.pools.scenes[i] = fresh.id;
    if (i === 0) ctx.pools.layers = fresh.layers;
  }
  if (after[0]?.layers.length) ctx.pools.layers = after[0].layers.map((l) => l.id);
  return problems.map((problem) => ({ seed, what: outcome.what, problem }));
}

// ---------------------------------------------------------------------------------------------

describe('seeded protocol fuzz over HTTP and WebSocket', () => {
  let server: TestServer;
  let ctx: Ctx;
  let healthMax = 0;
  let healthSamples = 0;
  let poller: NodeJS.Timeout | null = null;

  beforeAll(async () => {
    buildMasks();
    server = await startServer({
      env: { STRATA_RATE_MUTATIONS: '100000', STRATA_RATE_GUESTS: '1000000', STRATA_MAX_SUBSCRIPTIONS: '10000' },
    });
    const main = await newPoolScene(server, 'fuzz pool 0', true);
    const empty = await newPoolScene(server, 'fuzz pool 1', false);
    const other = await server.newUser('Other');
    const foreign = await other.gql(CreateSceneDocument, { input: { title: 'not yours', visibility: 'PRIVATE' } });
    const invite = await server.gql(CreateInviteDocument, { sceneId: empty.id, role: 'VIEWER' });
    const exported = await server.gql(SceneDocumentDocument, { id: main.id });
    const model = await server.gql<{ model: { categories: { id: string }[]; styles: { id: string }[] } }, never>(
      '{ model { categories { id } styles { id } } }',
    );
    ctx = {
      server,
      pools: {
        scenes: [main.id, empty.id],
        layers: main.layers,
        foreignScene: foreign.data!.createScene.id,
        inviteToken: invite.data!.createInvite.token,
        document: exported.data!.scene.document as Record<string, unknown>,
        categories: model.data!.model.categories.map((c) => c.id),
        styles: model.data!.model.styles.map((s) => s.id),
      },
    };
    const poll = () => {
      poller = setTimeout(() => {
        health(server.url)
          .then((ms) => {
            healthMax = Math.max(healthMax, ms);
            healthSamples++;
          })
          .catch(() => (healthMax = Infinity))
          .finally(() => poller && poll());
      }, 200);
    };
    poll();
  }, 120_000);

  afterAll(async () => {
    if (poller) clearTimeout(poller);
    poller = null;
    await server?.stop();
  });

  // Seeds that once failed, pinned with what they found (each run alone, with every check). More
  // can be run the same way with STRATA_FUZZ_PIN=<seed>,<seed>.
  const PINNED: [number, string][] = [
    // `{ scene(id: [[[...2000 deep...]]]) }` overflowed graphql-js's recursive parser inside Apollo: an
    // INTERNAL_SERVER_ERROR and an error log line. Fixed: nesting ceiling on the text (TOO_NESTED),
    // and a parse failure is always the client's (BAD_USER_INPUT), whatever the parser threw.
    [1700861475, 'a list literal nested 2000 deep is refused with a typed error, nothing logged'],
    [629415877, 'a list literal nested 2000 deep (again) is refused with a typed error'],
    // A multi-field mutation (deleteScene, then a revokeInvite that failed): the answer is null but
    // deleteScene ran. Not a server fault (GraphQL nulls a non-null root); the refusal check now
    // counts such operations as partly run.
    [566343399, 'a mutation whose second root field fails is not mistaken for a refusal'],
    ...(process.env['STRATA_FUZZ_PIN'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((x): [number, string] => [Number(x), 'from STRATA_FUZZ_PIN']),
  ];

  it.each(PINNED)('pinned seed %i: %s', async (seed) => {
    expect(await checkedCase(ctx, seed)).toEqual([]);
  });

  it('refuses a document nested past the ceiling with TOO_NESTED on both transports, and logs nothing', async () => {
    const query = `{ scene(id: ${'['.repeat(2000)}"a"${']'.repeat(2000)}) { id } }`;
    const errorsBefore = server.log.lines.filter((l) => l.level === 'error').length;
    const http = await send(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
      body: JSON.stringify({ query }),
    });
    expect(http.status).toBe(400);
    expect((http.body as { errors: GqlError[] }).errors[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      reason: 'TOO_NESTED',
      limit: 64,
    });
    const ws = await wsSession(server.wsUrl, 'graphql-transport-ws', [
      msg({ type: 'connection_init', payload: { authorization: `Bearer ${server.token}` } }),
      { awaitAck: true },
      msg({ id: '1', type: 'subscribe', payload: { query } }),
      { awaitDone: '1', ms: 3000 },
    ]);
    expect(ws.messages.find((m) => m['type'] === 'error')?.['payload']).toMatchObject([
      { extensions: { code: 'QUERY_TOO_COMPLEX', reason: 'TOO_NESTED' } },
    ]);
    // 64 levels still parse (and are answered as the values they are).
    const fine = await server.gql(`{ scene(id: ${'['.repeat(60)}"a"${']'.repeat(60)}) { id } }`);
    expect(fine.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(server.log.lines.filter((l) => l.level === 'error')).toHaveLength(errorsBefore);
  });

  it('refuses interlaced and plain PNG zlib bombs in a drawn mask at once, on both transports, and changes nothing', async () => {
    for (const name of ['an interlaced zlib bomb (256x256)', 'an interlaced zlib bomb (16-bit RGBA)', 'a zlib bomb (256x256)']) {
      const upload = MASKS.find(([n]) => n === name)![1];
      const before = await poolState(ctx);
      const started = performance.now();
      const http = await server.gql(AddObjectDocument, {
        sceneId: ctx.pools.scenes[0]!,
        input: { category: 'tree', box: { x: 0.1, y: 0.1, w: 0.5, h: 0.5 }, shape: { kind: 'DRAWN', mask: upload as never } },
      });
      const ms = performance.now() - started;
      expect(http.errors?.[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.shape.mask.data' });
      // Inflating the bomb took 735 ms and 528 MB before; the ceiling stops it after a megabyte, before pngjs runs.
      expect(http.errors?.[0]?.message, name).toMatch(/inflates to more than its size/);
      expect(ms, name).toBeLessThan(2000);
      const after = await poolState(ctx);
      expect(after[0]?.revision).toBe(before[0]?.revision);
      expect(after[0]?.lastSeq).toBe(before[0]?.lastSeq);
    }
    const outcome = await wsOperation(ctx, { ...maskOperationOf(ctx.pools, 'an interlaced zlib bomb (256x256)') }, rng(1));
    expect(outcome.problems).toEqual([]);
    expect(outcome.mutation?.refused).toBe(true);
  });

  it(
    `${CASES} cases from seed ${BASE_SEED}: no crash, no 5xx, typed errors, refusals change nothing, /health within ${HEALTH_BUDGET_MS} ms`,
    async () => {
      const failures: Failure[] = [];
      const started = Date.now();
      for (let i = 0; i < CASES && failures.length < 30; i++) {
        failures.push(...(await checkedCase(ctx, caseSeed(BASE_SEED, i))));
      }
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `protocol fuzz: ${CASES} cases from seed ${BASE_SEED} in ${seconds.toFixed(1)} s; /health max ${healthMax.toFixed(0)} ms over ${healthSamples} samples; ${failures.length} problems`,
      );
      const report = failures.map((f) => `seed ${f.seed} (${f.what.replace(/\s+/g, ' ').slice(0, 160)}): ${f.problem.slice(0, 600)}`);
      if (report.length) console.log(report.join('\n'));
      expect(report).toEqual([]);
      expect(healthMax).toBeLessThan(HEALTH_BUDGET_MS);
    },
    120_000 + CASES * 250,
  );
});
