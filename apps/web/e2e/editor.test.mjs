/**
 * The editor, as a person uses it: compose a scene of three objects and watch the canvas change,
 * move one and see only its region repainted, reorder, undo and redo, step through the timeline,
 * export PNG and JSON, enter a bad box, and use the keyboard. Runs the real server and web app.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { ERROR_SENTENCES } from '@strata/schema/client';
import { ARTIFACTS, changedPixels, decodePng } from './support/browser.mjs';
import {
  createScene,
  dragOnStage,
  layerBoxes,
  layerOrder,
  openSession,
  placeObject,
  readCanvas,
  receivedEvents,
  selectLayer,
  waitForSettledCanvas,
} from './support/editor.mjs';

const RES = 64;
/** Pixels an object may paint outside its box: the compositing keeps a small dilation of the mask. */
const MARGIN = 4;

const TREE = { x: 0.05, y: 0.4, w: 0.36, h: 0.5 };
const HOUSE = { x: 0.6, y: 0.42, w: 0.32, h: 0.4 };
const ROCK = { x: 0.25, y: 0.7, w: 0.26, h: 0.24 };

/** True when pixel `index` lies in one of `boxes`, grown by `margin` canvas pixels. */
function insideAny(index, boxes, margin = MARGIN) {
  const x = index % RES;
  const y = Math.floor(index / RES);
  return boxes.some(
    (b) => x >= b.x * RES - margin && x < (b.x + b.w) * RES + margin && y >= b.y * RES - margin && y < (b.y + b.h) * RES + margin,
  );
}

