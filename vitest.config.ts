import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    // The real builder VM boots a QEMU guest (3-8 min on 2 cores): npm run test:vm.
    exclude: ['**/node_modules/**', 'test/integration/lima-real-vm.test.ts'],
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
