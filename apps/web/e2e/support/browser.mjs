/** Debian's Chromium driven by playwright-core, and helpers to read what the editor shows. */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

/** Launch Chromium for a closed network (flags from TRAPS.md). */
export async function launchBrowser() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** The scene canvas's native pixels (RGBA bytes) and the frame URL it shows. */
export async function readCanvas(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-testid="scene-canvas"]');
    const context = canvas.getContext('2d');
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    return { width: canvas.width, height: canvas.height, frame: canvas.getAttribute('data-frame'), data: Array.from(data) };
  });
}

/** Decode PNG bytes in the page (the browser's own decoder) to RGBA bytes. */
export async function decodePng(page, bytes) {
  return page.evaluate(async (base64) => {
    const blob = await (await fetch(`data:image/png;base64,${base64}`)).blob();
    const bitmap = await createImageBitmap(blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext('2d');
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width: bitmap.width, height: bitmap.height, data: Array.from(data) };
  }, Buffer.from(bytes).toString('base64'));
}

/** Indices (y * width + x) of pixels that differ between two RGBA images of one size. */
export function changedPixels(a, b) {
  const changed = [];
  for (let i = 0; i < a.data.length; i += 4) {
    if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) changed.push(i / 4);
  }
  return changed;
}

/** Wait until every step is painted and the canvas shows a frame other than `previousFrame`. */
export async function waitForSettledCanvas(page, previousFrame = null, timeout = 20_000) {
  await page.waitForFunction(
    (previous) => {
      const canvas = document.querySelector('[data-testid="scene-canvas"]');
      const progress = document.querySelector('.render-progress');
      const frame = canvas?.getAttribute('data-frame');
      const settled = frame && frame === canvas.getAttribute('data-want');
      return progress?.getAttribute('data-state') === 'done' && settled && frame !== previous;
    },
    previousFrame,
    { timeout },
  );
  return readCanvas(page);
}
