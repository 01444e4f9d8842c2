/**
 * How much the page does per streamed frame. Builds a scene of N objects in the real stack, then rerolls
 * its background (every step repaints) and measures, in the browser: the time from the click to the
 * last frame on the canvas, the DOM mutations per painted frame (only the canvas, one layer row and the
 * progress line should change), and the longest main-thread task (a frame of jank is ~16 ms; Chromium
 * reports tasks over 50 ms). Run: `npm run bench:stream -w @strata/web` (after `npm run build`).
 */
import { createScene, openSession, readCanvas, waitForSettledCanvas } from '../e2e/support/editor.mjs';

const SIZES = (process.env.BENCH_LAYERS ?? '4,16').split(',').map(Number);

async function addObjects(page, count) {
  const query = `mutation($id: ID!, $input: AddObjectInput!) { addObject(sceneId: $id, input: $input) { revision } }`;
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  for (let i = 0; i < count; i++) {
    const box = { x: (i % 4) * 0.24 + 0.02, y: Math.floor(i / 4) * 0.24 + 0.02, w: 0.2, h: 0.2 };
    await page.request.post('/graphql', { data: { query, variables: { id, input: { category: 'tree', box } } } });
  }
}

async function measure(page) {
  const before = await readCanvas(page);
  await page.evaluate(() => {
    const state = (window.__bench = { mutations: 0, longest: 0, longTasks: 0, started: performance.now() });
    new MutationObserver((records) => (state.mutations += records.length)).observe(document.querySelector('.editor'), {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        state.longTasks++;
        state.longest = Math.max(state.longest, entry.duration);
      }
    }).observe({ type: 'longtask' });
  });
  await page.getByRole('button', { name: 'Reroll background' }).click();
  await waitForSettledCanvas(page, before.frame, 60_000);
  return page.evaluate(() => ({ ...window.__bench, elapsed: performance.now() - window.__bench.started }));
}

const session = await openSession();
const rows = [];
try {
  for (const layers of SIZES) {
    const { page } = session;
    await createScene(page, session.url, `Bench ${layers}`, 'day');
    await addObjects(page, layers);
    await page.waitForFunction((n) => document.querySelectorAll('.layer-row[data-state="DONE"]').length === n, layers, { timeout: 60_000 });
    await waitForSettledCanvas(page);
    const seqBefore = (await page.evaluate(() => window.__strata.events.at(-1).seq)) ?? 0;
    const result = await measure(page);
    const frames = await page.evaluate(
      (seq) => window.__strata.events.filter((e) => e.seq > seq && e.type === 'FrameRendered').length,
      seqBefore,
    );
    rows.push({
      layers,
      'frames streamed': frames,
      'click to last frame (ms)': Math.round(result.elapsed),
      'DOM mutations per frame': (result.mutations / frames).toFixed(1),
      'long tasks (>50 ms)': result.longTasks,
      'longest task (ms)': Math.round(result.longest),
    });
  }
} finally {
  await session.close();
}
console.table(rows);
