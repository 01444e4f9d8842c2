// One linter for the monorepo. Import rules keep the architecture visible: transport -> GraphQL ->
// domain -> infrastructure, and no package reaches into another's src/.
import tseslint from 'typescript-eslint';

const noCrossSrc = {
  group: ['@strata/*/src/*', '../../packages/*', '../../apps/*'],
  message: "Import a package through its public entry ('@strata/schema', '@strata/schema/client'), never its src/.",
};

/** Engine drivers: only src/infrastructure/<engine>/ may import them. */
const drivers = (message) =>
  ['onnxruntime-node', 'better-sqlite3', 'pg', 'ioredis', 'redis', 'bullmq', 'rate-limiter-flexible', 'prom-client'].map((name) => ({
    name,
    message,
  }));

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/.next/**',
      '**/node_modules/**',
      '**/generated.ts',
      'models/training/**',
      '**/*.tsbuildinfo',
      'apps/web/next-env.d.ts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-imports': ['error', { patterns: [noCrossSrc] }],
    },
  },
  {
    files: ['apps/server/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...drivers('The domain uses ports (src/domain/ports.ts); engines live in src/infrastructure/<engine>.'),
            { name: 'express', message: 'HTTP lives in src/transport.' },
            { name: 'ws', message: 'WebSockets live in src/transport.' },
            { name: 'graphql', message: 'GraphQL lives in src/graphql.' },
          ],
          patterns: [
            noCrossSrc,
            {
              group: ['**/infrastructure/**', '**/transport/**', '**/graphql/**', '**/app.js', '**/config.js'],
              message: 'The domain depends on ports, not on outer layers.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/server/src/graphql/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: drivers('Only src/infrastructure talks to engines.'),
          patterns: [
            noCrossSrc,
            { group: ['**/transport/**'], message: 'GraphQL does not know its transports.' },
            {
              group: ['**/infrastructure/**'],
              message: 'GraphQL sees domain services only; callers are built at the transport edge (src/transport/callers.ts).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/schema/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@strata/server', '@strata/web', '**/apps/**'], message: 'packages/schema imports nothing from apps/.' }] },
      ],
    },
  },
);
