/**
 * Four lanes, each one file at a time (test/run-lanes.mjs runs them side by side, as npm test does):
 *   disk  integration and end-to-end tests: real disk tools on loop devices and card images;
 *   disk2 the same kind, the phases that write and shrink cards (DISK2): the two disk lanes share
 *         loop devices through losetup's own allocation, and every test names its own cards;
 *   unit  unit and component tests (some build small fixtures, none hold a loop device for long);
 *   vm    the Mac path against a real builder VM (test/vm: a Debian guest in QEMU), which mostly
 *         waits on the guest.
 * `vitest run --project NAME` runs one lane (npm run test:vm is the vm lane); a plain `vitest run`
 * runs the four one after the other.
 */
import { defineConfig } from 'vitest/config';

const REAL_VM = 'test/integration/lima-real-vm.test.ts';

/** The second disk lane: the phases that write and shrink cards (about half of the disk lane's time). */
const DISK2 = [
  'write-pipeline',
  'shrink-verify',
  'clone-restore',
  'shrink-dist',
  'image-paths',
  'flash',
  'flash-smaller',
  'flash-not-an-image',
  'erase',
  'restore-smaller',
  'restore-fsck',
  'restore-received-set',
  'clone-compression',
  'clone-layout',
  'shrink-fat',
  'shrink-tool-failures',
  'ods-sd-sets',
  'plymouth-one-file',
  'verify-card-link',
].map((n) => `test/integration/${n}.test.ts`);

const shared = {
  setupFiles: ['test/setup-scratch.ts'],
  // Generous: a busy 2-core CI machine runs real disk tools on card images.
  testTimeout: 600_000,
  hookTimeout: 900_000,
  // The app's screens refresh from real tools (limactl, losetup): on a loaded machine that can take
  // longer than expect.poll's default second.
  expect: { poll: { timeout: 30_000, interval: 100 } },
  // Within a lane, files share loop devices and the fixture cache: one file at a time.
  fileParallelism: false,
};

export default defineConfig({
  test: {
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
    projects: [
      {
        test: {
          ...shared,
          name: 'disk',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['**/node_modules/**', REAL_VM, ...DISK2],
        },
      },
      { test: { ...shared, name: 'disk2', include: DISK2 } },
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/renderer/**/*.test.{ts,tsx}'],
        },
      },
      { test: { ...shared, name: 'vm', include: [REAL_VM] } },
    ],
  },
});
