import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    // expect.poll waits for something eventually true (a page drawn, a message heard); 1 s (the
    // default) is short on a loaded 2-core machine running two test files and a browser at once.
    expect: { poll: { timeout: 5_000 } },
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
