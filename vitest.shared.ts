import { createRequire } from 'node:module';
import type { UserConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * Vite prefers graphql's ESM build while type-graphql (CommonJS) requires the CJS one: two copies
 * of graphql in one process break `instanceof`. Node itself loads the CJS build, so tests do too.
 */
export const sharedConfig: UserConfig = {
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
};
