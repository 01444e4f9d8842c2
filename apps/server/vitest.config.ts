import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.js';

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: ['test/fixtures/**'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // Inference workers use both cores: run files one after another.
      fileParallelism: false,
      pool: 'forks',
      setupFiles: ['test/setup.ts'],
    },
  }),
);