describe('the editor', () => {
  let session;
  let page;
  const canvases = {};

  before(async () => {
    session = await openSession();
    page = session.page;
  });

  after(async () => {
    await session?.close();
  });

  test('creates a scene and paints its background', async () => {
    canvases.background = await createScene(page, session.url, 'Lakeside', 'day');
    assert.equal(canvases.background.width, RES);
    assert.ok(new Set(canvases.background.data).size > 10, 'the background is painted, not blank');
    await page.getByText('All 1 steps painted.').waitFor();
  });

  test('adds three objects, and the canvas changes inside each new box only', async () => {
    let before = canvases.background;
    const placed = [];
    for (const [category, box] of [
      ['tree', TREE],
      ['house', HOUSE],
      ['rock', ROCK],
    ]) {
      const next = await placeObject(page, category, box, before.frame);
      const changed = changedPixels(before, next);
      assert.ok(changed.length > 20, `${category}: ${changed.length} pixels changed`);
      const stray = changed.filter((i) => !insideAny(i, [box]));
      assert.equal(stray.length, 0, `${category}: ${stray.length} pixels changed outside its box`);
      placed.push(category);
      assert.equal((await layerOrder(page)).length, placed.length);
      before = next;
    }
    canvases.three = before;
    await page.screenshot({ path: `${ARTIFACTS}editor-finished.png` });
  });

  test('moving one object repaints from its layer only, and pixels far from it stay the same', async () => {
    const [, houseId] = await layerOrder(page); // top first: rock, house, tree
    await selectLayer(page, houseId);
    const seqBefore = (await receivedEvents(page)).at(-1).seq;
    const up = 0.2;
    await dragOnStage(
      page,
      { x: HOUSE.x + HOUSE.w / 2, y: HOUSE.y + HOUSE.h / 2 },
      { x: HOUSE.x + HOUSE.w / 2, y: HOUSE.y + HOUSE.h / 2 - up },
    );
    const moved = await waitForSettledCanvas(page, canvases.three.frame);
    const started = (await receivedEvents(page)).filter((e) => e.seq > seqBefore && e.type === 'RenderStarted');
    assert.deepEqual(
      started.map((e) => [e.from, e.to]),
      [[2, 3]],
      'one render, from the house up',
    );
    const painted = (await receivedEvents(page)).filter((e) => e.seq > seqBefore && e.type === 'FrameRendered').map((e) => e.step);
    assert.deepEqual(painted, [2, 3], 'only the house (step 2) and the rock above it (step 3) are repainted');
    const newHouse = { ...HOUSE, y: HOUSE.y - up };
    const changed = changedPixels(canvases.three, moved);
    assert.ok(changed.length > 20, `${changed.length} pixels changed`);
    const far = changed.filter((i) => !insideAny(i, [HOUSE, newHouse, ROCK]));
    assert.equal(far.length, 0, `${far.length} pixels far from the house changed`);
    canvases.moved = moved;
  });

  test('dragging a corner handle resizes the box', async () => {
    const form = page.getByRole('form', { name: 'Box in pixels' });
    const width = Number(await form.getByLabel('Width').inputValue());
    const height = Number(await form.getByLabel('Height').inputValue());
    const handle = await page.locator('[data-testid="selected-box"] [data-handle="se"]').boundingBox();
    const stage = await page.getByTestId('stage').boundingBox();
    const pixel = stage.width / RES;
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(handle.x + handle.width / 2 - 4 * pixel, handle.y + handle.height / 2 - 2 * pixel, { steps: 4 });
    await page.mouse.up();
    canvases.moved = await waitForSettledCanvas(page, canvases.moved.frame);
    assert.equal(Number(await form.getByLabel('Width').inputValue()), width - 4);
    assert.equal(Number(await form.getByLabel('Height').inputValue()), height - 2);
  });

  test('reorders layers by dragging, then undoes and redoes with the keyboard and the button', async () => {
    const order = await layerOrder(page); // rock, house, tree
    const [rockId, , treeId] = order;
    await page.locator(`.layer-row[data-layer-id="${rockId}"]`).dragTo(page.locator(`.layer-row[data-layer-id="${treeId}"]`));
    const reordered = await waitForSettledCanvas(page, canvases.moved.frame);
    assert.deepEqual(await layerOrder(page), [order[1], order[2], rockId], 'the rock is now at the bottom');
    assert.ok(changedPixels(canvases.moved, reordered).length > 0, 'the tree now covers the rock');

    await page.getByRole('button', { name: 'Live' }).focus();
    await page.keyboard.press('Control+z');
    const undone = await waitForSettledCanvas(page, reordered.frame);
    assert.deepEqual(await layerOrder(page), order);
    assert.equal(changedPixels(canvases.moved, undone).length, 0, 'undo restores the exact pixels');

    await page.getByRole('button', { name: 'Redo' }).click();
    const redone = await waitForSettledCanvas(page, undone.frame);
    assert.deepEqual(await layerOrder(page), [order[1], order[2], rockId]);
    assert.equal(changedPixels(reordered, redone).length, 0, 'redo repaints the same pixels');
    await page.keyboard.press('Control+Shift+z');
    await page.getByRole('alert').filter({ hasText: 'Nothing to redo.' }).waitFor();
    await page.keyboard.press('Control+z');
    canvases.current = await waitForSettledCanvas(page, redone.frame);
    assert.deepEqual(await layerOrder(page), order);
  });

  test('the timeline steps back to the background and returns to live', async () => {
    // Wait for the canvas of the step asked for (not the live one it showed a moment before) to be drawn,
    // and, back on live, for every step to be painted: then it is the settled canvas of the last test.
    const shows = (label) =>
      page.waitForFunction((name) => {
        const canvas = document.querySelector('[data-testid="scene-canvas"]');
        const drawn = canvas.getAttribute('data-frame') === canvas.getAttribute('data-want');
        const painted = document.querySelector('.render-progress')?.getAttribute('data-state') === 'done';
        return canvas.getAttribute('aria-label') === name && drawn && painted;
      }, label);
    await page.getByLabel('Step', { exact: true }).fill('0');
    await shows('The scene at step 0');
    assert.equal(changedPixels(canvases.background, await readCanvas(page)).length, 0, 'x0 is the background');
    await page.getByRole('button', { name: 'Live' }).click();
    await shows('The scene, live');
    assert.equal(changedPixels(canvases.current, await readCanvas(page)).length, 0, 'live is the settled canvas again');
  });

  test('exports the canvas as PNG at native size and scaled up', async () => {
    const canvas = await readCanvas(page);
    const [native] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
    assert.match(native.suggestedFilename(), /^lakeside\.png$/);
    const image = await decodePng(page, await readFile(await native.path()));
    assert.deepEqual([image.width, image.height], [RES, RES]);
    assert.equal(changedPixels(canvas, image).length, 0, 'the PNG is the canvas');

    const [scaled] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'PNG ×8' }).click()]);
    const big = await decodePng(page, await readFile(await scaled.path()));
    assert.deepEqual([big.width, big.height], [RES * 8, RES * 8]);
    const sampled = { width: RES, height: RES, data: [] };
    for (let y = 0; y < RES; y++) {
      for (let x = 0; x < RES; x++) {
        const i = ((y * 8 + 5) * RES * 8 + x * 8 + 2) * 4;
        sampled.data.push(...big.data.slice(i, i + 4));
      }
    }
    assert.equal(changedPixels(canvas, sampled).length, 0, 'every 8x8 block is one canvas pixel');
  });

  test('a bad box shows the error sentence, marks the field and changes nothing', async () => {
    const before = await readCanvas(page);
    const [, houseId] = await layerOrder(page);
    await selectLayer(page, houseId);
    const form = page.getByRole('form', { name: 'Box in pixels' });
    await form.getByLabel('Width').fill('60');
    await form.getByRole('button', { name: 'Apply box' }).click();
    await form.getByRole('alert').filter({ hasText: ERROR_SENTENCES.BAD_USER_INPUT }).waitFor();
    assert.equal(await form.getByLabel('Width').getAttribute('aria-invalid'), 'true');
    assert.equal(await form.getByLabel('Left').getAttribute('aria-invalid'), 'false');
    assert.equal((await readCanvas(page)).frame, before.frame);
  });

  test('the keyboard nudges, deletes and restores the selected object', async () => {
    const form = page.getByRole('form', { name: 'Box in pixels' });
    const left = Number(await form.getByLabel('Left').inputValue());
    const before = await readCanvas(page);
    await page.getByTestId('stage').focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    const nudged = await waitForSettledCanvas(page, before.frame);
    assert.equal(Number(await form.getByLabel('Left').inputValue()), left + 3);
    await page.keyboard.press('Delete');
    const removed = await waitForSettledCanvas(page, nudged.frame);
    assert.equal((await layerOrder(page)).length, 2);
    await page.keyboard.press('Control+z');
    await waitForSettledCanvas(page, removed.frame);
    assert.equal((await layerOrder(page)).length, 3);
  });

  test('changes a shape (preset, drawn, generated), rerolls, hides and shows, and restyles the background', async () => {
    const [, , treeId] = await layerOrder(page);
    await selectLayer(page, treeId);
    const inspector = page.locator('.inspector');
    // The tree and the layers above it repaint (their input canvas changed); the background around them does not.
    const objects = await layerBoxes(page);
    let canvas = await readCanvas(page);
    const expectChange = async (what, action, region = null) => {
      await action();
      const next = await waitForSettledCanvas(page, canvas.frame);
      const changed = changedPixels(canvas, next);
      assert.ok(changed.length > 0, `${what} changes the canvas`);
      if (region) assert.equal(changed.filter((i) => !insideAny(i, region)).length, 0, `${what} repaints only its region`);
      canvas = next;
    };
    await expectChange(
      'a preset shape',
      async () => {
        await inspector.getByRole('radio', { name: 'Preset' }).check();
        await inspector.getByRole('button', { name: 'Ellipse' }).click();
      },
      objects,
    );
    assert.equal(await inspector.getByRole('button', { name: 'Ellipse' }).getAttribute('aria-pressed'), 'true');
    await expectChange(
      'a drawn shape',
      async () => {
        await inspector.getByRole('radio', { name: 'Drawn' }).check();
        const pad = await inspector.getByRole('img', { name: /Drawing area/ }).boundingBox();
        await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.1);
        await page.mouse.down();
        await page.mouse.move(pad.x + pad.width * 0.5, pad.y + pad.height * 0.9, { steps: 8 });
        await page.mouse.up();
        await inspector.getByRole('button', { name: 'Fill an ellipse' }).click();
        await inspector.getByRole('button', { name: 'Use drawing' }).click();
      },
      objects,
    );
    await expectChange('a generated shape', () => inspector.getByRole('radio', { name: 'Generated' }).check(), objects);
    await expectChange('a new generated shape', () => inspector.getByRole('button', { name: 'New shape' }).click(), objects);
    await expectChange('a new appearance', () => inspector.getByRole('button', { name: 'Reroll appearance' }).click(), objects);
    const shown = canvas;
    await expectChange('hiding', () => page.getByRole('button', { name: 'Hide Tree 1' }).click(), objects);
    await page.getByRole('button', { name: 'Show Tree 1' }).click();
    canvas = await waitForSettledCanvas(page, canvas.frame);
    assert.equal(changedPixels(shown, canvas).length, 0, 'showing it again paints the same pixels');
    await expectChange('a new background style', () =>
      page.getByRole('region', { name: 'Background' }).getByLabel('Style').selectOption('dusk'),
    );
  });

  test('the canvas builds up frame by frame, with the layer being painted marked', async () => {
    const { proxy } = session;
    const before = await readCanvas(page);
    await page.evaluate(() => {
      const canvas = document.querySelector('[data-testid="scene-canvas"]');
      window.__drawn = [];
      new MutationObserver(() => window.__drawn.push(canvas.getAttribute('data-frame'))).observe(canvas, {
        attributeFilter: ['data-frame'],
      });
    });
    proxy.slowWebSockets(500); // each streamed event takes half a second to arrive
    try {
      await page.getByRole('button', { name: 'Reroll background' }).click();
      // Read the page the moment the second step is on it (a locator's polling could miss that half second).
      const midway = await page.waitForFunction(
        () =>
          document.querySelector('.render-progress')?.textContent?.includes('(2 of 4 done)') && {
            painting: document.querySelectorAll('.layer-row[data-state="RENDERING"]').length,
            bars: document.querySelectorAll('.layer-row[data-state="RENDERING"] progress').length,
          },
        null,
        { polling: 'raf', timeout: 30_000 },
      );
      assert.deepEqual(await midway.jsonValue(), { painting: 1, bars: 1 }, 'one layer is being painted, with its own progress bar');
      await page.screenshot({ path: `${ARTIFACTS}editor-mid-build.png` });
      await waitForSettledCanvas(page, before.frame, 30_000);
    } finally {
      proxy.slowWebSockets(0);
    }
    const drawn = await page.evaluate(() => window.__drawn);
    assert.equal(new Set(drawn).size, 4, `x0..x3 of the new background were each drawn as they arrived: ${drawn.join(' ')}`);
  });

  test('exports the scene as JSON and imports it as a new, identical scene', async () => {
    const original = await readCanvas(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const document = JSON.parse(await readFile(await download.path(), 'utf8'));
    assert.equal(document.layers?.length ?? document.scene?.layers?.length, 3);
    const sceneUrl = page.url();
    await page.getByRole('link', { name: '← Scenes' }).click();
    await page.getByRole('heading', { name: /Your scenes/ }).waitFor();
    await page.getByLabel('Scene JSON file to import').setInputFiles(await download.path());
    await page.waitForURL((url) => url.pathname.startsWith('/scenes/') && url.href !== sceneUrl);
    const imported = await waitForSettledCanvas(page);
    assert.equal(changedPixels(original, imported).length, 0, 'the import paints the same pixels');
    assert.equal((await layerOrder(page)).length, 3);
  });

  test('the page printed no errors', () => {
    assert.deepEqual(session.problems, []);
  });
});
