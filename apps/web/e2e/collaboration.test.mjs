/**
 * Two people in one scene, each in their own browser context (two guest identities): the owner shares
 * an editor link, the guest opens it, each sees the other's avatar; the guest's object paints on the
 * owner's canvas, the owner's pointer and selection show on the guest's; the owner removes the guest,
 * who is told they no longer have access; a viewer link gives a read-only editor, and a revoked link
 * says so. Runs the real server and web app.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ERROR_SENTENCES } from '@strata/schema/client';
import { ARTIFACTS, changedPixels } from './support/browser.mjs';
import {
  createScene,
  layerBoxes,
  layerOrder,
  openSession,
  placeObject,
  readCanvas,
  selectLayer,
  waitForSettledCanvas,
} from './support/editor.mjs';

let session;
let owner;
let guest;
let guestContext;
const links = {};
const names = {};

before(async () => {
  session = await openSession({ viewport: { width: 1280, height: 800 } });
  owner = session.page;
});

after(async () => {
  await session?.close();
});

/** Who the page's browser context is, as the API says. */
async function whoAmI(page) {
  const response = await page.request.post('/graphql', { data: { query: '{ me { id displayName color } }' } });
  return (await response.json()).data.me;
}

/** A fresh browser context (a new guest) with a page that reports its errors. */
async function newPerson(viewport = { width: 1280, height: 800 }) {
  const context = await session.browser.newContext({ viewport, baseURL: session.url });
  const page = await context.newPage();
  page.on('pageerror', (error) => session.problems.push(`pageerror (second person): ${error.message}`));
  return { context, page };
}

/** Screenshots of two pages (the editor's width of each), side by side in one image; each page alone too. */
async function sideBySide(left, right, path) {
  const clip = { x: 140, y: 0, width: 1140, height: 800 };
  const shots = await Promise.all(
    [left, right].map(async (page, i) => {
      const shot = await page.screenshot({ clip });
      await page.screenshot({ path: path.replace(/\.png$/, i === 0 ? '-owner.png' : '-guest.png') });
      return shot.toString('base64');
    }),
  );
  const board = await session.browser.newPage({ viewport: { width: 2 * clip.width + 16, height: clip.height }, deviceScaleFactor: 0.75 });
  await board.setContent(
    `<body style="margin:0;background:#000;display:flex;gap:16px">${shots.map((s) => `<img style="width:${clip.width}px" src="data:image/png;base64,${s}">`).join('')}</body>`,
  );
  await board.screenshot({ path });
  await board.close();
}

const avatar = (page, label) => page.getByTestId('participants').getByRole('img', { name: label, exact: true });

test('the owner shares an editor link and the guest who opens it joins; each sees the other', async () => {
  await createScene(owner, session.url, 'Meadow together', 'day');
  names.owner = (await whoAmI(owner)).displayName;

  await owner.getByRole('button', { name: 'Share' }).click();
  const dialog = owner.getByRole('dialog', { name: /^Share/ });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Create an editor link' }).click();
  links.editor = await dialog.getByLabel('Invitation link for an editor').inputValue();
  await dialog.getByRole('button', { name: 'Create a viewer link' }).click();
  links.viewer = await dialog.getByLabel('Invitation link for an viewer').inputValue();
  assert.match(links.editor, /\/invite\/[\w-]+$/);
  await owner.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });

  ({ context: guestContext, page: guest } = await newPerson());
  await guest.goto(links.editor);
  await guest.waitForURL(/\/scenes\//);
  await waitForSettledCanvas(guest);
  names.guest = (await whoAmI(guest)).displayName;
  assert.notEqual(names.guest, names.owner, 'two guests, two identities');

  await avatar(owner, `${names.owner} (you), owner`).waitFor();
  await avatar(owner, `${names.guest}, editor`).waitFor();
  await avatar(guest, `${names.guest} (you), editor`).waitFor();
  await avatar(guest, `${names.owner}, owner`).waitFor();
  // The guest can edit.
  await guest.getByRole('region', { name: 'Add an object' }).waitFor();
});

