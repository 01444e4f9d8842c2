#!/usr/bin/env node
/** Start the API server from the environment; Ctrl-C drains and stops it. */
import { createApp } from './app.js';
import { loadConfig } from './config.js';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.role === 'worker') throw new Error('STRATA_ROLE=worker is an inference worker: start it with `node apps/worker/dist/main.js`');
  const app = await createApp(config);
  const { url } = await app.start();
  process.stderr.write(`strata API listening on ${url}/graphql (models ${app.model.version}, ${app.provider})\n`);
  const shutdown = () => {
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`strata: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
