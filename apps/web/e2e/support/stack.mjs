/**
 * The real stack for browser tests: the API server (`@strata/server`) with the built Next.js app as its
 * HTTP fallback, on one ephemeral port and a throwaway data folder. It mirrors `scripts/start.mjs`.
 * Run it alone (`node e2e/support/stack.mjs`) to poke at the app by hand.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { createApp, loadConfig } from '@strata/server';

const WEB_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** Start server + web app; resolves with the base URL and a `stop()` that removes the data folder. */
export async function startStack({ log = 'error' } = {}) {
  if (!existsSync(join(WEB_DIR, '.next', 'BUILD_ID'))) {
    throw new Error('apps/web has no production build: run `npm run build -w @strata/web` (or the root `npm test`) first');
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
  const web = next({ dir: WEB_DIR, dev: false, quiet: true });
  await web.prepare();
  const handle = web.getRequestHandler();
  const config = loadConfig({ ...process.env, STRATA_DATA_DIR: dataDir, STRATA_LOG: log });
  const app = await createApp(config, { httpFallback: (req, res) => handle(req, res) });
  const { url, port } = await app.start({ port: 0, host: '127.0.0.1' });
  return {
    url,
    port,
    app,
    async stop() {
      await app.stop();
      await web.close?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  const stack = await startStack({ log: 'info' });
  console.log(`strata (test stack) at ${stack.url}`);
  const stop = () => stack.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