test("the guest's new object paints live on the owner's canvas, and the owner's layer list shows it", async () => {
  const before = await readCanvas(owner);
  const painted = await placeObject(guest, 'house', { x: 0.55, y: 0.45, w: 0.35, h: 0.4 }, before.frame);
  const seen = await waitForSettledCanvas(owner, before.frame);
  assert.ok(changedPixels(before, seen).length > 20, "the owner's canvas changed");
  assert.equal(changedPixels(painted, seen).length, 0, "the owner's canvas ends on the guest's");
  assert.equal((await layerOrder(owner)).length, 1);

  // A second object, then the guest rerolls it: in the owner's view only its row changes.
  const withTree = await placeObject(guest, 'tree', { x: 0.06, y: 0.35, w: 0.3, h: 0.55 }, painted.frame);
  await waitForSettledCanvas(owner, seen.frame);
  const [treeId, houseId] = await layerOrder(owner);
  await owner.evaluate(
    (ids) => {
      window.__rowMutations = Object.fromEntries(ids.map((id) => [id, 0]));
      for (const id of ids) {
        const row = document.querySelector(`.layer-row[data-layer-id="${id}"]`);
        new MutationObserver((records) => (window.__rowMutations[id] += records.length)).observe(row, {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        });
      }
    },
    [treeId, houseId],
  );
  const ownerBefore = await readCanvas(owner);
  await guest.getByRole('button', { name: 'Reroll Tree 2' }).click();
  await waitForSettledCanvas(guest, withTree.frame);
  await waitForSettledCanvas(owner, ownerBefore.frame);
  const mutations = await owner.evaluate(() => window.__rowMutations);
  assert.ok(mutations[treeId] > 0, 'the rerolled layer row repainted');
  assert.equal(mutations[houseId], 0, 'the other layer row did not change at all');
});

test("two people moving one object at once: the second gets CONFLICT and sees the first one's move", async () => {
  const [, houseId] = await layerOrder(owner);
  await selectLayer(guest, houseId);
  await selectLayer(owner, houseId);
  // The guest starts dragging the house...
  const stage = await guest.getByTestId('stage').boundingBox();
  const [hx, hy] = [stage.x + stage.width * 0.72, stage.y + stage.height * 0.65];
  await guest.mouse.move(hx, hy);
  await guest.mouse.down();
  await guest.mouse.move(hx - 30, hy - 10, { steps: 3 });
  // ...while the owner moves it through the box form.
  const before = await readCanvas(guest);
  const form = owner.getByRole('form', { name: 'Box in pixels' });
  await form.getByLabel('Top').fill('20');
  await form.getByRole('button', { name: 'Apply box' }).click();
  await waitForSettledCanvas(guest, before.frame);
  await guest.mouse.up();
  await guest.getByRole('alert').filter({ hasText: ERROR_SENTENCES.CONFLICT }).waitFor();
  const boxes = await layerBoxes(owner);
  assert.equal(Math.round(boxes[0].y * 64), 20, "the owner's move stands");
  // The guest's box shows the owner's move, not its own refused draft.
  await guest.waitForFunction(() => {
    const box = document.querySelector('[data-testid="selected-box"]');
    return box && Math.abs(parseFloat(box.style.top) - (20 / 64) * 100) < 0.01;
  });
});

test("the owner's pointer and selection show on the guest's canvas with the owner's name", async () => {
  const stage = await owner.getByTestId('stage').boundingBox();
  await owner.mouse.move(stage.x + stage.width * 0.2, stage.y + stage.height * 0.2);
  await owner.mouse.move(stage.x + stage.width * 0.3, stage.y + stage.height * 0.25, { steps: 5 });
  const pointer = guest.getByTestId('remote-pointer').filter({ hasText: names.owner });
  await pointer.waitFor();
  await guest.waitForFunction(
    () => {
      const marker = document.querySelector('[data-testid="remote-pointer"]');
      return marker && Math.abs(parseFloat(marker.style.left) - 30) < 0.5 && Math.abs(parseFloat(marker.style.top) - 25) < 0.5;
    },
    null,
    { timeout: 5000 },
  );

  const [layerId] = await layerOrder(owner);
  await selectLayer(owner, layerId);
  await guest.locator(`[data-testid="remote-selection"][data-layer-id="${layerId}"]`).filter({ hasText: names.owner }).waitFor();
  // The guest's own pointer rests on the canvas where the drag ended: the owner sees it too.
  await owner.getByTestId('remote-pointer').filter({ hasText: names.guest }).waitFor();
  await owner.mouse.move(stage.x + stage.width * 0.4, stage.y + stage.height * 0.35, { steps: 3 });
  await guest.waitForTimeout(300);
  await sideBySide(owner, guest, `${ARTIFACTS}collaboration.png`);

  // The pointer leaves the canvas: its marker goes.
  await owner.mouse.move(stage.x + stage.width / 2, Math.max(1, stage.y - 60));
  await pointer.waitFor({ state: 'detached' });
});

