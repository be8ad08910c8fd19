import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/embed-assets.ts'],
    // The accuracy suite runs 1,000 SqueezeNet images on the TypeScript path: ~500 s on a 2-core machine.
    testTimeout: 900_000,
    hookTimeout: 600_000,
    // Two cores on CI machines: run files in parallel, one worker per core.
    pool: 'forks',
    maxWorkers: 2,
  },
});
