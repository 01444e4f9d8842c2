import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../src/infrastructure/onnx/manifest.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const MODELS = fileURLToPath(new URL('../../../models', import.meta.url));

describe('the model manifest', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A copy of the models whose manifest `edit` changes. */
  function tampered(edit: (manifest: Record<string, any>, dir: string) => void): string {
    const dir = mkdtempSync(join(tmpdir(), 'strata-models-'));
    dirs.push(dir);
    for (const f of ['manifest.json', 'background.onnx', 'foreground.onnx', 'shape.onnx']) cpSync(join(MODELS, f), join(dir, f));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    edit(manifest, dir);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    return dir;
  }

  it('loads the committed models', async () => {
    const loaded = await loadManifest(MODELS);
    expect(loaded.spec.categories.length).toBeGreaterThanOrEqual(6);
    expect(loaded.spec.styles.map((s) => s.id)).toEqual(['day', 'dusk', 'night']);
  });

  it.each([
    ['a wrong checksum', (m: Record<string, any>) => (m['models'].foreground.sha256 = '0'.repeat(64)), /foreground\.onnx has sha256/],
    ['a missing file', (m: Record<string, any>) => (m['models'].shape.file = 'nope.onnx'), /nope\.onnx does not exist/],
    [
      'a tensor that does not match the contract',
      (m: Record<string, any>) => (m['models'].background.inputs[0].shape = ['batch', 99]),
      /background\.inputs z is float32\["batch",99\]/,
    ],
    ['noise sizes that disagree with the tensors', (m: Record<string, any>) => (m['noise'].foreground = 7), /foreground\.inputs z/],
    ['an unknown format', (m: Record<string, any>) => (m['format'] = 'other/9'), /format must be/],
  ])('refuses %s with MODEL_MISMATCH', async (_name, edit, message) => {
    const dir = tampered(edit);
    await expect(loadManifest(dir)).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringMatching(message) });
  });

  it('refuses an ONNX file whose tensor names differ from the manifest (checked against the session)', async () => {
    const dir = tampered((m, d) => {
      cpSync(join(d, 'shape.onnx'), join(d, 'background.onnx'));
      m['models'].background.sha256 = m['models'].shape.sha256;
    });
    const config = loadConfig({ STRATA_MODELS_DIR: dir, STRATA_DATA_DIR: join(dir, 'data'), STRATA_WORKERS: '1', STRATA_LOG: 'silent' });
    await expect(createApp(config)).rejects.toMatchObject({
      code: 'MODEL_MISMATCH',
      message: expect.stringMatching(/background\.onnx has inputs/),
    });
  });
});