test('the owner removes the guest, whose editor says they no longer have access', async () => {
  await owner.getByRole('button', { name: 'Share' }).click();
  const dialog = owner.getByRole('dialog', { name: /^Share/ });
  const members = dialog.getByRole('list', { name: 'People with access' });
  await members.getByText(names.guest).waitFor();
  await members.getByRole('button', { name: `Remove ${names.guest}` }).click();
  await members.getByText(names.guest).waitFor({ state: 'detached' });
  await guest.getByTestId('no-access').waitFor();
  await guest.getByRole('heading', { name: 'You no longer have access to this scene' }).waitFor();
  await guest.screenshot({ path: `${ARTIFACTS}no-access.png` });
  await avatar(owner, `${names.guest}, editor`).waitFor({ state: 'detached' });
  await owner.screenshot({ path: `${ARTIFACTS}share-dialog.png` });

  // Revoke the editor link; opening it again says so.
  await dialog.getByRole('button', { name: 'Revoke the editor link' }).click();
  await dialog.getByLabel('Invitation link for an editor').waitFor({ state: 'detached' });
  await owner.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await guest.goto(links.editor);
  await guest.getByText('This invitation link was revoked or never existed.').waitFor();
  await guest.screenshot({ path: `${ARTIFACTS}invite-revoked.png` });
  await guestContext.close();
});

test('a viewer link opens a read-only editor that still streams', async () => {
  const { context, page: viewer } = await newPerson();
  await viewer.goto(links.viewer);
  await viewer.waitForURL(/\/scenes\//);
  const seen = await waitForSettledCanvas(viewer);
  assert.equal(changedPixels(await readCanvas(owner), seen).length, 0);
  await viewer.getByText('You are watching this scene').waitFor();
  assert.equal(await viewer.getByRole('region', { name: 'Add an object' }).count(), 0);
  assert.equal(await viewer.getByRole('button', { name: 'Share' }).count(), 0);
  assert.equal(await viewer.getByRole('button', { name: 'Undo' }).isVisible(), false);
  const viewerName = (await whoAmI(viewer)).displayName;
  await avatar(owner, `${viewerName}, viewer`).waitFor();
  await context.close();
  await avatar(owner, `${viewerName}, viewer`).waitFor({ state: 'detached' });
  assert.deepEqual(session.problems, []);
});

test('your name, colour and API tokens on /settings; others see the new name', async () => {
  const sceneUrl = owner.url();
  await owner.getByRole('link', { name: /^You: / }).click();
  await owner.waitForURL(/\/settings$/);
  const profile = owner.getByRole('region', { name: 'You' });
  await profile.getByLabel('Name').fill('Ada Lovelace');
  await profile.getByLabel('Colour').fill('#ffcc00');
  await profile.getByRole('button', { name: 'Save' }).click();
  await profile.getByText('Saved.').waitFor();
  await owner.getByRole('link', { name: 'You: Ada Lovelace. Your name, colour and API tokens' }).waitFor();

  const tokens = owner.getByRole('region', { name: 'Personal API tokens' });
  await tokens.getByLabel('Token name').fill('render script');
  await tokens.getByRole('button', { name: 'Create token' }).click();
  const secret = await tokens.getByLabel('New token').inputValue();
  assert.match(secret, /^strata_pat_/);
  await tokens.getByRole('cell', { name: 'render script', exact: true }).waitFor();
  const asToken = await owner.request.post('/graphql', {
    data: { query: '{ me { displayName } }' },
    headers: { authorization: `Bearer ${secret}` },
  });
  assert.equal((await asToken.json()).data.me.displayName, 'Ada Lovelace', 'the token acts as you');
  await owner.screenshot({ path: `${ARTIFACTS}settings.png` });
  await tokens.getByRole('button', { name: 'Revoke render script' }).click();
  await tokens.getByText('No tokens yet.').waitFor();
  const revoked = await owner.request.post('/graphql', {
    data: { query: '{ me { displayName } }' },
    headers: { authorization: `Bearer ${secret}` },
  });
  assert.equal((await revoked.json()).errors[0].extensions.code, 'UNAUTHENTICATED');

  // A viewer who is in the scene sees the owner's new name once the owner is back.
  const { context, page: viewer } = await newPerson();
  await viewer.goto(links.viewer);
  await viewer.waitForURL(/\/scenes\//);
  await owner.goto(sceneUrl);
  await avatar(viewer, 'Ada Lovelace, owner').waitFor();
  await avatar(owner, 'Ada Lovelace (you), owner').waitFor();
  await context.close();
  assert.deepEqual(session.problems, []);
});
