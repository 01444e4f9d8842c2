/** Test helpers that drive the app the way a person does: through the page. */
import { launchBrowser, readCanvas, waitForSettledCanvas } from './browser.mjs';
import { startProxy } from './proxy.mjs';
import { startStack } from './stack.mjs';

/** The stack behind a cuttable proxy, a browser and a laptop-sized page; `close()` ends them all. */
export async function openSession({ viewport = { width: 1366, height: 820 } } = {}) {
  const stack = await startStack();
  const proxy = await startProxy(stack.port);
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport, acceptDownloads: true, baseURL: proxy.url });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  return {
    stack,
    proxy,
    browser,
    page,
    url: proxy.url,
    /** Errors the page printed (a test fails on them, as urql's own suite does). */
    problems,
    async close() {
      await browser.close();
      await proxy.stop();
      await stack.stop();
    },
  };
}

/** Create a scene from the gallery and wait for its background. */
export async function createScene(page, baseUrl, title, style = null) {
  await page.goto(baseUrl);
  await page.getByLabel('Title').fill(title);
  if (style) await page.getByLabel('Background').selectOption(style);
  await page.getByRole('button', { name: 'Create scene' }).click();
  await page.waitForURL(/\/scenes\//);
  return waitForSettledCanvas(page);
}

/** Drag on the canvas between two points given in canvas fractions (0..1). */
export async function dragOnStage(page, from, to) {
  const box = await page.getByTestId('stage').boundingBox();
  const at = (p) => [box.x + box.width * p.x, box.y + box.height * p.y];
  await page.mouse.move(...at(from));
  await page.mouse.down();
  await page.mouse.move(...at({ x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 }), { steps: 3 });
  await page.mouse.move(...at(to), { steps: 3 });
  await page.mouse.up();
}

/** Choose the category of the next object in the "Add an object" panel. */
export async function chooseCategory(page, category) {
  await page.getByRole('region', { name: 'Add an object' }).getByLabel('Category').selectOption(category);
}

/** Place an object by dragging a box, and wait for the repainted canvas. */
export async function placeObject(page, category, box, previousFrame) {
  await chooseCategory(page, category);
  await page.keyboard.press('Escape');
  await dragOnStage(page, { x: box.x, y: box.y }, { x: box.x + box.w, y: box.y + box.h });
  return waitForSettledCanvas(page, previousFrame);
}

/** Select a layer through its row in the layers panel (a second click would deselect it). */
export async function selectLayer(page, layerId) {
  const button = page.locator(`.layer-row[data-layer-id="${layerId}"] .layer-select`);
  if ((await button.getAttribute('aria-pressed')) !== 'true') await button.click();
  await page.getByTestId('selected-box').waitFor();
}

/** Layer ids as the layers panel lists them (top first). */
export async function layerOrder(page) {
  return page.locator('.layer-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-layer-id')));
}

/** The id of the scene the page shows. */
export function sceneIdOf(page) {
  return decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
}

/** The boxes of the scene's layers, bottom first, as the API has them. */
export async function layerBoxes(page) {
  const query = 'query($id: ID!) { scene(id: $id) { layers { object { box { x y w h } } } } }';
  const response = await page.request.post('/graphql', { data: { query, variables: { id: sceneIdOf(page) } } });
  return (await response.json()).data.scene.layers.map((layer) => layer.object.box);
}

/** The scene events the page received, as recorded by its test hook. */
export async function receivedEvents(page) {
  return page.evaluate(() => window.__strata?.events ?? []);
}

export { readCanvas, waitForSettledCanvas };
