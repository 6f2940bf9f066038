/**
 * The Mac path against a real builder VM (npm run test:vm): a debootstrapped Debian guest in QEMU
 * behind test/vm/bin/limactl. Kept out of `npm test`, which stays within CI's time budget.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/integration/lima-real-vm.test.ts'],
    setupFiles: ['test/setup-scratch.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
