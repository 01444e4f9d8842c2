import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { UserConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const graphqlDir = dirname(require.resolve('graphql'));

/**
 * Vite prefers graphql's ESM build (.mjs) while type-graphql (CommonJS) requires the CJS one: two
 * copies of graphql in one process break `instanceof`. Node itself loads the CJS build, so tests
 * resolve every graphql import, subpaths included, to it too.
 */
export const sharedConfig: UserConfig = {
  resolve: {
    alias: [
      { find: /^graphql$/, replacement: `${graphqlDir}/index.js` },
      { find: /^graphql\/(.+?)(\.m?js)?$/, replacement: `${graphqlDir}/$1.js` },
    ],
  },
};
