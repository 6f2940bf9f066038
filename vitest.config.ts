import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    setupFiles: ['test/setup-scratch.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Integration tests share loop devices and the fixture cache: run files one at a time.
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
