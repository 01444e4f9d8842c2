/**
 * The live stream. A dropped connection loses no frame: the WebSocket is cut (and kept down) while a render streams,
 * the editor says it is reconnecting, and once the socket is back it resumes from the last `seq` it saw:
 * every event arrives exactly once, every step of the new revision is painted, and the canvas ends on
 * the scene's final frame. And someone else watching a shared scene sees it build live, read-only.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ARTIFACTS, changedPixels, decodePng } from './support/browser.mjs';
import { createScene, layerOrder, openSession, placeObject, readCanvas, receivedEvents, waitForSettledCanvas } from './support/editor.mjs';

let session;

before(async () => {
  session = await openSession();
});

after(async () => {
  await session?.close();
});

/** The scene's latest frame as the API reports it, decoded in the page. */
async function latestFrame(page, sceneId) {
  const response = await page.request.post('/graphql', {
    data: { query: 'query($id: ID!) { scene(id: $id) { lastSeq revision latestFrame { url } } }', variables: { id: sceneId } },
  });
  const { scene } = (await response.json()).data;
  const png = await (await page.request.get(scene.latestFrame.url)).body();
  return { ...scene, image: await decodePng(page, png) };
}

const connectionState = (page) => page.locator('.connection').getAttribute('data-state');

/** Record the `after` of every sceneEvents subscribe message the page sends. */
function recordSubscribeCursors(page) {
  const cursors = [];
  page.on('websocket', (socket) =>
    socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload));
      if (message.type === 'subscribe' && message.payload.query.includes('sceneEvents')) cursors.push(message.payload.variables.after);
    }),
  );
  return cursors;
}

test('after a dropped WebSocket the stream resumes without missing a frame', async () => {
  const { page, proxy } = session;
  const cursors = recordSubscribeCursors(page);
  let canvas = await createScene(page, session.url, 'Storm test', 'dusk');
  canvas = await placeObject(page, 'pine', { x: 0.1, y: 0.35, w: 0.3, h: 0.55 }, canvas.frame);
  canvas = await placeObject(page, 'house', { x: 0.55, y: 0.45, w: 0.35, h: 0.4 }, canvas.frame);
  assert.equal(await connectionState(page), 'live');
  const seenBefore = (await receivedEvents(page)).at(-1).seq;

  // Cut the socket and keep it down; edits still go over HTTP.
  proxy.blockWebSockets(true);
  assert.ok(proxy.dropWebSockets() >= 1, 'a WebSocket was open');
  await page.locator('.connection[data-state="reconnecting"]').waitFor();
  await page.getByRole('button', { name: 'Reroll background' }).click();
  // The edit is accepted (its answer marks every step stale) while its frames stream to nobody.
  await page.locator('.render-progress[data-state="rendering"]').waitFor();
  await page.screenshot({ path: `${ARTIFACTS}editor-reconnecting.png` });
  const sceneId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  for (let i = 0; i < 100; i++) {
    const { scene } = (
      await (await page.request.post('/graphql', { data: { query: `{ scene(id: "${sceneId}") { renderState } }` } })).json()
    ).data;
    if (scene.renderState === 'DONE') break;
    await page.waitForTimeout(100);
  }
  assert.equal(await connectionState(page), 'reconnecting');
  assert.equal((await readCanvas(page)).frame, canvas.frame, 'nothing new was painted while offline');

  proxy.blockWebSockets(false);
  await page.locator('.connection[data-state="live"]').waitFor({ timeout: 15_000 });
  const final = await waitForSettledCanvas(page, canvas.frame);
  assert.equal(cursors.at(-1), seenBefore, 'the resubscription asks only for what was missed');

  const events = (await receivedEvents(page)).filter((e) => e.seq > seenBefore);
  const seqs = events.map((e) => e.seq);
  const expected = range(seenBefore + 1, (await latestFrame(page, sceneId)).lastSeq);
  assert.deepEqual(seqs, expected, 'every event after the drop arrived once, in order');
  const revision = events.find((e) => e.type === 'RenderStarted').revision;
  const painted = events.filter((e) => e.type === 'FrameRendered' && e.revision === revision).map((e) => e.step);
  assert.deepEqual(painted, [0, 1, 2], 'every step of the new revision arrived');
  assert.equal((await layerOrder(page)).length, 2);
  const server = await latestFrame(page, sceneId);
  assert.equal(changedPixels(server.image, final).length, 0, 'the canvas shows the final frame');
  // The browser itself logs each handshake the blocked proxy refused; the app logged nothing.
  const refusedHandshake = /^console\.error: WebSocket connection to .* failed/;
  assert.deepEqual(
    session.problems.filter((p) => !refusedHandshake.test(p)),
    [],
  );
});

/** The integers from..to. */
function range(from, to) {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

test('someone watching a shared scene sees every edit paint live, and cannot edit', async () => {
  const { page, browser } = session;
  await page.getByRole('button', { name: 'Share' }).click();
  const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && /setVisibility/.test(r.request().postData() ?? ''));
  await page
    .getByRole('dialog', { name: /^Share/ })
    .getByRole('radio', { name: 'Anyone with the link' })
    .check();
  await answered;
  await page.keyboard.press('Escape');
  await page.locator('.connection[data-state="live"]').waitFor();
  const watcherContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: session.url });
  const watcher = await watcherContext.newPage();
  await watcher.goto(page.url());
  const before = await waitForSettledCanvas(watcher);
  assert.equal(changedPixels(await readCanvas(page), before).length, 0, 'the watcher sees the same canvas');
  await watcher.getByText('You are watching this scene').waitFor();
  assert.equal(await watcher.getByRole('region', { name: 'Add an object' }).count(), 0);
  assert.equal(await watcher.getByRole('button', { name: /^Delete / }).count(), 0);

  const painted = await placeObject(page, 'rock', { x: 0.4, y: 0.75, w: 0.2, h: 0.2 }, (await readCanvas(page)).frame);
  const seen = await waitForSettledCanvas(watcher, before.frame);
  assert.equal(changedPixels(painted, seen).length, 0, "the watcher's canvas ends on the owner's");
  assert.equal((await layerOrder(watcher)).length, 3);
  const revision = (await receivedEvents(watcher)).findLast((e) => e.type === 'RenderStarted').revision;
  const steps = (await receivedEvents(watcher)).filter((e) => e.type === 'FrameRendered' && e.revision === revision).map((e) => e.step);
  assert.deepEqual(steps, [3], 'the watcher received the new step as it was painted');
  await watcherContext.close();
});
