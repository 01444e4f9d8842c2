#!/usr/bin/env node
/**
 * `npm start`: the API and the web app on one port, on the embedded default (SQLite file and
 * PNG blobs under ./data, in-process pub/sub and queue, CPU inference unless CUDA is installed).
 * Configuration comes from the environment; see the README.
 */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import next from 'next';
import { createApp, loadConfig } from '@strata/server';

const webDir = fileURLToPath(new URL('../apps/web', import.meta.url));

async function main() {
  if (!existsSync(`${webDir}/.next/BUILD_ID`)) throw new Error('the web app is not built: run `npm run build` (npm start does it for you)');
  const config = loadConfig();
  const web = next({ dev: false, dir: webDir, quiet: true });
  await web.prepare();
  const handle = web.getRequestHandler();
  const app = await createApp(config, { httpFallback: (req, res) => handle(req, res) });
  const { url } = await app.start();
  const shown = url.replace('127.0.0.1', 'localhost');
  process.stdout.write(
    `\n  strata is running (models ${app.model.version}, ${app.provider}, data in ${config.dataDir})\n\n` +
      `  Open ${shown}            the web app\n` +
      `       ${shown}/graphql    the GraphQL API (HTTP and WebSocket)\n\n`,
  );
  const stop = () => app.stop().then(() => web.close?.()).finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  process.stderr.write(`strata: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
