// One linter for the monorepo. Import rules keep the architecture visible: transport -> GraphQL ->
// domain -> infrastructure, and no package reaches into another's src/.
import tseslint from 'typescript-eslint';

const noCrossSrc = {
  group: ['@strata/*/src/*', '../../packages/*', '../../apps/*'],
  message: "Import a package through its public entry ('@strata/schema', '@strata/schema/client'), never its src/.",
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/.next/**', '**/node_modules/**', '**/generated.ts', 'models/training/**', '**/*.tsbuildinfo', 'apps/web/next-env.d.ts'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
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
            { name: 'onnxruntime-node', message: 'Inference lives in src/infrastructure/onnx; the domain uses the InferenceEngine port.' },
            { name: 'better-sqlite3', message: 'Storage lives in src/infrastructure; the domain uses the SceneStore port.' },
            { name: 'express', message: 'HTTP lives in src/transport.' },
            { name: 'ws', message: 'WebSockets live in src/transport.' },
          ],
          patterns: [noCrossSrc, { group: ['../infrastructure/*', '../transport/*', '../graphql/*'], message: 'The domain depends on ports, not on outer layers.' }],
        },
      ],
    },
  },
  {
    files: ['apps/server/src/graphql/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'onnxruntime-node', message: 'Only src/infrastructure imports onnxruntime-node.' }, { name: 'better-sqlite3', message: 'Only src/infrastructure imports database drivers.' }], patterns: [noCrossSrc, { group: ['../transport/*'], message: 'GraphQL does not know its transports.' }] },
      ],
    },
  },
  {
    files: ['packages/schema/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@strata/server', '@strata/web', '**/apps/**'], message: 'packages/schema imports nothing from apps/.' }] }] },
  },
);
