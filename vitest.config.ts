import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/embed-assets.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two cores on CI machines: run files in parallel, one worker per core.
    pool: 'forks',
    maxWorkers: 2,
  },
});
