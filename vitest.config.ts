import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    setupFiles: ['test/setup-scratch.ts'],
    // Generous: a busy 2-core CI machine runs real disk tools on card images.
    testTimeout: 600_000,
    hookTimeout: 900_000,
    // Integration tests share loop devices and the fixture cache: run files one at a time.
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
