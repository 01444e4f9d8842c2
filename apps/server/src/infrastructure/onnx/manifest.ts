import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '@strata/schema';
import { DomainError } from '../../domain/errors.js';
import type { Labelled, ModelSpec } from '../../domain/rendering/model.js';

/** A tensor as the manifest declares it. */
export interface TensorDecl {
  name: string;
  dtype: string;
  shape: (number | 'batch')[];
}

export type ModelName = 'background' | 'foreground' | 'shape';
export const MODEL_NAMES: readonly ModelName[] = ['background', 'foreground', 'shape'];

/** A validated manifest: the domain's view plus where each file is and what it must look like. */
export interface LoadedManifest {
  spec: ModelSpec;
  files: Record<ModelName, string>;
  tensors: Record<ModelName, { inputs: TensorDecl[]; outputs: TensorDecl[] }>;
}

const mismatch = (message: string) => new DomainError(ErrorCode.MODEL_MISMATCH, `models/manifest.json: ${message}`);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function int(value: unknown, path: string): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw mismatch(`${path} must be a positive integer`);
  return value as number;
}

function labelled(value: unknown, path: string): Labelled[] {
  if (!Array.isArray(value) || value.length === 0) throw mismatch(`${path} must be a non-empty list`);
  return value.map((item: unknown, i) => {
    if (!isRecord(item) || typeof item['id'] !== 'string' || typeof item['label'] !== 'string')
      throw mismatch(`${path}[${i}] needs id and label`);
    return { id: item['id'], label: item['label'] };
  });
}

function tensors(value: unknown, path: string): TensorDecl[] {
  if (!Array.isArray(value)) throw mismatch(`${path} must be a list`);
  return value.map((t: unknown, i) => {
    if (!isRecord(t) || typeof t['name'] !== 'string' || typeof t['dtype'] !== 'string' || !Array.isArray(t['shape'])) {
      throw mismatch(`${path}[${i}] needs name, dtype and shape`);
    }
    return { name: t['name'], dtype: t['dtype'], shape: t['shape'] as (number | 'batch')[] };
  });
}

/** What the contract requires of each model's tensors, given the manifest's sizes. */
function expectedTensors(spec: ModelSpec): Record<ModelName, { inputs: TensorDecl[]; outputs: TensorDecl[] }> {
  const R = spec.resolution;
  const C = spec.categories.length;
  const t = (name: string, ...shape: number[]): TensorDecl => ({ name, dtype: 'float32', shape: ['batch', ...shape] });
  return {
    background: { inputs: [t('z', spec.noise.background), t('style', spec.styles.length)], outputs: [t('image', 3, R, R)] },
    foreground: {
      inputs: [t('canvas', 3, R, R), t('mask', 1, R, R), t('category', C), t('z', spec.noise.foreground)],
      outputs: [t('image', 3, R, R)],
    },
    shape: { inputs: [t('category', C), t('z', spec.noise.shape)], outputs: [t('mask', 1, spec.shapeResolution, spec.shapeResolution)] },
  };
}

function sameDecls(actual: TensorDecl[], expected: TensorDecl[], path: string): void {
  for (const want of expected) {
    const got = actual.find((a) => a.name === want.name);
    if (!got) throw mismatch(`${path} lacks tensor ${want.name}`);
    if (got.dtype !== want.dtype || JSON.stringify(got.shape) !== JSON.stringify(want.shape)) {
      throw mismatch(
        `${path} ${want.name} is ${got.dtype}${JSON.stringify(got.shape)}, the contract needs ${want.dtype}${JSON.stringify(want.shape)}`,
      );
    }
  }
  if (actual.length !== expected.length) throw mismatch(`${path} has ${actual.length} tensors, the contract has ${expected.length}`);
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Read and validate `manifest.json` in `dir`: the format, the sizes, every tensor against the
 * contract, and every file against its sha256. Throws MODEL_MISMATCH with what is wrong.
 */
export async function loadManifest(dir: string): Promise<LoadedManifest> {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw mismatch(`not found in ${dir}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw mismatch(`is not JSON (${String(error)})`);
  }
  if (!isRecord(raw)) throw mismatch('must be an object');
  if (raw['format'] !== 'strata-models/1') throw mismatch(`format must be "strata-models/1", got ${JSON.stringify(raw['format'])}`);
  if (typeof raw['version'] !== 'string' || !raw['version']) throw mismatch('version must be a string');
  const noise = isRecord(raw['noise']) ? raw['noise'] : {};
  const fg = isRecord(raw['foreground']) ? raw['foreground'] : {};
  const training = isRecord(raw['training']) ? raw['training'] : {};
  const spec: ModelSpec = {
    version: raw['version'],
    resolution: int(raw['resolution'], 'resolution'),
    shapeResolution: int(raw['shapeResolution'], 'shapeResolution'),
    categories: labelled(raw['categories'], 'categories'),
    styles: labelled(raw['styles'], 'styles'),
    noise: {
      background: int(noise['background'], 'noise.background'),
      foreground: int(noise['foreground'], 'noise.foreground'),
      shape: int(noise['shape'], 'noise.shape'),
    },
    dilation: Number.isInteger(fg['dilation']) ? (fg['dilation'] as number) : 0,
    trainedOn: `${String(training['device'] ?? 'unknown device')} at ${String(training['resolution'] ?? raw['resolution'])}px`,
  };
  const models = isRecord(raw['models']) ? raw['models'] : {};
  const expected = expectedTensors(spec);
  const files = {} as Record<ModelName, string>;
  const decls = {} as LoadedManifest['tensors'];
  for (const name of MODEL_NAMES) {
    const entry = models[name];
    if (!isRecord(entry) || typeof entry['file'] !== 'string' || typeof entry['sha256'] !== 'string') {
      throw mismatch(`models.${name} needs file and sha256`);
    }
    const file = join(dir, entry['file']);
    if (!existsSync(file)) throw mismatch(`models.${name}.file ${entry['file']} does not exist`);
    const actual = await fileSha256(file);
    if (actual !== entry['sha256'])
      throw mismatch(`models.${name}.file ${entry['file']} has sha256 ${actual}, the manifest says ${entry['sha256']}`);
    decls[name] = {
      inputs: tensors(entry['inputs'], `models.${name}.inputs`),
      outputs: tensors(entry['outputs'], `models.${name}.outputs`),
    };
    sameDecls(decls[name].inputs, expected[name].inputs, `models.${name}.inputs`);
    sameDecls(decls[name].outputs, expected[name].outputs, `models.${name}.outputs`);
    files[name] = file;
  }
  return { spec, files, tensors: decls };
}
