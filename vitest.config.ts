import { defineConfig } from 'vitest/config';

// Test tiers by file suffix (CONVENTIONS #12). `npm test` runs what a fresh machine can run
// (unit + e2e on the embedded wheel); `npm run test:int` needs the real services.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/**/*.unit.test.ts'], testTimeout: 30_000 } },
      // The evaluations simulate 1,500 sessions per pass (~80 s on 2 busy cores): the timeout is a
      // guard against a hang, not a speed check (benchmarks measure speed).
      { test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], testTimeout: 300_000 } },
      {
        test: {
          name: 'int',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/int/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
