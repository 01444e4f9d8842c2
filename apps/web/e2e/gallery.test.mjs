/**
 * The gallery: an empty state, scenes as thumbnails of their latest canvas, newest first, and
 * create, open, rename, duplicate and delete. Also checks a narrow window.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ERROR_SENTENCES } from '@strata/schema/client';
import { ARTIFACTS } from './support/browser.mjs';
import { createScene, openSession, placeObject } from './support/editor.mjs';

let session;

before(async () => {
  session = await openSession();
});

after(async () => {
  await session?.close();
});

const cardTitles = (page) => page.locator('.scene-card-title').allInnerTexts();

async function backToGallery(page) {
  await page.getByRole('link', { name: '← Scenes' }).click();
  await page.getByRole('heading', { name: /Your scenes/ }).waitFor();
}

test('lists scenes newest first with their latest canvas, and renames, duplicates and deletes them', async () => {
  const { page } = session;
  await page.goto(session.url);
  await page.getByText('No scenes yet.').waitFor();

  const first = await createScene(page, session.url, 'Morning', 'day');
  await placeObject(page, 'tree', { x: 0.2, y: 0.4, w: 0.3, h: 0.5 }, first.frame);
  await backToGallery(page);
  await createScene(page, session.url, 'Night', 'night');
  await backToGallery(page);
  await page.waitForFunction(() => document.querySelectorAll('.scene-card img.thumb').length === 2);
  assert.deepEqual(await cardTitles(page), ['Night', 'Morning']);
  const thumbs = await page.locator('.scene-card img.thumb').evaluateAll((images) => images.map((i) => i.getAttribute('src')));
  // Private scenes' frames are served by signed, expiring URLs (the API's Frame.url), and they load.
  assert.ok(
    thumbs.every((src) => /^\/frames\/[0-9a-f]{64}\.png\?exp=\d+&sig=[\w-]{32}$/.test(src)),
    thumbs.join(', '),
  );
  await page.waitForFunction(() => [...document.querySelectorAll('.scene-card img.thumb')].every((i) => i.complete && i.naturalWidth > 0));
  await page.getByText('1 object').waitFor();

  const morning = page.getByRole('listitem', { name: 'Morning' });
  await morning.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('New title').fill('Morning mist');
  await page.getByLabel('New title').press('Enter');
  await page.getByRole('link', { name: 'Morning mist', exact: true }).waitFor();

  await page.getByRole('listitem', { name: 'Night' }).getByRole('button', { name: 'Duplicate' }).click();
  await page.getByRole('link', { name: 'Night (copy)', exact: true }).waitFor();
  assert.deepEqual(await cardTitles(page), ['Night (copy)', 'Night', 'Morning mist']);

  const copy = page.getByRole('listitem', { name: 'Night (copy)' });
  await copy.getByRole('button', { name: 'Delete' }).click();
  await copy.getByRole('button', { name: 'Confirm delete' }).click();
  await page.getByRole('link', { name: 'Night (copy)', exact: true }).waitFor({ state: 'detached' });
  assert.deepEqual(await cardTitles(page), ['Night', 'Morning mist']);
  await page.screenshot({ path: `${ARTIFACTS}gallery.png` });

  await page.getByRole('link', { name: 'Morning mist', exact: true }).click();
  await page.getByRole('heading', { name: 'Morning mist' }).waitFor();
  assert.deepEqual(session.problems, []);
});

test('the editor fits a narrow window without sideways scrolling', async () => {
  const { page } = session;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('scene-canvas').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the window`);
  const stage = await page.getByTestId('stage').boundingBox();
  assert.ok(stage.width > 300 && stage.x >= 0 && stage.x + stage.width <= 390, JSON.stringify(stage));
  await page.screenshot({ path: `${ARTIFACTS}editor-narrow.png`, fullPage: true });
});

test('a scene that does not exist says so and links back', async () => {
  const { page } = session;
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${session.url}/scenes/00000000-0000-0000-0000-000000000000`);
  await page.getByRole('alert').filter({ hasText: ERROR_SENTENCES.NOT_FOUND }).waitFor();
  await page.getByRole('link', { name: 'Back to your scenes' }).click();
  await page.getByRole('heading', { name: /Your scenes/ }).waitFor();
});

test('signing out on /settings ends the session: the browser comes back as a new guest who cannot see the old scene', async () => {
  const { page } = session;
  const me = async () =>
    (
      await (
        await page.request.post('/graphql', { data: { query: '{ me { id } }' }, headers: { 'apollo-require-preflight': 'true' } })
      ).json()
    ).data.me?.id;
  await createScene(page, session.url, 'Before signing out', 'day');
  const sceneUrl = page.url();
  const oldId = await me();
  assert.ok(oldId);
  await page.goto(`${session.url}/settings`);
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('region', { name: 'Sign out' }).getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.getByRole('heading', { name: /Your scenes/ }).waitFor();
  await page.getByText('No scenes yet.').waitFor();
  const newId = await me();
  assert.ok(newId && newId !== oldId, 'a new guest identity');
  // The old scene is private to the old identity.
  await page.goto(sceneUrl);
  await page
    .getByRole('alert')
    .filter({ hasText: ERROR_SENTENCES.NOT_FOUND })
    .or(page.getByText('You no longer have access to this scene'))
    .first()
    .waitFor();
});
